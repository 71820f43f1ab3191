"""``benchmarks/run.py --quick`` runs after the test install and prints every row."""

import os
import re
import subprocess
import sys
from pathlib import Path

RUN = Path(__file__).resolve().parents[1] / "benchmarks" / "run.py"

ROWS = [
    "seed logp+dlogp per call (default backend)",
    "seed logp+dlogp per call (NUMBA backend)",
    "seed pm.sample NUTS",
    "seed nutpie",
    "seed numpyro",
    "seed roots, theta log-uniform",
    "2x2 systems",
    "make_implicit_op + first solve, seed",
    "make_implicit_op + first solve, 3x3",
]


def test_the_benchmark_table_is_complete():
    completed = subprocess.run(
        [sys.executable, str(RUN), "--quick"],
        capture_output=True,
        text=True,
        timeout=1200,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    lines = [line for line in completed.stdout.splitlines() if line.startswith("| ")]
    for row in ROWS:
        assert any(row in line for line in lines), f"missing row {row!r}"
    # every measured row gives a positive number for implicitop
    for line in lines[1:]:
        ours = line.split("|")[2].split()[0]
        assert float(ours) > 0, line
    ratios = [re.search(r"([\d.]+)x \|$", line) for line in lines]
    assert sum(match is not None for match in ratios) >= 8
