"""Systems solved per second, on two threads, for a version of implicitop.

Run ``python benchmarks/systems.py`` for this checkout, or ``--against REV`` to measure
the git revision ``REV`` alternately in new processes (see :mod:`revisions`). Each
process solves 1e5 systems of each kind (the kernels come from a kernel cache kept for
the whole comparison, filled by a first untimed solve) and prints the best of five
rounds: the 2x2 circle-line system and the 3x3 weak acid of ``run.py``'s rows.
"""

from __future__ import annotations

from pathlib import Path

from cold_start import run_values
from revisions import compare

MEASURE = """
import sys, time
import numpy as np
sys.path.insert(0, {benchmarks!r})
from run import circle_line, weak_acid

rng = np.random.default_rng(1)
size = 10**5
problems = [
    (circle_line(), (rng.uniform(0.5, 2.0, size), rng.uniform(0.1, 10.0, size))),
    (weak_acid(), (10 ** rng.uniform(-10, -2, size), 10 ** rng.uniform(-6, 0, size))),
]
rates = []
for op, params in problems:
    op.solve(*params)
    op.solver.kernels.c_address
    best = np.inf
    for _ in range(5):
        start = time.perf_counter()
        result = op.solve(*params)
        best = min(best, time.perf_counter() - start)
    assert result.converged.all()
    rates.append(size / best)
print(*rates)
"""
STEPS = ("2x2 circle meets line", "3x3 weak acid in water")


def measure(source: Path, own: Path) -> dict[str, float]:
    """Systems per second of each kind, implicitop from ``source``, kernels in ``own``."""
    script = MEASURE.format(benchmarks=str(Path(__file__).resolve().parent))
    environment = {"PYTHONPATH": str(source), "IMPLICITOP_CACHE_DIR": str(own)}
    return dict(zip(STEPS, run_values(script, environment), strict=True))


if __name__ == "__main__":
    compare(__doc__.splitlines()[0], STEPS, measure, "systems/s")
