"""The floor under the data-sized model's solve: implicitop's solver against a bare loop.

Run ``python benchmarks/kernel_floor.py [rounds]``. Both solve the data-sized model's
10,000 roots of ``mu + mu*exp(theta*mu*x) - 1`` on one thread, at theta = 0.8 and 1.3:

- implicitop's full solver, called as the op calls it for one thread's share
  (``kernels.solve``);
- a bare loop: Halley's step for :data:`STEPS` rounds (as many as implicitop's phase 1
  takes on these rows) from mu = 0.5, in blocks of 64 lanes that numba vectorises with
  the same vector ``exp``; no domain, overflow, convergence or acceptance checks, no
  statuses, no parameter checks. No safeguarded solver takes less time.

It prints microseconds per batch (the best of ``rounds`` rounds of 50 batches), and
each one's largest relative difference from Brent's roots (``scipy.optimize.brentq``).
"""

from __future__ import annotations

import sys
from functools import partial

import data_model
import numba
import numpy as np
import run

from implicitop._solvers.vector_math import vector_library

ROWS = 10_000
#: Halley rounds of the bare loop: implicitop's phase 1 takes 4 on these rows.
STEPS = 4
#: Lanes the bare loop steps together.
LANES = 64


@numba.njit(error_model="numpy")
def halley_rounds(mu: np.ndarray, a: np.ndarray) -> None:
    """:data:`STEPS` Halley steps on ``mu + mu*exp(a*mu) - 1`` for every lane, in place."""
    for _ in range(STEPS):
        for i in range(LANES):
            growth = np.exp(a[i] * mu[i])
            value = mu[i] + mu[i] * growth - 1.0
            slope = 1.0 + growth * (1.0 + a[i] * mu[i])
            curvature = growth * a[i] * (2.0 + a[i] * mu[i])
            mu[i] -= 2.0 * value * slope / (2.0 * slope * slope - value * curvature)


@numba.njit(error_model="numpy")
def bare_solve(theta: float, x: np.ndarray, out: np.ndarray) -> None:
    """The roots for every ``x`` into ``out``, block by block (the last block padded)."""
    mu, a = np.empty(LANES), np.empty(LANES)
    for start in range(0, x.shape[0], LANES):
        count = min(LANES, x.shape[0] - start)
        for i in range(LANES):
            mu[i] = 0.5
            a[i] = theta * x[start + i if i < count else start]
        halley_rounds(mu, a)
        for i in range(count):
            out[start + i] = mu[i]


def compile_bare_solve() -> None:
    """Compile :func:`bare_solve` with the vector math implicitop uses (LLVM's setting
    holds only while implicitop's code compiles)."""
    with vector_library():
        bare_solve(1.0, np.ones(LANES), np.empty(LANES))


def main(rounds: int = 7) -> None:
    x = data_model.covariate(ROWS)
    op = run.data_op()
    run.measured(op)
    kernels, record = op.solver.kernels, op.solver.record
    compile_bare_solve()
    print(
        "| theta | implicitop (us) | bare Halley loop (us) | ratio "
        "| implicitop vs brentq | bare vs brentq |"
    )
    print("|---|---|---|---|---|---|")
    for theta in (0.8, 1.3):
        rows = np.stack([np.full(ROWS, theta), x], axis=1)
        root, code, out = np.empty((ROWS, 1)), np.empty(ROWS, dtype=np.int8), np.empty(ROWS)
        ours = run.best_time(partial(kernels.solve, rows, record, root, code), rounds, 50)
        floor = run.best_time(partial(bare_solve, theta, x, out), rounds, 50)
        brent = data_model.brent_roots(theta, x, xtol=1e-300)
        ours_error = np.max(np.abs(root[:, 0] / brent - 1))
        bare_error = np.max(np.abs(out / brent - 1))
        print(
            f"| {theta} | {ours * 1e6:.1f} | {floor * 1e6:.1f} | {ours / floor:.1f}x | "
            f"{ours_error:.1e} | {bare_error:.1e} |"
        )


if __name__ == "__main__":
    main(*(int(arg) for arg in sys.argv[1:]))
