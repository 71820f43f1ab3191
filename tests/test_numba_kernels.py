"""The numba-compiled Newton kernel: agreement, disk cache, NumPy fallback."""

import dataclasses
import os
import subprocess
import sys

import numpy as np
import pytest
import sympy as sp
from scipy import special

from catalogue import CATALOGUE, build_seed
from implicitop import SolveStatus, make_implicit_op
from implicitop.codegen import numeric_kernels
from implicitop.solve import solve


def solve_with(kernels, op, values):
    (domain,) = op._search_domains
    flat = [np.asarray(v, dtype=float) for v in values]
    return solve(
        kernels, flat, op._initial_guess(flat)[:, 0], domain, op._param_domains, op._settings
    )


@pytest.mark.parametrize("problem", CATALOGUE, ids=lambda p: p.name)
def test_compiled_and_numpy_paths_agree(problem):
    op = problem.build()
    kernels = numeric_kernels(op.problem)
    assert kernels.compiled is not None
    rng = np.random.default_rng(5)
    values = []
    for symbol in op.params:
        lo, hi = problem.ranges[symbol.name]
        values.append(rng.uniform(lo, hi, 300))
    compiled = solve_with(kernels, op, values)
    numpy_only = solve_with(dataclasses.replace(kernels, compiled=None), op, values)
    np.testing.assert_array_equal(compiled.status, numpy_only.status)
    np.testing.assert_allclose(compiled.root, numpy_only.root, rtol=1e-14, atol=1e-300)


def test_expressions_numba_cannot_compile_fall_back_to_numpy():
    x = sp.Symbol("x", positive=True)
    t = sp.Symbol("t", real=True)
    with pytest.warns(RuntimeWarning, match="numba could not compile"):
        op = make_implicit_op(sp.besselj(0, x) - t, x, t, bracket=(0.0, 2.4))
        assert numeric_kernels(op.problem).compiled is None
    ts = np.linspace(0.05, 0.95, 19)
    result = op.solve(ts)
    assert (result.status == SolveStatus.CONVERGED).all()
    np.testing.assert_allclose(special.j0(result.root), ts, rtol=1e-12)


CHILD = """
import sys, time
sys.path.insert(0, {tests!r})
from catalogue import build_seed
from implicitop.codegen import numeric_kernels
newton = numeric_kernels(build_seed().problem).compiled.solve
print(sum(newton.stats.cache_hits.values()),
      sum(newton.stats.cache_misses.values()))
"""


def test_a_second_process_loads_the_compiled_kernel_from_disk(tmp_path):
    environment = {**os.environ, "IMPLICITOP_CACHE_DIR": str(tmp_path), "PYTHONWARNINGS": "ignore"}
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
    assert numeric_kernels(build_seed().problem).compiled is not None
