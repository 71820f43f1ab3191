"""The package as installed: hard dependencies only what the op needs, optional ones
imported only when used (with an error that names the extra when missing), one
version, the licence in the metadata."""

import importlib.metadata
import re
import subprocess
import sys

import pytest

import implicitop
from references import seed_derivative

HIDE = """
import sys

class Hidden:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == {hidden!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)

sys.meta_path.insert(0, Hidden())
"""
SEED = """
import sympy as sp
from implicitop import make_implicit_op

mu, theta = sp.symbols("mu theta", positive=True)
op = make_implicit_op(mu + mu * sp.exp(theta * mu) - 1, mu, theta)
"""


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=600, check=False
    )


def test_the_hard_dependencies_are_what_the_op_needs():
    required = importlib.metadata.requires("implicitop")
    hard = {re.split(r"[<>=!~ ;\[]", r, maxsplit=1)[0] for r in required if "extra ==" not in r}
    assert hard == {"numpy", "scipy", "sympy", "pytensor", "numba", "sympytensor"}


def test_one_version_and_the_licence_in_the_metadata():
    metadata = importlib.metadata.metadata("implicitop")
    assert metadata["Version"] == implicitop.__version__
    assert metadata["License-Expression"] == "MIT"


def test_importing_implicitop_imports_neither_pytensor_nor_sympy():
    completed = _run(
        "import sys, implicitop\n"
        "print(sorted(m for m in ('pytensor', 'sympy', 'numba', 'jax') if m in sys.modules))"
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert completed.stdout.strip() == "[]"


def _printed_after_the_seed_op(code: str) -> list[str]:
    """The lines a new process prints that builds the seed op (``op``), then runs ``code``."""
    completed = _run("import sys\n" + SEED + code)
    assert completed.returncode == 0, completed.stderr[-2000:]
    return completed.stdout.strip().splitlines()


def test_building_and_using_an_op_imports_neither_jax_nor_dask_nor_hypothesis():
    printed = _printed_after_the_seed_op(
        "import pytensor\n"
        "op.solve(1.0)\n"
        "pytensor.function([], op(0.5))()\n"
        "optional = ('jax', 'hypothesis', 'dask', 'distributed', 'nutpie', 'numpyro')\n"
        "print(sorted(m for m in optional if m in sys.modules))\n"
    )
    assert printed[-1] == "[]"


def test_an_op_and_its_gradient_need_no_pymc_and_sympytensor_still_imports_whole():
    """sympytensor's package imports PyMC (3-4 s); its printer, which the gradient
    needs, is loaded without it. A later ``import sympytensor`` is the whole package."""
    printed = _printed_after_the_seed_op(
        "import pytensor, pytensor.tensor as pt\n"
        "t = pt.dscalar('t')\n"
        "print(pytensor.function([t], pytensor.grad(op(t), t))(0.5))\n"
        "print(sorted(m for m in ('pymc', 'arviz', 'sympytensor') if m in sys.modules))\n"
        "import sympytensor.pytensor\n"
        "from sympytensor import SympyDeterministic, as_tensor\n"
        "print(sympytensor.pytensor.as_tensor is as_tensor, 'pymc' in sys.modules)\n"
    )
    gradient, imported, whole = printed[-3:]
    assert float(gradient) == pytest.approx(seed_derivative(0.5), rel=1e-12)
    assert imported == "[]"
    assert whole == "True True"


@pytest.mark.parametrize(
    ("hidden", "use", "extra"),
    [
        ("hypothesis", "import implicitop.testing", "testing"),
        ("dask", "import implicitop.dask", "dask"),
    ],
)
def test_a_missing_extra_is_named_in_the_error(hidden, use, extra):
    completed = _run(HIDE.format(hidden=hidden) + use)
    assert completed.returncode != 0
    last = completed.stderr.strip().splitlines()[-1]
    assert last.startswith("ImportError:"), completed.stderr[-2000:]
    assert f'pip install "implicitop[{extra}]"' in last
    assert hidden in last
