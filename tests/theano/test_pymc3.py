"""The seed page, literally, in PyMC3 3.11: its root-finding model sampled with NUTS,
ADVI and Metropolis, its shared-variable workflow and prediction on new data.

Posterior means are checked against the exact posterior by quadrature
(:mod:`references`, the same numbers the PyMC 5 suite checks against) and against
the page's hand-written op run in the same environment.
"""

import arviz as az
import numpy as np
import pymc3 as pm
import pytest
import sympy as sp
import theano

from implicitop.theano import make_implicit_op
from references import OBSERVED, seed_posterior_moments, seed_root
from seed_page_op import MuFromTheta

mu, theta, x = sp.symbols("mu theta x", positive=True)


def seed_model(mu_op, observed=OBSERVED) -> pm.Model:
    """The page's model: theta ~ HalfNormal(1), mu = op(theta), y ~ Normal(mu, 0.1)."""
    with pm.Model() as model:
        theta_variable = pm.HalfNormal("theta", sd=1)
        mu_variable = pm.Deterministic("mu", mu_op(theta_variable))
        pm.Normal("y", mu=mu_variable, sd=0.1, observed=observed)
    return model


def nuts(model: pm.Model, draws: int = 500, chains: int = 2, cores: int = 2, seed: int = 1):
    with model:
        return pm.sample(
            draws, tune=draws, chains=chains, cores=cores, random_seed=seed,
            progressbar=False, return_inferencedata=False, compute_convergence_checks=False,
        )  # fmt: skip


def mean_and_mcse(trace) -> tuple[float, float]:
    summary = az.summary(az.from_pymc3(trace), var_names=["theta"])
    return float(summary["mean"].iloc[0]), float(summary["mcse_mean"].iloc[0])


@pytest.fixture(scope="module")
def seed_op():
    return make_implicit_op(mu + mu * sp.exp(theta * mu) - 1, mu, theta)


def test_nuts_on_two_processes_agrees_with_the_exact_posterior_and_the_pages_op(seed_op):
    exact, _ = seed_posterior_moments()
    ours, ours_error = mean_and_mcse(nuts(seed_model(seed_op)))
    page, page_error = mean_and_mcse(nuts(seed_model(MuFromTheta())))
    assert abs(ours - exact) < 4 * ours_error + 0.01
    assert abs(page - exact) < 4 * page_error + 0.01
    assert abs(ours - page) < 4 * np.hypot(ours_error, page_error) + 0.01


def test_advi_follows_the_same_path_as_with_the_pages_op(seed_op):
    # Same seed, same gradients to rounding: the two fits end at the same place.
    fits = []
    for op in (seed_op, MuFromTheta()):
        with seed_model(op):
            approximation = pm.fit(6000, method="advi", random_seed=3, progressbar=False)
        fits.append(approximation.sample(2000)["theta"].mean())
    exact, spread = seed_posterior_moments()
    assert fits[0] == pytest.approx(fits[1], abs=0.02)
    assert abs(fits[0] - exact) < 0.5 * spread  # mean-field ADVI on log(theta) is biased


def test_metropolis_agrees_with_the_exact_posterior(seed_op):
    with seed_model(seed_op):
        trace = pm.sample(
            3000, tune=1000, step=pm.Metropolis(), chains=2, cores=1, random_seed=2,
            progressbar=False, return_inferencedata=False, compute_convergence_checks=False,
        )  # fmt: skip
    exact, _ = seed_posterior_moments()
    mean, error = mean_and_mcse(trace)
    assert abs(mean - exact) < 4 * error + 0.01
    np.testing.assert_allclose(trace["mu"], [seed_root(t) for t in trace["theta"]], rtol=1e-12)


def test_one_model_fitted_to_ten_datasets_with_set_value(seed_op):
    # The page's shared-variable workflow: build once, switch the observations.
    rng = np.random.default_rng(4)
    truths = rng.uniform(0.2, 2.0, 10)
    datasets = [seed_root(t) + 0.1 * rng.standard_normal(20) for t in truths]
    data = theano.shared(datasets[0])
    model = seed_model(seed_op, observed=data)
    for observed in datasets:
        data.set_value(observed)
        trace = nuts(model, draws=300, chains=1, cores=1)
        exact, spread = seed_posterior_moments(observed)
        assert abs(trace["theta"].mean() - exact) < 0.4 * spread


def test_predictions_on_new_inputs_of_another_length():
    # The page's sample_ppc: fit with shared inputs, switch them, predict.
    op = make_implicit_op(mu + mu * sp.exp(theta * mu * x) - 1, mu, [theta, x])
    rng = np.random.default_rng(5)
    train = rng.uniform(0.5, 5.0, 40)
    observed = np.array([seed_root(1.3 * v) for v in train]) + 0.05 * rng.standard_normal(40)
    with pm.Model():
        inputs = pm.Data("x", train)
        theta_variable = pm.HalfNormal("theta", sd=2)
        pm.Normal("y", mu=op(theta_variable, inputs), sd=0.05, observed=observed)
        trace = pm.sample(
            300, tune=300, chains=1, cores=1, random_seed=6, progressbar=False,
            return_inferencedata=False, compute_convergence_checks=False,
        )  # fmt: skip
        new = np.array([0.5, 1.0, 2.0])
        pm.set_data({"x": new})
        predicted = pm.sample_posterior_predictive(trace, samples=600, progressbar=False)["y"]
    assert predicted.shape == (600, 3)
    thetas = trace["theta"]
    expected = np.mean([[seed_root(t * v) for v in new] for t in thetas], axis=0)
    spread = np.sqrt(0.05**2 + np.var([[seed_root(t * v) for v in new] for t in thetas], axis=0))
    error = np.abs(predicted.mean(axis=0) - expected)
    np.testing.assert_array_less(error, 4 * spread / np.sqrt(600))
