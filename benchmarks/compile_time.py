"""CPU seconds numba takes to compile the solvers on an empty kernel cache.

Run ``python benchmarks/compile_time.py`` for this checkout, or
``python benchmarks/compile_time.py --against REV`` to measure the git revision ``REV``
too, alternating between the two in new processes (the machine's speed drifts: only
measurements of the same sitting compare). Each process imports implicitop, then
times, on a kernel cache of its own:

- the first solve of the seed residual: the shared one-equation solver (once per
  installation) and the problem's element functions;
- the seed's full solver (compiled in the background for each new problem);
- the same two for a 2x2 system (the shared solver of systems);

then, in a second process on the same kernel cache, the full solver of another 2x2
system (a user's next residual: the shared solver loads from disk, and whatever numba
compiled for the first process's solvers is compiled again).

CPU time, not wall time, so that a busy second core does not count.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from cold_start import run_values
from revisions import compare

MEASURE = """
import time
import sympy as sp
from implicitop import make_implicit_op

def cpu(step):
    start = time.process_time()
    step()
    return time.process_time() - start

mu, theta = sp.symbols("mu theta", positive=True)
a, b = sp.symbols("a b", real=True)
seed = make_implicit_op(mu + mu * sp.exp(theta * mu) - 1, mu, theta)
system = make_implicit_op([a**2 + b**2 - theta, a - b], [a, b], theta, x0=[1.0, 1.0])
print(
    cpu(lambda: seed.solve(1.0)),
    cpu(lambda: seed.solver.kernels.c_address),
    cpu(lambda: system.solve(1.0)),
    cpu(lambda: system.solver.kernels.c_address),
)
"""
NEXT_SYSTEM = """
import time
import sympy as sp
from implicitop import make_implicit_op

a, b, theta = sp.symbols("a b theta", real=True)
system = make_implicit_op([a**2 + 2 * b**2 - theta, a - b], [a, b], theta, x0=[1.0, 1.0])
system.solve(1.0)
start = time.process_time()
system.solver.kernels.c_address
print(time.process_time() - start)
"""
#: What MEASURE, then NEXT_SYSTEM print, in order.
STEPS = (
    "one equation: shared solver + elements",
    "one equation: full solver",
    "2x2 system: shared solver + elements",
    "2x2 system: full solver",
    "another 2x2 system, new process: full solver",
)


def measure(source: Path, own: Path) -> dict[str, float]:
    """CPU seconds of each step in new processes running implicitop from ``source``
    (a ``src`` folder) on an empty kernel cache (``own`` is not used): MEASURE's
    process, then NEXT_SYSTEM's."""
    with tempfile.TemporaryDirectory() as cache:
        environment = {
            "PYTHONPATH": str(source),
            "IMPLICITOP_CACHE_DIR": cache,
            "IMPLICITOP_BACKGROUND_COMPILE": "0",
        }
        values = run_values(MEASURE, environment) + run_values(NEXT_SYSTEM, environment)
        return dict(zip(STEPS, values, strict=True))


if __name__ == "__main__":
    compare(__doc__.splitlines()[0], STEPS, measure, "CPU s")
