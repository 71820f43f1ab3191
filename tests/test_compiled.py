"""Each problem's compiled solver: agreement with plain Python, disk cache, fallback."""

import inspect
import os
import subprocess
import sys

import numpy as np
import pytest
import sympy as sp
from scipy import special

from catalogue import CATALOGUE, SYSTEMS, build_seed
from implicitop import SolveStatus, make_implicit_op
from implicitop.solvers import scalar, system
from implicitop.solvers.compiled import plain_kernels
from implicitop.solvers.solver import parameter_rows


def solve_with(kernels, solver, values):
    """Roots (m, n) and codes (m,) from ``kernels`` with the solver's settings."""
    rows = parameter_rows([np.asarray(v, dtype=float) for v in values])
    root = np.empty((rows.shape[0], solver.problem.size))
    code = np.empty(rows.shape[0], dtype=np.int8)
    with np.errstate(all="ignore"):
        kernels.solve(rows, *solver.arguments, root, code)
    return root, code


@pytest.mark.parametrize("problem", CATALOGUE + SYSTEMS, ids=lambda p: p.name)
def test_compiled_and_plain_python_solvers_agree(problem):
    solver = problem.build().solver
    assert solver.kernels.compiled
    rng = np.random.default_rng(5)
    values = [rng.uniform(*problem.ranges[s.name], 300) for s in solver.problem.params]
    compiled_root, compiled_code = solve_with(solver.kernels, solver, values)
    plain = plain_kernels(solver.problem, solver.guesses)
    plain_root, plain_code = solve_with(plain, solver, values)
    np.testing.assert_array_equal(compiled_code, plain_code)
    np.testing.assert_allclose(compiled_root, plain_root, rtol=1e-14, atol=1e-300)


@pytest.mark.parametrize("problem", [CATALOGUE[0], SYSTEMS[0]], ids=lambda p: p.name)
def test_the_generated_module_runs_the_algorithm_modules_source(problem):
    """A change to a solver is one edit: the compiled module holds its source verbatim."""
    kernels = problem.build().solver.kernels
    generated = open(kernels.module.__file__).read()
    algorithm = scalar if problem in CATALOGUE else system
    assert inspect.getsource(algorithm) in generated
    assert "def solve_block(" in inspect.getsource(algorithm)


def test_expressions_numba_cannot_compile_run_as_plain_python_with_a_reason():
    x = sp.Symbol("x", positive=True)
    t = sp.Symbol("t", real=True)
    message = r"numba could not compile .*besselj not in Python's math module.*Rewrite"
    with pytest.warns(RuntimeWarning, match=message):
        op = make_implicit_op(sp.besselj(0, x) - t, x, t, bracket=(0.0, 2.4))
        assert not op.solver.kernels.compiled
    ts = np.linspace(0.05, 0.95, 19)
    result = op.solve(ts)
    assert (result.status == SolveStatus.CONVERGED).all()
    np.testing.assert_allclose(special.j0(result.root), ts, rtol=1e-12)


CHILD = """
import sys, time
sys.path.insert(0, {tests!r})
from catalogue import build_seed
solve = build_seed().solver.kernels.solve
print(sum(solve.stats.cache_hits.values()),
      sum(solve.stats.cache_misses.values()))
"""


def test_a_second_process_loads_the_compiled_kernel_from_disk(tmp_path):
    # numba keeps its cache beside the generated module unless NUMBA_CACHE_DIR moves it
    inherited = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    environment = {**inherited, "IMPLICITOP_CACHE_DIR": str(tmp_path), "PYTHONWARNINGS": "ignore"}
    script = CHILD.format(tests=os.path.dirname(__file__))

    def run() -> list[int]:
        completed = subprocess.run(
            [sys.executable, "-c", script],
            env=environment,
            capture_output=True,
            text=True,
            check=True,
            timeout=600,
        )
        return [int(v) for v in completed.stdout.split()]

    _, first_misses = run()
    second_hits, second_misses = run()
    assert first_misses >= 1
    assert second_hits >= 1 and second_misses == 0
    assert any(tmp_path.glob("__pycache__/*.nbc"))


def test_seed_op_uses_the_compiled_kernel():
    assert build_seed().solver.kernels.compiled
