"""Black and Scholes' call price as a residual in the volatility (an implied
volatility), and the price and its derivatives from ``scipy.stats.norm``."""

import numpy as np
import sympy as sp
from scipy import stats

from implicitop import ImplicitOp, make_implicit_op


def black_scholes_op(cdf: str = "erf") -> ImplicitOp:
    """The volatility sigma at which the call price is C, with the normal CDF written
    as ``(1 + erf(z/sqrt 2))/2`` (``cdf="erf"``, SymPy's own form of ``erfc(-z)``) or as
    ``erfc(-z/sqrt 2)/2`` kept unevaluated (``cdf="erfc"``)."""
    sigma = sp.Symbol("sigma", positive=True)
    price, spot, strike, rate, tau = sp.symbols("C S K r tau", positive=True)

    def phi(z):
        if cdf == "erfc":
            return sp.erfc(-z / sp.sqrt(2), evaluate=False) / 2
        return (1 + sp.erf(z / sp.sqrt(2))) / 2

    d1 = (sp.log(spot / strike) + (rate + sigma**2 / 2) * tau) / (sigma * sp.sqrt(tau))
    d2 = d1 - sigma * sp.sqrt(tau)
    residual = spot * phi(d1) - strike * sp.exp(-rate * tau) * phi(d2) - price
    return make_implicit_op(residual, sigma, [price, spot, strike, rate, tau])


def black_scholes(sigma, spot, strike, rate, tau):
    """Call price, delta and vega from scipy.stats.norm."""
    d1 = (np.log(spot / strike) + (rate + sigma**2 / 2) * tau) / (sigma * np.sqrt(tau))
    d2 = d1 - sigma * np.sqrt(tau)
    price = spot * stats.norm.cdf(d1) - strike * np.exp(-rate * tau) * stats.norm.cdf(d2)
    return price, stats.norm.cdf(d1), spot * stats.norm.pdf(d1) * np.sqrt(tau)
