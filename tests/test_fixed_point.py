"""make_fixed_point_op: fixed points u = g(u, theta) against closed forms and SciPy."""

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
import sympy as sp
from scipy import optimize

from catalogue import dosing_trough, dosing_trough_gradient
from implicitop import ImplicitOp, make_fixed_point_op
from implicitop.testing import check_implicit_op

#: A dose every tau of an IV bolus raising the concentration by d, eliminated at rate k:
#: the trough before each dose at steady state is c = (c + d) exp(-k tau).
c, d, k, tau = sp.symbols("c d k tau", positive=True)
TROUGH = (c + d) * sp.exp(-k * tau)


@pytest.fixture(scope="module")
def trough_op() -> ImplicitOp:
    return make_fixed_point_op(TROUGH, c, [d, k, tau])


def test_the_steady_state_trough_matches_the_closed_form(trough_op):
    # k tau from 1e-3 (the map's slope exp(-k tau) = 0.999: iterating it would take
    # thousands of steps) to 30 (a trough 1e-13 of the dose)
    rng = np.random.default_rng(0)
    size = 200
    doses = 10 ** rng.uniform(-2, 2, size)
    rates = 10 ** rng.uniform(-2, 0.5, size)
    intervals = 10 ** rng.uniform(-1, 1.5, size) * np.clip(1e-3 / rates, 1, None)
    inputs = [pt.dvector(name) for name in ("d", "k", "tau")]
    troughs = trough_op(*inputs)
    function = pytensor.function(inputs, [troughs, *pytensor.grad(troughs.sum(), inputs)])
    values, *gradients = function(doses, rates, intervals)
    np.testing.assert_allclose(values, dosing_trough(doses, rates, intervals), rtol=1e-12)
    for got, expected in zip(
        gradients, dosing_trough_gradient(doses, rates, intervals), strict=True
    ):
        np.testing.assert_allclose(got, expected, rtol=1e-9)


def test_the_harness_checks_a_fixed_point_op_unchanged(trough_op):
    check_implicit_op(trough_op, {"d": (0.1, 10.0), "k": (0.05, 2.0), "tau": (0.5, 24.0)})


def test_a_map_that_is_no_contraction_is_solved_not_iterated():
    # x = a cos(x): for a = 3 the map's slope at the fixed point is about -2.8, so
    # iterating it oscillates away; the fixed point is still the root of x - a cos(x)
    x, a = sp.symbols("x a", positive=True)
    op = make_fixed_point_op(a * sp.cos(x), x, a)
    scales = np.array([0.1, 0.5, 1.0, 2.0, 3.0])
    variable = pt.dvector("a")
    fixed = op(variable)
    values, slopes = pytensor.function([variable], [fixed, pytensor.grad(fixed.sum(), variable)])(
        scales
    )
    references = [
        optimize.brentq(lambda v, s=s: v - s * np.cos(v), 0, np.pi / 2, xtol=1e-300, rtol=1e-15)
        for s in scales
    ]
    np.testing.assert_allclose(values, references, rtol=1e-14)
    # dx/da = cos x / (1 + a sin x)
    np.testing.assert_allclose(slopes, np.cos(values) / (1 + scales * np.sin(values)), rtol=1e-12)
    assert abs(3.0 * np.sin(values[-1])) > 2.5  # the map expands there


def test_a_two_dimensional_linear_map_gives_its_solution():
    # u = A(s) u + b(t): u = (I - A)^-1 b, by LAPACK for reference
    u, v, s, t = sp.symbols("u v s t", real=True)
    op = make_fixed_point_op([s * u / 2 + v / 5 + 1, u / 10 + 3 * s * v / 10 + t], [u, v], [s, t])

    def reference(s_value: float, t_value: float) -> np.ndarray:
        matrix = np.array([[s_value / 2, 1 / 5], [1 / 10, 3 * s_value / 10]])
        return np.linalg.solve(np.eye(2) - matrix, [1.0, t_value])

    s_var, t_var = pt.dscalar("s"), pt.dscalar("t")
    first, second = op(s_var, t_var)
    gradient = pytensor.grad(first + 2 * second, [s_var, t_var])
    function = pytensor.function([s_var, t_var], [first, second, *gradient])
    step = 1e-6
    for point in np.array([(0.3, -1.0), (1.0, 2.0), (2.5, 0.5)]):  # at s = 2.5 the map expands
        got_u, got_v, *got_gradient = function(*point)
        np.testing.assert_allclose([got_u, got_v], reference(*point), rtol=1e-13)
        for i, got in enumerate(got_gradient):
            shift = step * np.eye(2)[i]
            change = (reference(*(point + shift)) - reference(*(point - shift))) / (2 * step)
            assert got == pytest.approx(change[0] + 2 * change[1], rel=1e-7)


@pytest.mark.parametrize(
    ("maps", "unknowns", "error", "message"),
    [
        (sp.Eq(c, TROUGH), c, TypeError, "the map .* is a relation; pass the expression g"),
        ([TROUGH, d], c, ValueError, "the map has 2 component.s. for 1 unknown"),
        ("c + 1", c, TypeError, "the map must be a SymPy expression"),
    ],
)
def test_bad_maps_get_a_clear_error(maps, unknowns, error, message):
    with pytest.raises(error, match=message):
        make_fixed_point_op(maps, unknowns, [d, k, tau])
