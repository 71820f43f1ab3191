"""The seed page's model and its exact posterior mean, shared by the sampler tests."""

from functools import cache

import arviz as az
import numpy as np
import pymc as pm
from scipy import integrate, stats

from catalogue import seed_root

OBSERVED = [0.2, 0.21, 0.3]


def seed_model(mu_op) -> pm.Model:
    """theta ~ HalfNormal(1), mu = mu_op(theta), y ~ Normal(mu, 0.1) observed."""
    with pm.Model() as model:
        theta = pm.HalfNormal("theta", sigma=1)
        mu = pm.Deterministic("mu", mu_op(theta))
        pm.Normal("y", mu=mu, sigma=0.1, observed=OBSERVED)
    return model


@cache
def exact_posterior_mean() -> float:
    """E[theta | y] by quadrature, with the root from Brent's method."""

    def unnormalised(theta: float) -> float:
        mu = seed_root(theta)
        return stats.halfnorm.pdf(theta) * np.prod(stats.norm.pdf(OBSERVED, mu, 0.1))

    mass = integrate.quad(unnormalised, 0, 12, limit=200)[0]
    first_moment = integrate.quad(lambda t: t * unnormalised(t), 0, 12, limit=200)[0]
    return first_moment / mass


def posterior_mean_and_mcse(idata) -> tuple[float, float]:
    """Posterior mean of theta and its Monte Carlo standard error."""
    summary = az.summary(idata, var_names=["theta"])
    return float(summary["mean"].iloc[0]), float(summary["mcse_mean"].iloc[0])
