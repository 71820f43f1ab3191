"""Symbols declared without assumptions (SymPy's default, complex) are taken as real.

For a complex ``z`` SymPy writes ``|exp(z)|`` as ``exp(re(z))`` and differentiates
``|z|`` through ``re(z)`` and ``im(z)``: before the symbols were declared real, the
seed residual in ``sp.symbols("mu theta")`` fell back to plain Python (numba has no
``re``) and a residual with ``Abs`` was refused as not differentiable.
"""

import warnings

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
import sympy as sp
from numba import njit
from numba.core.errors import TypingError
from scipy import optimize

from implicitop import SolveStatus, make_argmin_op, make_implicit_op
from implicitop._ranges import parameter_range
from implicitop._solvers.compiled import _first_specific_line

mu, theta = sp.symbols("mu theta")  # no assumptions
THETAS = np.array([0.05, 0.7, 2.0, 9.0])


def seed_residual(m, t):
    return m + m * np.exp(t * m) - 1


def brentq_roots(residual, thetas, lo, hi):
    return np.array([optimize.brentq(residual, lo, hi, args=(t,), xtol=1e-15) for t in thetas])


def compiled_without_warnings(op):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert op.solver.kernels.compiled
    return op


def test_the_seed_residual_in_default_symbols_compiles_and_gives_brentq_roots():
    op = compiled_without_warnings(make_implicit_op(mu + mu * sp.exp(theta * mu) - 1, mu, theta))
    result = op.solve(THETAS)
    assert (result.status == SolveStatus.CONVERGED).all()
    expected = brentq_roots(seed_residual, THETAS, 0, 1)
    np.testing.assert_allclose(result.root, expected, rtol=1e-14)
    # the implicit function theorem's dmu/dtheta against central differences of brentq's
    t = pt.dvector("t")
    gradient = pytensor.function([t], pytensor.grad(op(t).sum(), t))
    h = 1e-6
    differences = (
        brentq_roots(seed_residual, THETAS + h, 0, 1)
        - brentq_roots(seed_residual, THETAS - h, 0, 1)
    ) / (2 * h)
    np.testing.assert_allclose(gradient(THETAS), differences, rtol=1e-7)


def test_an_absolute_value_in_default_symbols_is_differentiated():
    op = compiled_without_warnings(make_implicit_op(mu**3 + 2 * mu + sp.Abs(mu) - theta, mu, theta))
    thetas = np.array([-5.0, -0.3, 0.3, 5.0])
    expected = brentq_roots(lambda m, t: m**3 + 2 * m + abs(m) - t, thetas, -3, 3)
    np.testing.assert_allclose(op.solve(thetas).root, expected, rtol=1e-14)
    t = pt.dvector("t")
    gradient = pytensor.function([t], pytensor.grad(op(t).sum(), t))
    np.testing.assert_allclose(gradient(thetas), 1 / (3 * expected**2 + 2 + np.sign(expected)))


def test_a_minimum_in_default_symbols():
    x, t = sp.symbols("x t")
    op = compiled_without_warnings(make_argmin_op(sp.exp(x) - t * x, x, t))
    np.testing.assert_allclose(op.solve(THETAS).root, np.log(THETAS), rtol=1e-14, atol=1e-15)


def test_options_and_ranges_may_use_the_default_symbols():
    """The options' expressions and the harness's ranges name the user's symbols, which
    the op holds declared real."""
    op = make_implicit_op(mu**3 - theta, mu, theta, x0=theta / 2, bracket=(0, theta + 1))
    thetas = np.array([0.5, 8.0, 100.0])
    np.testing.assert_allclose(op.solve(thetas).root, np.cbrt(thetas), rtol=1e-14)
    (symbol,) = op.params
    assert symbol.is_real and symbol != theta and symbol.name == theta.name
    assert parameter_range(symbol, {theta: (0.25, 4.0)}) == (0.25, 4.0)


@pytest.mark.parametrize(
    "symbol",
    [
        sp.Symbol("w", infinite=True),
        sp.Symbol("w", imaginary=True),
        sp.Symbol("w", commutative=False),
    ],
)
def test_symbols_that_cannot_be_real_get_a_clear_error(symbol):
    with pytest.raises(ValueError, match="w cannot take real values"):
        make_implicit_op(mu - symbol, mu, symbol)


def test_the_warning_quotes_what_numba_failed_on_not_the_compiler_stage():
    def uses_a_missing_name(v):
        return v + not_defined_anywhere  # noqa: F821

    with pytest.raises(TypingError) as caught:
        njit(uses_a_missing_name)(1.0)
    assert str(caught.value).startswith("Failed in nopython mode pipeline")
    assert "not_defined_anywhere" in _first_specific_line(str(caught.value))
