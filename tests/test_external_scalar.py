"""SciPy's root-finding test sets (brackets, starts and roots from
``scipy.optimize._tstutils``) beside SciPy's solvers in the same run: the 45 Chandrupatla
cases from their brackets beside ``scipy.optimize.brentq``, with ``dx/dc = 1 / f'(x)``
checked at the simple roots; Alefeld, Potra and Shi's 154 cases from their brackets
beside ``brentq`` and from their starts beside ``scipy.optimize.newton``, with closed-form
derivatives of the roots of ``x^n = a``, ``(n x - 1) / ((n - 1) x) = 0`` and
``x^(1/n) = n^(1/n)``."""

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
from scipy import optimize

from external_scalar import C, X, aps_families, chandrupatla_cases
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


APS = {family.name: family for family in aps_families()}


def near(value: float, root: float) -> bool:
    """Within 1e-10 of ``root``, relative (a root at 0: within 1e-15)."""
    return abs(value - root) <= 1e-10 * abs(root) + 1e-15


def test_the_aps_set_is_scipys_154_cases_of_15_functions():
    assert len(APS) == 15 and sum(len(family.cases) for family in APS.values()) == 154


@pytest.mark.parametrize("name", sorted(APS))
def test_aps_cases_are_solved_from_their_brackets_and_their_starts(name):
    """Every case converges to the known root from its bracket and from its start.
    brentq, in the same run, finds it from the bracket too, but for aps13, whose
    function is exactly 0 in floating point for |x| < 0.027 (exp underflows): brentq
    stops on that plateau, implicitop at the root 0 itself."""
    family = APS[name]
    for case in family.cases:
        values = (0.0, *case.args)
        bracketed = make_implicit_op(family.expression, X, family.params, bracket=case.bracket)
        started = make_implicit_op(family.expression, X, family.params, x0=case.x0)
        for result in (bracketed.solve(*values), started.solve(*values)):
            assert result.status == SolveStatus.CONVERGED, case.case_id
            assert near(float(result.root), case.root), (case.case_id, float(result.root))
        brent = optimize.brentq(family.function, *case.bracket, args=case.args, xtol=1e-14)
        if name == "aps13_f":
            assert family.function(brent) == 0
        else:  # within brentq's xtol
            assert abs(brent - case.root) <= 1e-14 + 1e-10 * abs(case.root), case.case_id


@pytest.mark.parametrize(
    ("name", "args", "expected"),
    [
        # x = a^(1/n): dx/dn = -x ln(a) / n^2, dx/da = x / (n a)
        ("aps04_f", (6.0, 0.2), lambda x, n, a: [-x * np.log(a) / n**2, x / (n * a)]),
        ("aps11_f", (5.0,), lambda x, n: [-1 / n**2]),  # x = 1/n
        ("aps12_f", (7.0,), lambda x, n: [1.0]),  # x = n
    ],
)
def test_aps_gradients_match_closed_forms(name, args, expected):
    family = APS[name]
    # the bracket of the cases: x^6 = 0.2 has a root -0.76 too, where x^n has no
    # derivative in n over the reals (the default start would take it)
    op = make_implicit_op(family.expression, X, family.params, bracket=family.cases[0].bracket)
    inputs = [pt.dscalar(str(symbol)) for symbol in family.params]
    root = op(*inputs)
    compiled = pytensor.function(inputs, [root, *pytensor.grad(root, inputs[1:])])
    value, *gradient = compiled(0.0, *args)
    np.testing.assert_allclose(gradient, expected(float(value), *args), rtol=1e-12)
