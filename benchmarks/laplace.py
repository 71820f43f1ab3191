"""A hierarchical Poisson model with its latent effects integrated out by Laplace
approximations, and what a user would write for it with PyTensor's own optimiser.

Group ``g`` has a count ``y_g ~ Poisson(exp(eta_g))`` with a latent log-rate
``eta_g ~ Normal(mu, sigma)``. Each group's marginal likelihood is approximated around
the mode ``eta_g*`` of its negative log joint ``f(eta) = exp(eta) - y eta + (eta -
mu)^2 / (2 sigma^2)`` (up to constants):
``log p(y_g | mu, sigma) ~ -f(eta_g*) - log sigma - log(H_g) / 2``, ``H_g = exp(eta_g*)
+ 1 / sigma^2``. Hyperparameters ``mu ~ Normal(0, 3)``, ``sigma ~ HalfNormal(2)``.

- :func:`implicitop_marginal`: :func:`implicitop.make_argmin_op` (value and log det of
  the Hessian at the modes, every group one element);
- :func:`minimize_marginal`: ``pytensor.tensor.optimize.minimize`` (BFGS through SciPy,
  its implicit gradient) written for one group and vectorised over the groups with
  ``vectorize_graph`` (Blockwise: one SciPy minimisation per group);
- :func:`latent_model`: no approximation, NUTS on the latent log-rates too.
"""

from collections.abc import Callable

import numpy as np
import pymc as pm
import pytensor.tensor as pt
import sympy as sp
from pytensor.graph.replace import graph_replace, vectorize_graph
from pytensor.tensor.optimize import minimize

from implicitop import make_argmin_op

TRUE_MU, TRUE_SIGMA = 1.0, 0.8


def counts(groups: int) -> np.ndarray:
    """One Poisson count per group at :data:`TRUE_MU`, :data:`TRUE_SIGMA` (a fixed seed)."""
    rng = np.random.default_rng(11)
    return rng.poisson(np.exp(rng.normal(TRUE_MU, TRUE_SIGMA, groups))).astype(float)


def mode_op() -> object:
    """The mode of one group's latent log-rate, as an op of (y, mu, sigma)."""
    eta, y, mu = sp.symbols("eta y mu", real=True)
    sigma = sp.Symbol("sigma", positive=True)
    return make_argmin_op(
        sp.exp(eta) - y * eta + (eta - mu) ** 2 / (2 * sigma**2), eta, [y, mu, sigma]
    )


def negative_log_joint(eta: np.ndarray, y: np.ndarray, mu: np.ndarray, sigma: np.ndarray):
    """``f(eta)`` of one group, up to constants, for SciPy (NumPy arrays)."""
    return np.exp(eta) - y * eta + (eta - mu) ** 2 / (2 * sigma**2)


def implicitop_marginal(op: object) -> Callable:
    """``(y, mu, sigma) -> sum of the groups' log marginal likelihoods`` with the op."""

    def marginal(y, mu, sigma):
        value = op.minimum_value(y, mu, sigma)
        return (-value - pt.log(sigma) - 0.5 * op.log_det_hessian(y, mu, sigma)).sum()

    return marginal


def minimize_marginal(y, mu, sigma):
    """The same with ``pytensor.tensor.optimize.minimize`` per group (Blockwise)."""
    eta = pt.dscalar("eta")
    y_one, mu_one, sigma_one = pt.dscalar("y_one"), pt.dscalar("mu_one"), pt.dscalar("sigma_one")
    objective = pt.exp(eta) - y_one * eta + (eta - mu_one) ** 2 / (2 * sigma_one**2)
    solution, _ = minimize(objective, eta, method="BFGS")
    mode = graph_replace(solution, {eta: pt.log(pt.maximum(y_one, 0.5))}, strict=False)
    value = pt.exp(mode) - y_one * mode + (mode - mu_one) ** 2 / (2 * sigma_one**2)
    hessian = pt.exp(mode) + 1 / sigma_one**2
    one = -value - pt.log(sigma_one) - 0.5 * pt.log(hessian)
    return vectorize_graph(one, {y_one: y, mu_one: mu, sigma_one: sigma}).sum()


def latent_model(groups: int) -> pm.Model:
    """The same model with the latent log-rates sampled (non-centred: no funnel)."""
    with pm.Model() as model:
        mu = pm.Normal("mu", 0.0, 3.0)
        sigma = pm.HalfNormal("sigma", 2.0)
        offsets = pm.Normal("offsets", 0.0, 1.0, shape=groups)
        pm.Poisson("y", mu=pm.math.exp(mu + sigma * offsets), observed=counts(groups))
    return model


def laplace_model(marginal: Callable, groups: int) -> pm.Model:
    """mu ~ Normal(0, 3), sigma ~ HalfNormal(2), the groups' Laplace marginals."""
    with pm.Model() as model:
        y = pm.Data("y", counts(groups))
        mu = pm.Normal("mu", 0.0, 3.0)
        sigma = pm.HalfNormal("sigma", 2.0)
        pm.Potential("marginal", marginal(y, mu, sigma))
    return model
