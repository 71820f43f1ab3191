"""CPU seconds numba takes to compile the solvers on an empty kernel cache.

Run ``python benchmarks/compile_time.py`` for this checkout, or
``python benchmarks/compile_time.py --against REV`` to measure the git revision ``REV``
too, alternating between the two in new processes (the machine's speed drifts: only
measurements of the same sitting compare). Each process imports implicitop, then
times, on a kernel cache of its own:

- the first solve of the seed residual: the shared one-equation solver (once per
  installation) and the problem's element functions;
- the seed's full solver (compiled in the background for each new problem);
- the same two for a 2x2 system (the shared solver of systems).

CPU time, not wall time, so that a busy second core does not count.
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
from pathlib import Path

from cold_start import run_values

ROOT = Path(__file__).resolve().parent.parent

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
#: What MEASURE prints, in order.
STEPS = (
    "one equation: shared solver + elements",
    "one equation: full solver",
    "2x2 system: shared solver + elements",
    "2x2 system: full solver",
)


def measure(source: Path) -> dict[str, float]:
    """CPU seconds of each step in a new process running implicitop from ``source``
    (a ``src`` folder) on an empty kernel cache."""
    with tempfile.TemporaryDirectory() as cache:
        environment = {
            "PYTHONPATH": str(source),
            "IMPLICITOP_CACHE_DIR": cache,
            "IMPLICITOP_BACKGROUND_COMPILE": "0",
        }
        return dict(zip(STEPS, run_values(MEASURE, environment), strict=True))


def checkout(revision: str, folder: Path) -> Path:
    """The ``src`` folder of ``revision``, exported into ``folder``."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", revision, "src"],
        capture_output=True,
        check=True,
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder / "src"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", help="a git revision to measure alternately with this one")
    parser.add_argument("--rounds", type=int, default=2, help="processes per version")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        versions = {"this checkout": ROOT / "src"}
        if args.against:
            versions[args.against] = checkout(args.against, Path(folder))
        results: dict[str, list[dict[str, float]]] = {name: [] for name in versions}
        for _ in range(args.rounds):
            for name, source in versions.items():
                results[name].append(measure(source))
    names = list(versions)
    print("| step | " + " | ".join(f"{name} (CPU s)" for name in names) + " |")
    print("|---|" + "---|" * len(names))
    for step in STEPS:
        cells = [", ".join(f"{run[step]:.1f}" for run in results[name]) for name in names]
        print(f"| {step} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
