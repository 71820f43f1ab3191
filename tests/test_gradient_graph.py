"""The gradient graph: built from the residual's partial derivatives as printed, so it is
finite wherever they are, and NaN wherever the solve failed."""

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
import sympy as sp

from black_scholes import black_scholes, black_scholes_op
from implicitop import SolveStatus, make_implicit_op


def value_and_gradients(op, *values):
    inputs = [pt.dvector(p.name) for p in op.params]
    root = op(*inputs)
    function = pytensor.function(inputs, [root, *pytensor.grad(root.sum(), inputs)])
    return function(*(np.asarray(v, dtype=float) for v in values))


def test_implied_volatility_gradient_is_one_over_vega():
    # the simplified quotient overflowed to inf * 0 = NaN here
    price, _, vega = black_scholes(0.2, 100.0, 90.0, 0.02, 0.5)
    root, d_price, *_ = value_and_gradients(
        black_scholes_op(), [price], [100.0], [90.0], [0.02], [0.5]
    )
    np.testing.assert_allclose(root, [0.2], rtol=1e-12)
    np.testing.assert_allclose(d_price, [1 / vega], rtol=1e-10)
    assert 1 / vega == pytest.approx(0.0525087, rel=1e-6)


def test_implied_volatility_gradients_over_strikes_and_volatilities():
    strikes, sigmas = np.meshgrid(np.linspace(50, 150, 21), np.linspace(0.05, 1.0, 20))
    strikes, sigmas = strikes.ravel(), sigmas.ravel()
    spot, rate, tau = 100.0, 0.02, 0.5
    price, _, vega = black_scholes(sigmas, spot, strikes, rate, tau)
    columns = [np.full_like(price, value) for value in (spot, rate, tau)]
    root, d_price, d_spot, *_ = value_and_gradients(
        black_scholes_op(), price, columns[0], strikes, columns[1], columns[2]
    )
    well_posed = vega > 1e-3 * spot  # where the price pins sigma down to 1e-10
    np.testing.assert_allclose(root[well_posed], sigmas[well_posed], rtol=1e-9)
    # elsewhere the price is the no-arbitrage bound to rounding: no root, or a finite one
    solved = np.isfinite(root)
    assert solved.sum() >= 400
    assert np.isfinite(d_price[solved]).all() and np.isfinite(d_spot[solved]).all()
    # the implicit function theorem at the computed root, against scipy.stats
    # where the residual's own (1 + erf)/2 keeps its digits (Phi(d1) > 1e-3)
    _, delta_at_root, vega_at_root = black_scholes(root, spot, strikes, rate, tau)
    accurate = solved & (delta_at_root > 1e-3)
    assert accurate.sum() >= 300
    np.testing.assert_allclose(d_price[accurate], 1 / vega_at_root[accurate], rtol=1e-10)
    np.testing.assert_allclose(
        d_spot[accurate], -delta_at_root[accurate] / vega_at_root[accurate], rtol=1e-10
    )


def test_failed_element_has_a_nan_gradient_even_for_a_constant_derivative():
    x = sp.Symbol("x", positive=True)
    t = sp.Symbol("t", real=True)
    root, gradient = value_and_gradients(make_implicit_op(x - t, x, t), [2.0, -1.0])
    np.testing.assert_array_equal(root[0], 2.0)
    np.testing.assert_array_equal(gradient, [1.0, np.nan])


def test_failed_system_element_has_nan_gradients_for_every_parameter():
    x, y = sp.symbols("x y", positive=True)
    a, b = sp.symbols("a b", real=True)
    op = make_implicit_op([x + y - a, x - y - b], [x, y], [a, b])  # linear: constant partials
    inputs = [pt.dvector("a"), pt.dvector("b")]
    x_out, y_out = op(*inputs)
    gradients = pytensor.grad((x_out + 2 * y_out).sum(), inputs)
    values = pytensor.function(inputs, [x_out, *gradients])([4.0, -4.0], [2.0, 2.0])
    np.testing.assert_allclose(values[0], [3.0, np.nan])
    np.testing.assert_allclose(values[1], [1.5, np.nan])  # d(x + 2y)/da = 1/2 + 2/2
    np.testing.assert_allclose(values[2], [-0.5, np.nan])  # d(x + 2y)/db = 1/2 - 2/2


def test_piecewise_residual_with_a_flat_branch_builds_and_solves():
    x = sp.Symbol("x", real=True)
    t = sp.Symbol("t", real=True)
    op = make_implicit_op(sp.Piecewise((-t, x <= 0), (x**2 - t, True)), x, t)
    root, gradient = value_and_gradients(op, [4.0, 0.25, -1.0])
    np.testing.assert_allclose(root, [2.0, 0.5, np.nan], rtol=1e-14)
    np.testing.assert_allclose(gradient, [0.25, 1.0, np.nan], rtol=1e-14)  # 1 / (2 sqrt t)
    assert op.solve(-1.0).status == SolveStatus.NO_SIGN_CHANGE
    # at t = 0 every x <= 0 is a root: a plateau, not a root
    assert op.solve(0.0).status != SolveStatus.CONVERGED


def test_prices_at_the_no_arbitrage_bounds_have_no_implied_volatility():
    # C = S and C = S - K exp(-r tau): the residual is exactly zero over a whole
    # interval of sigma (its digits are lost), so no sigma is the root
    spot, strike, rate, tau = 100.0, 90.0, 0.02, 0.5
    bounds = np.array([spot, spot - strike * np.exp(-rate * tau)])
    price, _, _ = black_scholes(0.3, spot, strike, rate, tau)
    result = black_scholes_op().solve(np.append(bounds, price), spot, strike, rate, tau)
    assert (result.status[:2] == SolveStatus.NOT_A_ROOT).all()
    assert result.root[2] == pytest.approx(0.3, rel=1e-12)
