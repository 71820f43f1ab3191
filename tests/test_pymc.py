"""The op inside PyMC models: data inputs, set_data workflows, MAP and SMC."""

import numpy as np
import pymc as pm
import pytensor
import pytest
from scipy import integrate, optimize, stats

from catalogue import build_saturation, build_seed, saturation_gradient, saturation_root, seed_root
from seed_posterior import OBSERVED, seed_model


def saturation_model(x, y) -> pm.Model:
    """theta ~ HalfNormal(2); y_i ~ Normal(mu(theta, x_i), 0.05), x and y as pm.Data."""
    op = build_saturation()
    with pm.Model() as model:
        x_data = pm.Data("x", x)
        y_data = pm.Data("y", y)
        theta = pm.HalfNormal("theta", sigma=2)
        mu = pm.Deterministic("mu", op(theta, x_data))
        pm.Normal("obs", mu=mu, sigma=0.05, observed=y_data, shape=x_data.shape)
    return model


def synthetic(theta: float, size: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.1, 5.0, size)
    y = np.array([saturation_root(theta, v) for v in x]) + rng.normal(0, 0.05, size)
    return x, y


def test_gradient_over_observations_is_the_sum_of_per_point_gradients():
    x, y = synthetic(0.8, 50, seed=0)
    model = saturation_model(x, y)
    dlogp = model.compile_dlogp()
    theta = 1.3
    point = {"theta_log__": np.log(theta)}
    mu = np.array([saturation_root(theta, v) for v in x])
    dmu = np.array([saturation_gradient(theta, v)[0] for v in x])
    # d/dlog(theta) of sum log N(y | mu, 0.05) + log HalfNormal(theta) + log(theta)
    expected = theta * (np.sum((y - mu) / 0.05**2 * dmu) - theta / 4) + 1
    np.testing.assert_allclose(dlogp(point), [expected], rtol=1e-9)


def test_compiled_logp_follows_set_data_without_recompiling():
    datasets = [synthetic(theta, 20, seed) for seed, theta in enumerate([0.3, 1.0, 2.5])]
    model = saturation_model(*datasets[0])
    logp = model.compile_logp()
    maker = logp.f.maker
    point = {"theta_log__": np.log(0.9)}
    for x, y in datasets:
        with model:
            pm.set_data({"x": x, "y": y})
        fresh = saturation_model(x, y).compile_logp()
        assert logp(point) == pytest.approx(fresh(point), rel=1e-12)
    assert logp.f.maker is maker


def test_predictions_take_the_shape_of_new_data():
    x, y = synthetic(0.8, 100, seed=1)
    model = saturation_model(x, y)
    with model:
        idata = pm.sample(draws=200, tune=200, chains=2, cores=1, random_seed=3, progressbar=False)
        new_x = np.array([0.5, 2.0, 4.0])
        pm.set_data({"x": new_x, "y": np.zeros(3)})
        predictions = pm.sample_posterior_predictive(
            idata, var_names=["mu", "obs"], random_seed=4, progressbar=False
        )
    mu = predictions.posterior_predictive["mu"]
    obs = predictions.posterior_predictive["obs"]
    assert mu.shape == (2, 200, 3) and obs.shape == (2, 200, 3)
    thetas = idata.posterior["theta"].values
    expected = np.vectorize(saturation_root)(thetas[..., None], new_x)
    np.testing.assert_allclose(mu.values, expected, rtol=1e-12)
    # the fitted curve recovers the truth at the new inputs within the noise
    truth = [saturation_root(0.8, v) for v in new_x]
    np.testing.assert_allclose(obs.mean(("chain", "draw")), truth, atol=0.03)


def log_posterior(theta: float) -> float:
    mu = seed_root(theta)
    return stats.halfnorm.logpdf(theta) + stats.norm.logpdf(OBSERVED, mu, 0.1).sum()


def test_find_map_matches_a_scalar_optimiser():
    with seed_model(build_seed()):
        estimate = pm.find_MAP(progressbar=False)
    # find_MAP optimises on log(theta) without the Jacobian: the mode of p(theta)
    reference = optimize.minimize_scalar(
        lambda theta: -log_posterior(theta),
        bounds=(1e-6, 10),
        method="bounded",
        options={"xatol": 1e-12},
    )
    assert float(estimate["theta"]) == pytest.approx(reference.x, rel=1e-5)


def test_smc_posterior_mean_matches_quadrature():
    def density(theta):
        return np.exp(log_posterior(theta))

    mass = integrate.quad(density, 0, 12, limit=200)[0]
    mean = integrate.quad(lambda t: t * density(t), 0, 12, limit=200)[0] / mass
    with seed_model(build_seed()):
        idata = pm.sample_smc(draws=1000, chains=2, cores=1, random_seed=9, progressbar=False)
    samples = idata.posterior["theta"].values.ravel()
    assert samples.mean() == pytest.approx(mean, abs=4 * samples.std() / np.sqrt(400))


def test_pm_data_feeds_a_compiled_function_of_any_length():
    op = build_saturation()
    x = pytensor.shared(np.array([1.0, 2.0]))
    function = pytensor.function([], op(0.5, x))
    x.set_value(np.linspace(0.1, 3, 7))
    np.testing.assert_allclose(
        function(), [saturation_root(0.5, v) for v in np.linspace(0.1, 3, 7)], rtol=1e-13
    )
