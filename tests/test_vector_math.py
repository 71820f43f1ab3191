"""Phase 1 evaluates a block of elements in vector instructions (libmvec's exp and log
where glibc has it); the scalar path, without the library, solves alike."""

import json
import os
import platform
import re
import subprocess
import sys

import numba
import numpy as np
import pytest
import sympy as sp

from catalogue import CATALOGUE, build_seed, seed_root
from implicitop import make_implicit_op
from implicitop._codegen import element_source
from implicitop._solvers import element_entry, interface, vector_math
from implicitop._solvers.generated import ELEMENTS, elements_source, import_module, write_module

LIBMVEC_MACHINE = sys.platform.startswith("linux") and platform.machine() == "x86_64"


def data_residual_op() -> object:
    """The seed's residual with a covariate: two parameters per element."""
    mu, theta, x = sp.symbols("mu theta x", positive=True)
    return make_implicit_op(mu + mu * sp.exp(theta * mu * x) - 1, mu, [theta, x])


@pytest.mark.skipif(not LIBMVEC_MACHINE, reason="libmvec is glibc's, on x86-64")
@pytest.mark.parametrize("build", [build_seed, data_residual_op], ids=["seed", "two parameters"])
def test_the_block_loop_calls_vector_exp_and_log(build):
    # with more than one parameter, the lanes' parameters must reach the functions as
    # values (lane_parameters), not as an array view LLVM cannot bound
    assert vector_math.library() in ("libmvec", "SVML")
    solver = build().solver
    source = element_source(solver.problem, solver.starts)
    unused = set(interface.__all__) - set(element_entry.CALLED[1])
    module = import_module(write_module(elements_source(solver.problem, source), ELEMENTS), unused)
    with vector_math.vector_library():  # not from the disk cache, which cannot be inspected
        entry = numba.cfunc(element_entry.C_SIGNATURE, error_model="numpy")(
            module.equation_elements.py_func
        )
    code = entry.inspect_llvm()
    for function in ("exp", "log"):
        assert re.search(rf"call <\d+ x double> @_ZGV\w+_{function}\(", code), function


SCALAR_CHILD = """
import json, sys
import numpy as np
sys.path.insert(0, {tests!r})
from catalogue import CATALOGUE
from implicitop._solvers import vector_math
results = {{"library": vector_math.library()}}
for problem in CATALOGUE:
    op = problem.build()
    rng = np.random.default_rng(3)
    values = [rng.uniform(*problem.ranges[s.name], 300) for s in op.solver.problem.params]
    result = op.solve(*values)
    results[problem.name] = [result.root.tolist(), result.status.tolist()]
print(json.dumps(results))
"""


def test_without_the_vector_library_the_solver_finds_the_same_roots():
    """``IMPLICITOP_VECTOR_MATH=0``: scalar exp and log in phase 1, other kernels (the
    cache tells them apart by name, so both kinds share the kernel folder), the same
    statuses and the same roots to rounding."""
    environment = {
        **os.environ,
        "IMPLICITOP_VECTOR_MATH": "0",
        "IMPLICITOP_BACKGROUND_COMPILE": "0",
        "PYTHONWARNINGS": "ignore",
    }
    script = SCALAR_CHILD.format(tests=os.path.dirname(__file__))
    completed = subprocess.run(
        [sys.executable, "-c", script], env=environment, capture_output=True, text=True,
        timeout=900, check=False,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr[-3000:]
    scalar = json.loads(completed.stdout)
    assert scalar["library"] in ("none", "SVML")
    for problem in CATALOGUE:
        op = problem.build()
        rng = np.random.default_rng(3)
        values = [rng.uniform(*problem.ranges[s.name], 300) for s in op.solver.problem.params]
        result = op.solve(*values)
        roots, statuses = scalar[problem.name]
        np.testing.assert_array_equal(result.status, statuses, err_msg=problem.name)
        np.testing.assert_allclose(
            result.root, roots, rtol=problem.plain_rtol, atol=1e-300, err_msg=problem.name
        )


def test_an_element_gets_the_same_bits_wherever_it_sits_in_a_block():
    """Every lane of a block runs the same vector code (padding lanes included), so an
    element's root does not depend on its neighbours or its place in the batch."""
    op = build_seed()
    thetas = np.geomspace(1e-4, 1e4, 201)
    together = op.solve(thetas).root
    reversed_order = op.solve(thetas[::-1]).root[::-1]
    alone = np.array([op.solve(theta).root for theta in thetas[::20]])
    assert together.tobytes() == reversed_order.tobytes()
    assert together[::20].tobytes() == alone.tobytes()
    np.testing.assert_allclose(together[::20], [seed_root(t) for t in thetas[::20]], rtol=1e-14)


USER_MODULE = """
import sys
import numba
import numpy as np
if sys.argv[1] == "with implicitop":
    sys.path.insert(0, {tests!r})
    from catalogue import build_seed
    build_seed().solve(np.geomspace(0.1, 10.0, 100))  # compiles with vector math
@numba.njit(cache=True, error_model="numpy")
def exponentials(x, out):
    for i in range(64):
        out[i] = np.exp(x[i])
x = np.linspace(0.0, 1.0, 64)
out = np.empty(64)
exponentials(x, out)
assert np.allclose(out, np.exp(x))
print(exponentials.stats.cache_hits)
"""


def test_code_compiled_beside_the_solver_runs_where_implicitop_is_not_loaded(tmp_path):
    """LLVM's vector library is set only while implicitop's own modules compile: a
    user's function cached by numba in a process that solved something calls no
    libmvec, so a process without implicitop (without libmvec) loads and runs it."""
    script = tmp_path / "user_code.py"
    script.write_text(USER_MODULE.format(tests=os.path.dirname(__file__)))
    environment = {**os.environ, "PYTHONWARNINGS": "ignore"}
    environment.pop("NUMBA_CACHE_DIR", None)  # numba's cache beside the script

    def run(mode: str) -> str:
        completed = subprocess.run(
            [sys.executable, str(script), mode], env=environment, capture_output=True,
            text=True, timeout=600, check=False,
        )  # fmt: skip
        assert completed.returncode == 0, (mode, completed.returncode, completed.stderr[-2000:])
        return completed.stdout.strip()

    assert run("with implicitop") == "Counter()"  # compiled: no cache hit
    assert run("without implicitop").endswith(": 1})")  # loaded from the cache, and ran
