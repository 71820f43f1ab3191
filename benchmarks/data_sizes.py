"""The data-sized model over numbers of observations, beside the hand-written Op.

Run ``python benchmarks/data_sizes.py [sizes...]`` (default 100 to 100,000
observations): logp+dlogp per call of :mod:`data_model`'s model with implicitop's op
(its full solver) and with the hand-written vectorised-SciPy Op, timed in turn
(:func:`run.alternating_best`), one row per size. Below
:data:`~implicitop._solvers.parallel.THREADED_FROM` observations the op solves on one
thread; NumPy's per-call overhead weighs most on small sizes.
"""

from __future__ import annotations

import sys

import data_model
import run

SIZES = (100, 500, 1000, 2000, 4000, 10_000, 30_000, 100_000)


def main(sizes: tuple[int, ...] = SIZES, rounds: int = 8, full_solver: bool = True) -> None:
    """Print the table for ``sizes``, each timed ``rounds`` times in turn (the op with
    its full solver loaded first, unless ``full_solver`` is false: a smoke run)."""
    op = run.data_op()
    if full_solver:
        run.measured(op)
    print("| observations | implicitop (ms) | hand-written Op (ms) | ratio |")
    print("|---|---|---|---|")
    for size in sizes:
        calls = [
            run.logp_dlogp_call(data_model.data_model(mu_of, size))
            for mu_of in (op, data_model.VectorNewtonOp())
        ]
        number = max(2, 200_000 // size)
        ours, theirs = run.alternating_best(calls, rounds, number)
        print(f"| {size} | {ours * 1e3:.4g} | {theirs * 1e3:.4g} | {theirs / ours:.1f}x |")


if __name__ == "__main__":
    main(tuple(int(size) for size in sys.argv[1:]) or SIZES)
