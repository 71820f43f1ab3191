"""The data-sized model and what a user would write for it by hand.

Each of ``size`` observations has its own root ``mu_i`` of
``mu + mu*exp(theta*mu*x_i) - 1 = 0`` (the seed's residual with a covariate
``x_i`` in [0.5, 5]); ``theta`` is one scalar parameter. Baselines:

- :class:`VectorNewtonOp`: a hand-written Op that solves the whole array with one
  vectorised ``scipy.optimize.newton`` call (x0 = 0.5, analytic ``fprime``) and gives
  the implicit gradient as a PyTensor graph;
- :func:`root_scalar_over_data`: PyTensor's ``root_scalar`` written for one
  observation and vectorised over the data with ``vectorize_graph`` (Blockwise).
"""

from collections.abc import Callable

import numpy as np
import pymc as pm
import pytensor.tensor as pt
from pytensor.graph.basic import Apply
from pytensor.graph.op import Op
from pytensor.graph.replace import graph_replace, vectorize_graph
from pytensor.tensor.optimize import root_scalar
from scipy import optimize

TRUE_THETA = 1.3
NOISE = 0.02


def covariate(size: int) -> np.ndarray:
    """The data ``x``: ``size`` values in [0.5, 5] (a fixed seed)."""
    return np.random.default_rng(7).uniform(0.5, 5.0, size)


def residual(mu, theta, x):
    return mu + mu * np.exp(theta * mu * x) - 1


def slope(mu, theta, x):
    growth = np.exp(theta * mu * x)
    return 1 + growth * (1 + theta * mu * x)


class VectorNewtonOp(Op):
    """``mu(theta, x)`` for a scalar ``theta`` and a data vector ``x``, by hand."""

    def make_node(self, theta, x) -> Apply:
        theta, x = pt.as_tensor_variable(theta), pt.as_tensor_variable(x)
        return Apply(self, [theta, x], [x.type()])

    def perform(self, node, inputs, outputs):
        theta, x = inputs
        start = np.full_like(x, 0.5)
        outputs[0][0] = optimize.newton(residual, start, fprime=slope, args=(theta, x))

    def grad(self, inputs, output_grads):
        theta, x = inputs
        (g,) = output_grads
        mu = self(theta, x)
        growth = pt.exp(theta * mu * x)
        denominator = 1 + growth * (1 + theta * mu * x)
        d_theta = -(mu * mu * x * growth) / denominator
        d_x = -(mu * mu * theta * growth) / denominator
        return [pt.sum(g * d_theta), g * d_x]


def root_scalar_over_data(theta: pt.TensorVariable, x: pt.TensorVariable) -> pt.TensorVariable:
    """PyTensor's Newton ``root_scalar`` for one observation, vectorised over ``x``."""
    mu, x_one = pt.dscalar("mu"), pt.dscalar("x_one")
    solution, _ = root_scalar(
        mu + mu * pt.exp(theta * mu * x_one) - 1, mu, method="newton", jac=True
    )
    one = graph_replace(solution, {mu: pt.constant(0.5, dtype="float64")}, strict=False)
    return vectorize_graph(one, {x_one: x})


def brent_roots(theta: float, x: np.ndarray, xtol: float) -> np.ndarray:
    """The root of the residual for every ``x`` by Brent's method, to ``xtol``."""
    return np.array([optimize.brentq(residual, 0.0, 1.0, args=(theta, xi), xtol=xtol) for xi in x])


def observations(size: int) -> np.ndarray:
    """Noisy roots at :data:`TRUE_THETA` (the reference roots by Brent's method)."""
    roots = brent_roots(TRUE_THETA, covariate(size), xtol=1e-15)
    return roots + NOISE * np.random.default_rng(8).standard_normal(size)


def data_model(mu_of: Callable, size: int) -> pm.Model:
    """theta ~ HalfNormal(2); y_i ~ Normal(mu(theta, x_i), 0.02)."""
    with pm.Model() as model:
        x = pm.Data("x", covariate(size))
        theta = pm.HalfNormal("theta", sigma=2.0)
        pm.Normal("y", mu=mu_of(theta, x), sigma=NOISE, observed=observations(size))
    return model
