"""Brackets in the parameters, brackets that grow until they hold a sign change, and
numbers given as ``x0`` or ``bracket`` that change without compiling anything."""

import numpy as np
import pytest
import sympy as sp
from scipy import optimize, special

from implicitop import SolveStatus, make_implicit_op

X = sp.Symbol("x", real=True)
A = sp.Symbol("a", positive=True)
#: Van der Waals CO2 (a in Pa m^6/mol^2, b in m^3/mol) at pressure P and temperature T
GAS_CONSTANT, VDW_A, VDW_B = 8.314462618, 0.3640, 4.267e-5
V = sp.Symbol("V", positive=True)
P, T = sp.symbols("P T", positive=True)
VAN_DER_WAALS = P - GAS_CONSTANT * T / (V - VDW_B) + VDW_A / V**2


def brentq_volume(pressure: float, temperature: float) -> float:
    def residual(volume):
        return pressure - GAS_CONSTANT * temperature / (volume - VDW_B) + VDW_A / volume**2

    upper = VDW_B + GAS_CONSTANT * temperature / pressure
    return optimize.brentq(residual, VDW_B * (1 + 1e-12), upper, xtol=1e-300, rtol=1e-15)


def test_a_bracket_per_element_from_expressions():
    # b < V < b + R*T/P holds for every root (P < R*T/(V - b)); the same bracket as
    # numbers would have to cover every pressure and temperature at once
    op = make_implicit_op(VAN_DER_WAALS, V, [P, T], bracket=(VDW_B, VDW_B + GAS_CONSTANT * T / P))
    rng = np.random.default_rng(3)
    pressures, temperatures = 10 ** rng.uniform(3, 7.5, 200), rng.uniform(305, 600, 200)
    result = op.solve(pressures, temperatures)
    assert result.converged.all()
    expected = [brentq_volume(p, t) for p, t in zip(pressures, temperatures, strict=True)]
    np.testing.assert_allclose(result.root, expected, rtol=1e-13)


def test_bracket_ends_in_either_order_and_mixed_with_numbers():
    values = np.array([0.01, 2.0, 30.0, 1e4])
    for bracket in ((A / (A + 1), A + 1), (A + 1, A / (A + 1)), (0.0, A + 1)):
        result = make_implicit_op(X**3 - A, X, A, bracket=bracket).solve(values)
        np.testing.assert_allclose(result.root, np.cbrt(values), rtol=1e-14)


def test_an_expression_bracket_that_misses_the_root_is_no_sign_change():
    result = make_implicit_op(X**3 - A, X, A, bracket=(A + 1, A + 2)).solve(8.0)
    assert result.status == SolveStatus.NO_SIGN_CHANGE and np.isnan(result.root)


def test_expanded_bracket_finds_the_root_outside():
    # x exp(x) = a has one real root for a > 0, lambertw(a), far below (10, 11)
    values = np.geomspace(1e-6, 1e6, 25)
    op = make_implicit_op(X * sp.exp(X) - A, X, A, bracket=(10, 11), expand_bracket=True)
    result = op.solve(values)
    assert result.converged.all()
    np.testing.assert_allclose(result.root, special.lambertw(values).real, rtol=1e-13)


def test_expansion_approaches_a_bound_of_the_domain():
    # log(x) + a = 0 at x = exp(-a), down to 1e-174 on the positive axis
    y = sp.Symbol("y", positive=True)
    values = np.array([0.5, 5.0, 50.0, 400.0])
    op = make_implicit_op(sp.log(y) + A, y, A, bracket=(1, 2), expand_bracket=True)
    result = op.solve(values)
    np.testing.assert_allclose(result.root, np.exp(-values), rtol=1e-13)


def test_expansion_beside_scipys_bracket_root():
    # the same growth from the same start: both find a bracket of the same root
    from scipy.optimize.elementwise import bracket_root, find_root

    values = np.array([0.5, 3.0, 40.0])
    op = make_implicit_op(X**3 - 2 * X - A, X, A, bracket=(-8, -7), expand_bracket=True)
    ours = op.solve(values)
    found = bracket_root(lambda x, a: x**3 - 2 * x - a, -8.0, -7.0, args=(values,))
    assert found.success.all()
    theirs = find_root(lambda x, a: x**3 - 2 * x - a, (found.bracket[0], found.bracket[1]),
                       args=(values,)).x  # fmt: skip
    np.testing.assert_allclose(ours.root, theirs, rtol=1e-12)


def test_a_bracket_that_never_shows_a_sign_change():
    grown = make_implicit_op(X**2 + A, X, A, bracket=(5, 6), expand_bracket=True).solve(1.0)
    assert grown.status == SolveStatus.NO_BRACKET_FOUND and np.isnan(grown.root)
    assert "expand_bracket" in SolveStatus.NO_BRACKET_FOUND.reason
    fixed = make_implicit_op(X**2 + A, X, A, bracket=(5, 6)).solve(1.0)
    assert fixed.status == SolveStatus.NO_SIGN_CHANGE


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"bracket": (X, 1.0)}, ValueError, "bracket lo may only use the parameters"),
        ({"expand_bracket": True}, ValueError, "give bracket"),
        ({"bracket": (0, 1), "expand_bracket": 1}, TypeError, "True or False"),
        ({"bracket": (2.0, 1.0)}, ValueError, "lo < hi"),
    ],
)
def test_bad_brackets_are_refused(options, error, message):
    with pytest.raises(error, match=message):
        make_implicit_op(X**3 - A, X, A, **options)


def test_numbers_given_as_x0_or_bracket_compile_nothing():
    residual = X * sp.exp(X) - A
    first = make_implicit_op(residual, X, A, x0=0.3).solver
    for options in ({"x0": 0.7}, {"x0": 2.5}, {"bracket": (-1.0, 3.0)}, {}):
        other = make_implicit_op(residual, X, A, **options).solver
        assert other.kernels is first.kernels
        np.testing.assert_allclose(other.solve(2.0).root, special.lambertw(2.0).real, rtol=1e-14)
    symbolic = make_implicit_op(residual, X, A, x0=sp.log(1 + A)).solver
    assert symbolic.kernels is not first.kernels
