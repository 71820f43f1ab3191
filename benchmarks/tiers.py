"""Large batches solved on each tier: the shared solver and the full one, one thread.

Run ``python benchmarks/tiers.py``, or ``python benchmarks/tiers.py --against REV`` to
measure the git revision ``REV`` too, alternating between the two in new processes.
Each process, on a kernel cache of its own kept for the comparison, solves three
batches with ``op.solve`` on one thread (``IMPLICITOP_NUM_THREADS=1``), on the shared
solver (a new residual's first tier), then on the full solver: the data-sized model's
10,000 roots at theta = 1.3 (the best of 300 calls), a million seed roots over theta
log-uniform from 1e-3 to 1e3 (the best of 5) and 10,000 two-unknown systems where a
circle meets a line (the best of 100). It prints microseconds per batch (the seed
roots: per million), and fails if the two tiers' roots differ in a bit.
"""

from __future__ import annotations

from pathlib import Path

from cold_start import run_values
from revisions import compare

MEASURE = """
import time
import numpy as np
import sympy as sp
from implicitop import make_implicit_op

def best(call, repeats):
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - start)
    return min(seconds) * 1e6

mu, theta, x = sp.symbols("mu theta x", positive=True)
u, v = sp.symbols("u v", real=True)
r, a = sp.symbols("r a", positive=True)
rng = np.random.default_rng(0)
observations = np.linspace(0.5, 5.0, 10_000)
thetas = np.exp(rng.uniform(np.log(1e-3), np.log(1e3), 10**6))
radii, slopes = rng.uniform(0.5, 3.0, 10_000), rng.uniform(0.1, 5.0, 10_000)
batches = [
    (make_implicit_op(mu + mu * sp.exp(theta * mu * x) - 1.25, mu, [theta, x]),
     (1.3, observations), 300),
    (make_implicit_op(mu + mu * sp.exp(theta * mu) - 1.0625, mu, theta), (thetas,), 5),
    (make_implicit_op([u**2 + v**2 - r**2, v - a * u], [u, v], [r, a], x0=[1.0, 1.0]),
     (radii, slopes), 100),
]
shared, full = [], []
for op, values, repeats in batches:
    first = op.solve(*values).root
    shared.append(best(lambda: op.solve(*values), repeats))
    op.solver.kernels.c_address  # the full solver, compiled now
    assert op.solve(*values).root.tobytes() == first.tobytes(), "the tiers differ"
    full.append(best(lambda: op.solve(*values), repeats))
print(*shared, *full)
"""
WORKLOADS = (
    "data-sized model, 10,000 roots",
    "1e6 seed roots",
    "10,000 2x2 systems",
)
#: What MEASURE prints, in order.
STEPS = (
    *(f"{workload}: shared solver" for workload in WORKLOADS),
    *(f"{workload}: full solver" for workload in WORKLOADS),
)


def measure(source: Path, own: Path) -> dict[str, float]:
    """Microseconds per batch on each tier, in a new process running implicitop from
    ``source`` (a ``src`` folder) on the kernel cache ``own``, whose markers of finished
    full solvers are removed first: each op starts on the shared solver, and its full
    solver loads from numba's disk cache after the first round."""
    for marker in own.glob("v*/*.full"):
        marker.unlink()
    environment = {
        "PYTHONPATH": str(source),
        "IMPLICITOP_CACHE_DIR": str(own),
        "IMPLICITOP_BACKGROUND_COMPILE": "0",
        "IMPLICITOP_NUM_THREADS": "1",
    }
    return dict(zip(STEPS, run_values(MEASURE, environment), strict=True))


if __name__ == "__main__":
    compare(__doc__.splitlines()[0], STEPS, measure, "us")
