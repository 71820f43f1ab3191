"""More-Garbow-Hillstrom systems (as NonlinearProblemLibrary.jl defines them) from the
library's start, and from ten and a hundred times it as MINPACK's own tests start
them, beside MINPACK's hybrd and hybrj (``scipy.optimize.root(method="hybr")``, without
and with the Jacobian) in the same run. The ones in one or two unknowns run here;
``benchmarks/external_sets.py`` runs all 23."""

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
from scipy import optimize

from external_systems import Q, numeric, numeric_with_jacobian, scaled_start, system_cases
from implicitop import SolveStatus, make_implicit_op

SMALL = [case for case in system_cases() if len(case.unknowns) <= 2]
#: Solved by neither implicitop nor hybrd from the library's start: Newton-type methods
#: stall at Freudenstein-Roth's local minimum of |R| (11.41, -0.897); sample 19's root
#: (0, 0) is a triple root with a singular Jacobian.
UNSOLVED = {"freudenstein_roth", "sample_19"}
#: Roots not unique: x (x - 5)^2 (hybrd takes the double root 5, this solver 0 from
#: x = 1); sample 18 is zero on the whole line x1 = 0.
NOT_UNIQUE = {"scalar_20", "sample_18"}


def build(case, start=None):
    start = case.start if start is None else start
    return make_implicit_op(list(case.residuals), list(case.unknowns), Q, x0=start)


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
    if case.name == "sample_18":  # the library's solution (0, 0) is one point of the line
        assert abs(root[0]) <= 1e-9
    elif case.solution is not None:
        np.testing.assert_allclose(root, case.solution, rtol=1e-6, atol=1e-9)
    if hybr_solved and case.name not in NOT_UNIQUE:
        np.testing.assert_allclose(root, hybr.x, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize(
    "case",
    [c for c in SMALL if len(c.unknowns) == 2 and c.name not in UNSOLVED | NOT_UNIQUE],
    ids=lambda case: case.name,
)
def test_gradient_matches_differences_of_hybrd_roots(case):
    """du/dq from the op's gradient graph against central differences of hybrd's roots
    (started at ours, tolerance 1e-14) at q -+ a relative step of 1e-7."""
    q = pt.dscalar("q")
    outputs = build(case)(q)
    compiled = pytensor.function([q], [pytensor.grad(u, q) for u in outputs])
    gradient = np.array(compiled(case.value))
    root = np.atleast_1d(build(case).solve(case.value).root)

    def hybrd_root(value: float) -> np.ndarray:
        residuals = [r.subs(Q, value) for r in case.residuals]
        shifted = numeric(type(case)(case.name, tuple(residuals), case.unknowns, case.start,
                                     value, None))  # fmt: skip
        solution = optimize.root(shifted, root, method="hybr", tol=1e-14)
        # from a root, hybrd may stop "without progress" there: check the residual
        assert np.max(np.abs(shifted(solution.x))) <= 1e-10
        return solution.x

    step = 1e-7 * max(abs(case.value), 1.0)
    expected = (hybrd_root(case.value + step) - hybrd_root(case.value - step)) / (2 * step)
    np.testing.assert_allclose(gradient, expected, rtol=1e-5, atol=1e-9 * np.max(np.abs(expected)))


@pytest.mark.parametrize("factor", [10, 100])
@pytest.mark.parametrize("case", SMALL, ids=lambda case: case.name)
def test_from_farther_starts_a_root_is_found_where_minpack_finds_one(case, factor):
    """Never NaN where hybrd or hybrj solves the system from the same start, and never a
    wrong number called converged. From ten times their start, Watson's and Boggs'
    systems stall damped Newton's line search; Powell's hybrid method solves them."""
    start = scaled_start(case, factor)
    function = numeric(case)
    minpack = [
        optimize.root(function, start, method="hybr"),
        optimize.root(numeric_with_jacobian(case), start, jac=True, method="hybr"),
    ]
    solved_by_minpack = any(
        found.success and np.max(np.abs(function(found.x))) <= 1e-8 for found in minpack
    )
    result = build(case, start).solve(case.value)
    if result.status == SolveStatus.CONVERGED:
        assert np.max(np.abs(function(np.atleast_1d(result.root)))) <= 1e-10
    assert result.status == SolveStatus.CONVERGED or not solved_by_minpack
