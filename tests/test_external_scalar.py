"""SciPy's 45 Chandrupatla root-finding cases (brackets and roots from
``scipy.optimize._tstutils``), each solved from its bracket beside ``scipy.optimize.brentq``
in the same run, with ``dx/dc = 1 / f'(x)`` checked at the simple roots."""

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
from scipy import optimize

from external_scalar import C, X, chandrupatla_cases
from implicitop import SolveStatus, make_implicit_op

CASES = chandrupatla_cases()
#: Functions whose root is simple (the others have roots of order 3, 5, 9, 19, or a
#: plateau of exact zeros, where f' = 0).
SIMPLE_ROOTS = {"fun1", "fun2", "fun8", "fun9"}


def build(case):
    return make_implicit_op(case.expression, X, C, bracket=case.bracket)


def test_the_set_is_scipys_45_cases():
    assert len(CASES) == 45 and len({case.case_id for case in CASES}) == 45


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.case_id)
def test_chandrupatla_case_is_solved_as_brentq_solves_it(case):
    brent = optimize.brentq(case.function, *case.bracket, maxiter=500)
    result = build(case).solve(0.0)
    assert result.status == SolveStatus.CONVERGED
    tolerance = 1e-10 * max(abs(case.root), 1.0)
    assert abs(float(result.root) - case.root) <= tolerance
    # brentq's own answer, in the same run: a root too (within its xtol of 2e-12 where
    # the root is simple; within the function's plateau of zeros where it is not)
    assert abs(brent - case.root) <= (tolerance if case.case_id[:4] in SIMPLE_ROOTS else 0.04)


@pytest.mark.parametrize(
    "case",
    [case for case in CASES if case.case_id in {f"{name}.1" for name in SIMPLE_ROOTS}],
    ids=lambda case: case.case_id,
)
def test_chandrupatla_gradient_is_one_over_the_slope(case):
    op = build(case)
    c = pt.dscalar("c")
    root = op(c)
    value, gradient = pytensor.function([c], [root, pytensor.grad(root, c)])(0.0)
    step = 1e-6 * max(abs(float(value)), 1.0)
    slope = (case.function(value + step) - case.function(value - step)) / (2 * step)
    np.testing.assert_allclose(gradient, 1 / slope, rtol=1e-6)
