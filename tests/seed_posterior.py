"""The seed page's model and its exact posterior mean, shared by the sampler tests."""

from functools import cache

import arviz as az
import pymc as pm

from references import seed_posterior_mean

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
    """E[theta | y] by quadrature (:func:`references.seed_posterior_mean`)."""
    return seed_posterior_mean(OBSERVED)


def posterior_mean_and_mcse(idata) -> tuple[float, float]:
    """Posterior mean of theta and its Monte Carlo standard error."""
    summary = az.summary(idata, var_names=["theta"])
    return float(summary["mean"].iloc[0]), float(summary["mcse_mean"].iloc[0])
