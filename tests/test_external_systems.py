"""More-Garbow-Hillstrom systems (as NonlinearProblemLibrary.jl defines them) from the
library's start, beside MINPACK's hybrd (``scipy.optimize.root(method="hybr")``) in the
same run. The ones in one or two unknowns run here; ``benchmarks/external_sets.py``
runs all 23."""

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
from scipy import optimize

from external_systems import Q, numeric, system_cases
from implicitop import SolveStatus, make_implicit_op

SMALL = [case for case in system_cases() if len(case.unknowns) <= 2]
#: Solved by neither implicitop nor hybrd from the library's start: Newton-type methods
#: stall at Freudenstein-Roth's local minimum of |R| (11.41, -0.897); sample 19's root
#: (0, 0) is a triple root with a singular Jacobian.
UNSOLVED = {"freudenstein_roth", "sample_19"}
#: Roots not unique: x (x - 5)^2 (hybrd takes the double root 5, this solver 0 from
#: x = 1); sample 18 is zero on the whole line x1 = 0.
NOT_UNIQUE = {"scalar_20", "sample_18"}


def build(case):
    return make_implicit_op(list(case.residuals), list(case.unknowns), Q, x0=case.start)


@pytest.mark.parametrize("case", SMALL, ids=lambda case: case.name)
def test_system_is_solved_where_hybrd_solves_it(case):
    function = numeric(case)
    hybr = optimize.root(function, case.start, method="hybr")
    hybr_solved = hybr.success and np.max(np.abs(function(hybr.x))) <= 1e-8
    result = build(case).solve(case.value)
    root = np.atleast_1d(result.root)
    if case.name in UNSOLVED:  # both fail; if either starts to solve it, say so here
        assert result.status != SolveStatus.CONVERGED and not hybr_solved
        return
    assert result.status == SolveStatus.CONVERGED
    assert np.max(np.abs(function(root))) <= 1e-10
    if case.solution is not None:
        np.testing.assert_allclose(root, case.solution, rtol=1e-6, atol=1e-9)
    if hybr_solved and case.name not in NOT_UNIQUE:
        np.testing.assert_allclose(root, hybr.x, rtol=1e-6, atol=1e-9)


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
