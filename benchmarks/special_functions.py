"""A residual over special functions: the gamma distribution's maximum-likelihood shape.

Run ``python benchmarks/special_functions.py [size]`` (default 10,000). For each of
``size`` samples' statistics ``s = log(mean x) - mean(log x)`` (log-uniform over
1e-3..20), the shape ``a`` solves ``log(a) - digamma(a) = s``; the slope of the
residual is ``1/a - trigamma(a)``. Timed in turn (:func:`run.alternating_best`):

- implicitop's ``op.solve`` (the full solver; ``polygamma`` compiled, as SciPy computes it);
- what a user writes by hand: one vectorised ``scipy.optimize.newton`` call from Minka's
  closed-form start ``(3 - s + sqrt((s - 3)^2 + 24 s)) / (12 s)``, with SciPy's
  ``digamma`` and ``polygamma`` (SciPy's default ``tol``, 1.48e-8);
- the same solver as plain Python over SciPy (how implicitop ran this residual before
  ``polygamma`` compiled), on a tenth of the sizes and scaled up.

All three agree with ``brentq`` (printed: the largest relative difference).
"""

from __future__ import annotations

import sys

import numpy as np
import run
import sympy as sp
from scipy import optimize, special

from implicitop import make_implicit_op
from implicitop._solvers.compiled import plain_kernels
from implicitop._solvers.solver import parameter_rows


def statistics(size: int) -> np.ndarray:
    """``s`` for ``size`` samples, log-uniform over 1e-3..20 (a fixed seed)."""
    return 10 ** np.random.default_rng(5).uniform(-3, np.log10(20), size)


def by_hand(s: np.ndarray) -> np.ndarray:
    """Vectorised Newton from Minka's closed-form start."""
    start = (3 - s + np.sqrt((s - 3) ** 2 + 24 * s)) / (12 * s)
    return optimize.newton(
        lambda a: np.log(a) - special.digamma(a) - s,
        start,
        fprime=lambda a: 1 / a - special.polygamma(1, a),
    )


def main(size: int = 10_000, rounds: int = 5) -> None:
    """Print the table for ``size`` statistics."""
    a, t = sp.symbols("a s", positive=True)
    op = run.measured(make_implicit_op(sp.log(a) - sp.digamma(a) - t, a, t))
    s = statistics(size)
    tenth = s[: max(size // 10, 1)]
    plain = plain_kernels(op.solver.problem, op.solver.starts)
    rows = parameter_rows([tenth])
    root, code = np.empty((tenth.size, 1)), np.empty(tenth.size, dtype=np.int8)

    def plain_python() -> None:
        with np.errstate(all="ignore"):
            plain.solve(rows, op.solver.settings.record, root, code)

    ours, theirs, slow = run.alternating_best(
        [lambda: op.solve(s), lambda: by_hand(s), plain_python], rounds, number=1
    )
    slow *= size / tenth.size
    reference = np.array(
        [
            optimize.brentq(
                lambda x, v=v: np.log(x) - special.digamma(x) - v,
                1e-12,
                1e12,
                xtol=1e-300,
                rtol=8.9e-16,
                maxiter=1000,
            )
            for v in s[:200]
        ]
    )
    plain_python()
    differences = {
        "implicitop": op.solve(s[:200]).root,
        "by hand": by_hand(s[:200]),
        "plain Python": root[: min(200, tenth.size), 0],
    }
    print(f"gamma shape MLE, {size} roots: ms per call, ratio to implicitop")
    print("| solver | ms | ratio | largest relative difference from brentq |")
    print("|---|---|---|---|")
    for name, seconds in (("implicitop", ours), ("by hand", theirs), ("plain Python", slow)):
        found = differences[name]
        gap = np.max(np.abs(found / reference[: found.size] - 1))
        print(f"| {name} | {seconds * 1e3:.4g} | {seconds / ours:.1f}x | {gap:.1e} |")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
