"""The seed page ("Advanced usage of Theano in PyMC3") reproduced with implicitop."""

import numpy as np
import pymc as pm
import pytest
import sympy as sp
from pytensor.gradient import verify_grad

from catalogue import build_seed
from implicitop.testing import check_implicit_op
from seed_op import MuFromTheta
from seed_posterior import exact_posterior_mean as exact_seed_posterior_mean
from seed_posterior import posterior_mean_and_mcse, seed_model

SEED_DERIVATIVE_TEXT = "-mu**2/(1 + theta*mu + exp(-theta*mu))"


@pytest.fixture(scope="module")
def op():
    return build_seed()


@pytest.fixture(scope="module")
def exact_posterior_mean() -> float:
    return exact_seed_posterior_mean()


def test_derivative_equals_the_seed_formula(op):
    mu, theta = op.unknown, op.params[0]
    seed = sp.sympify(SEED_DERIVATIVE_TEXT, locals={"mu": mu, "theta": theta})
    assert sp.simplify(op.derivative - seed) == 0
    grid_derivative = sp.lambdify((mu, theta), op.derivative)
    grid_seed = sp.lambdify((mu, theta), seed)
    mus, thetas = np.meshgrid(np.linspace(0.01, 0.99, 30), np.geomspace(1e-5, 30, 30))
    np.testing.assert_allclose(grid_derivative(mus, thetas), grid_seed(mus, thetas), rtol=1e-12)


@pytest.mark.parametrize("theta", [0.2, 1e-5, 1e5])
def test_verify_grad_at_the_seed_points(op, theta):
    verify_grad(op, [np.array(theta)], rng=np.random.default_rng(0))


def test_verify_grad_across_the_prior_range_by_hypothesis(op):
    check_implicit_op(op, {"theta": (1e-5, 1e5)})


def test_matches_the_hand_written_op_pointwise(op):
    import pytensor
    import pytensor.tensor as pt

    theta = pt.dscalar("theta")
    ours = pytensor.function([theta], [op(theta), pytensor.grad(op(theta), theta)])
    reference_op = MuFromTheta()
    reference = pytensor.function(
        [theta], [reference_op(theta), pytensor.grad(reference_op(theta), theta)]
    )
    for value in np.geomspace(1e-3, 1e3, 25):
        np.testing.assert_allclose(ours(value), reference(value), rtol=1e-9)


def _sample(mu_op, random_seed: int = 11, metropolis: bool = False, **kwargs):
    with seed_model(mu_op):
        step = pm.Metropolis() if metropolis else None
        return pm.sample(
            chains=2, cores=1, step=step, random_seed=random_seed, progressbar=False, **kwargs
        )


def test_nuts_posterior_matches_the_hand_written_op_and_quadrature(op, exact_posterior_mean):
    ours = _sample(op, draws=600, tune=600)
    reference = _sample(MuFromTheta(), draws=600, tune=600)
    assert int(ours.sample_stats["diverging"].sum()) == 0
    mean, mcse = posterior_mean_and_mcse(ours)
    reference_mean, reference_mcse = posterior_mean_and_mcse(reference)
    assert abs(mean - reference_mean) < 4 * np.hypot(mcse, reference_mcse)
    assert abs(mean - exact_posterior_mean) < 4 * mcse + 1e-3


def test_metropolis_posterior_matches_the_hand_written_op_and_quadrature(op, exact_posterior_mean):
    ours = _sample(op, random_seed=5, metropolis=True, draws=2000, tune=500)
    reference = _sample(MuFromTheta(), random_seed=6, metropolis=True, draws=2000, tune=500)
    mean, mcse = posterior_mean_and_mcse(ours)
    reference_mean, reference_mcse = posterior_mean_and_mcse(reference)
    assert abs(mean - reference_mean) < 4 * np.hypot(mcse, reference_mcse)
    assert abs(mean - exact_posterior_mean) < 4 * mcse + 1e-3


def test_advi_fit_matches_the_hand_written_op(op, exact_posterior_mean):
    def advi_mean(mu_op) -> float:
        with seed_model(mu_op):
            approximation = pm.fit(n=10_000, method="advi", random_seed=3, progressbar=False)
        return float(approximation.sample(4000, random_seed=4).posterior["theta"].mean())

    ours, reference = advi_mean(op), advi_mean(MuFromTheta())
    assert ours == pytest.approx(reference, rel=1e-6)
    # a Gaussian approximation in log space: close to, not equal to, the posterior mean
    assert ours == pytest.approx(exact_posterior_mean, rel=0.1)
