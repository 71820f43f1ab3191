"""Run the project's scripts as a user would (a new Python process), and check what
they print."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_script(path: Path, *args: str, timeout: float = 900) -> str:
    """Run ``python path *args``; fail the test with its stderr unless it exits 0."""
    completed = subprocess.run(
        [sys.executable, str(path), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return completed.stdout


def assert_printed_ratio(ratio: str, numerator: str, denominator: str) -> None:
    """``ratio`` (one decimal, as printed, maybe ending in ``x``) is that of the printed
    numbers, give or take its rounding (0.05) and theirs (four significant digits: a
    part in 1e3 of it)."""
    recomputed = float(numerator) / float(denominator)
    tolerance = 0.05 + 1.1e-3 * recomputed
    assert abs(float(ratio.rstrip("x")) - recomputed) <= tolerance, (ratio, recomputed)
