"""The examples run end to end (with few draws) and print what they show."""

import os
import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def run_example(name: str, *args: str) -> str:
    completed = subprocess.run(
        [sys.executable, str(EXAMPLES / name), *args],
        capture_output=True,
        text=True,
        timeout=900,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return completed.stdout


def test_seed_root_model_example(tmp_path):
    plot = tmp_path / "seed.png"
    output = run_example("seed_root_model.py", "--draws", "100", "--output", str(plot))
    assert "symbolically equal to the page's formula: True" in output
    assert "verify_grad at theta=100000: passed" in output
    assert "theta" in output.split("posterior summary")[1]
    assert plot.stat().st_size > 10_000


def test_shared_data_example():
    output = run_example("shared_data.py", "--draws", "100")
    assert output.count(" | ") == 11  # header and ten fits
    assert "same estimates" in output
    assert "have shape (2, 100, 3)" in output
