"""The framework-neutral core works with PyTensor, PyMC and sympytensor absent."""

import subprocess
import sys
from importlib.util import find_spec
from pathlib import Path

import pytest

SCRIPT = Path(__file__).with_name("without_pytensor.py")


def run_hidden(scenario: str) -> str:
    completed = subprocess.run(
        [sys.executable, str(SCRIPT), scenario], capture_output=True, text=True, timeout=600
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return completed.stdout


def test_problem_and_solvers_import_and_solve_without_pytensor():
    assert run_hidden("solve").split()[-1] == "solved"


@pytest.mark.skipif(find_spec("jax") is None, reason="the jax extra is not installed")
def test_a_plain_jax_function_is_built_on_the_core_without_pytensor():
    assert run_hidden("jax").split()[-1] == "solved"
