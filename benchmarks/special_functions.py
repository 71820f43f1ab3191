"""A residual over special functions: the gamma distribution's maximum-likelihood shape.

Run ``python benchmarks/special_functions.py [size]`` (default 10,000). For each of
``size`` samples' statistics ``s = log(mean x) - mean(log x)`` (log-uniform over
1e-3..20), the shape ``a`` solves ``log(a) - digamma(a) = s``; the slope of the
residual is ``1/a - trigamma(a)``. Timed in turn (:func:`run.alternating_best`):

- implicitop's ``op.solve`` (the full solver; ``polygamma`` compiled, by SciPy's
  algorithm), from its default start and from Minka's (``x0``, as by hand);
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


def main(size: int = 10_000, rounds: int = 5, full_solver: bool = True) -> None:
    """Print the table for ``size`` statistics, each solver timed ``rounds`` times in
    turn (implicitop's with its full solvers loaded first, unless ``full_solver`` is
    false: a smoke run)."""
    a, t = sp.symbols("a s", positive=True)
    residual = sp.log(a) - sp.digamma(a) - t
    minka = (3 - t + sp.sqrt((t - 3) ** 2 + 24 * t)) / (12 * t)
    ops = [make_implicit_op(residual, a, t), make_implicit_op(residual, a, t, x0=minka)]
    if full_solver:
        ops = [run.measured(op) for op in ops]
    s = statistics(size)
    tenth = s[: max(size // 10, 1)]
    plain = plain_kernels(ops[0].solver.problem, ops[0].solver.starts)
    rows = parameter_rows([tenth])
    root, code = np.empty((tenth.size, 1)), np.empty(tenth.size, dtype=np.int8)

    def plain_python() -> None:
        with np.errstate(all="ignore"):
            plain.solve(rows, ops[0].solver.settings.record, root, code)

    calls = {
        "implicitop": lambda: ops[0].solve(s),
        "implicitop, Minka's start": lambda: ops[1].solve(s),
        "by hand (vectorised newton, Minka's start)": lambda: by_hand(s),
        "implicitop as plain Python (before)": plain_python,
    }
    seconds = dict(zip(calls, run.alternating_best(list(calls.values()), rounds, 1), strict=True))
    seconds["implicitop as plain Python (before)"] *= size / tenth.size
    checked = s[:200]
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
            for v in checked
        ]
    )
    plain_python()
    found = {
        "implicitop": ops[0].solve(checked).root,
        "implicitop, Minka's start": ops[1].solve(checked).root,
        "by hand (vectorised newton, Minka's start)": by_hand(checked),
        "implicitop as plain Python (before)": root[: checked.size, 0],
    }
    print(f"gamma shape MLE, {size} roots: ms per call, and per call of implicitop's")
    print("| solver | ms | ratio | largest relative difference from brentq |")
    print("|---|---|---|---|")
    for name, time_taken in seconds.items():
        gap = np.max(np.abs(found[name] / reference[: found[name].size] - 1))
        ratio = time_taken / seconds["implicitop"]
        print(f"| {name} | {time_taken * 1e3:.4g} | {ratio:.2f}x | {gap:.1e} |")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
