"""More-Garbow-Hillstrom systems (as NonlinearProblemLibrary.jl defines them) from the
library's start, beside MINPACK's hybrd (``scipy.optimize.root(method="hybr")``) in the
same run. The two-unknown ones run here; ``benchmarks/external_sets.py`` runs all 12."""

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
from scipy import optimize

from external_systems import Q, numeric, system_cases
from implicitop import SolveStatus, make_implicit_op

SMALL = [case for case in system_cases() if len(case.unknowns) == 2]


def build(case):
    return make_implicit_op(list(case.residuals), list(case.unknowns), Q, x0=case.start)


@pytest.mark.parametrize("case", SMALL, ids=lambda case: case.name)
def test_system_is_solved_where_hybrd_solves_it(case):
    function = numeric(case)
    hybr = optimize.root(function, case.start, method="hybr")
    assert hybr.success and np.max(np.abs(function(hybr.x))) <= 1e-8
    result = build(case).solve(case.value)
    assert result.status == SolveStatus.CONVERGED
    np.testing.assert_allclose(result.root, hybr.x, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(result.root, case.solution, rtol=1e-6, atol=1e-9)
    assert np.max(np.abs(function(result.root))) <= 1e-10


def test_powell_badly_scaled_gradient_matches_differences_of_hybrd_roots():
    (case,) = [case for case in SMALL if case.name == "powell_badly_scaled"]
    q = pt.dscalar("q")
    _, x2 = build(case)(q)
    gradient = pytensor.function([q], pytensor.grad(x2, q))(case.value)

    def hybrd_root(value: float) -> np.ndarray:
        residuals = [r.subs(Q, value) for r in case.residuals]
        shifted = numeric(type(case)(case.name, tuple(residuals), case.unknowns, case.start,
                                     value, None))  # fmt: skip
        return optimize.root(shifted, case.solution, method="hybr", tol=1e-14).x

    step = 1e-9
    expected = (hybrd_root(case.value + step)[1] - hybrd_root(case.value - step)[1]) / (2 * step)
    np.testing.assert_allclose(gradient, expected, rtol=1e-5)
