"""The seed page's shared-variable workflows with an implicit op in the model.

The model: a response mu to a dose x saturates at a rate theta,
mu = x * exp(-theta * mu) (solved by implicitop), observed with noise 0.05.

1. Fit one model to 10 datasets without rebuilding it: ``pm.set_data`` swaps the
   observations and PyMC samples again. The compiled log-density is reused across
   datasets: MAP fits that reuse it are timed against rebuilding the model and
   compiling for every dataset.
2. Predict on unseen inputs: fit on 100 doses, then ``pm.set_data`` with 3 new doses
   and ``pm.sample_posterior_predictive`` gives predictions of the new shape, which
   the seed page says PyMC3 could not do.

Run with ``python examples/shared_data.py [--draws N]``.
"""

from __future__ import annotations

import argparse
import logging
import time

import numpy as np
import pymc as pm
import sympy as sp
from scipy import optimize

from implicitop import ImplicitOp, make_implicit_op

NOISE = 0.05


def saturation_op() -> ImplicitOp:
    mu, theta, x = sp.symbols("mu theta x", positive=True)
    return make_implicit_op(mu - x * sp.exp(-theta * mu), mu, [theta, x])


def build_model(x: np.ndarray, y: np.ndarray) -> pm.Model:
    op = saturation_op()
    with pm.Model() as model:
        x_data = pm.Data("x", x)
        y_data = pm.Data("y", y)
        theta = pm.HalfNormal("theta", sigma=2)
        mu = pm.Deterministic("mu", op(theta, x_data))
        pm.Normal("obs", mu=mu, sigma=NOISE, observed=y_data, shape=x_data.shape)
    return model


def simulate(theta: float, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    roots = saturation_op().solve(theta, x).root
    return roots + rng.normal(0, NOISE, x.shape)


def fit_map(logp_dlogp, start: float) -> float:
    """MAP of theta with a compiled (value, gradient) function of log(theta)."""

    def negative(log_theta: np.ndarray) -> tuple[float, np.ndarray]:
        value, gradient = logp_dlogp({"theta_log__": log_theta[0]})
        return -value, -gradient

    result = optimize.minimize(negative, [np.log(start)], jac=True, method="BFGS")
    return float(np.exp(result.x[0]))


def compiled_logp_dlogp(model: pm.Model):
    logp = model.compile_logp(jacobian=False)
    dlogp = model.compile_dlogp(jacobian=False)
    return lambda point: (logp(point), dlogp(point))


def many_datasets(draws: int, rng: np.random.Generator) -> None:
    true_thetas = rng.uniform(0.2, 2.0, 10)
    x = rng.uniform(0.1, 5.0, 20)
    datasets = [simulate(theta, x, rng) for theta in true_thetas]
    model = build_model(x, datasets[0])

    print("theta true | posterior mean (NUTS, set_data between fits)")
    for theta, y in zip(true_thetas, datasets, strict=True):
        with model:
            pm.set_data({"y": y})
            idata = pm.sample(
                draws=draws, tune=draws, chains=2, cores=2, random_seed=1, progressbar=False
            )
        print(f"  {theta:8.3f} | {float(idata.posterior['theta'].mean()):.3f}")

    start = time.perf_counter()
    reused = compiled_logp_dlogp(model)
    reused_fits = []
    for y in datasets:
        with model:
            pm.set_data({"y": y})
        reused_fits.append(fit_map(reused, 1.0))
    reuse_seconds = time.perf_counter() - start

    start = time.perf_counter()
    rebuilt_fits = [fit_map(compiled_logp_dlogp(build_model(x, y)), 1.0) for y in datasets]
    rebuild_seconds = time.perf_counter() - start

    assert np.allclose(reused_fits, rebuilt_fits, rtol=1e-8), "reused and rebuilt fits differ"
    print(
        f"10 MAP fits: one compiled model with set_data {reuse_seconds:.2f} s, "
        f"rebuilding and compiling each time {rebuild_seconds:.2f} s "
        f"(speed-up x{rebuild_seconds / reuse_seconds:.1f}; same estimates)"
    )


def predict_new_inputs(draws: int, rng: np.random.Generator) -> None:
    x = rng.uniform(0.1, 5.0, 100)
    y = simulate(0.8, x, rng)
    with build_model(x, y):
        idata = pm.sample(draws=draws, tune=draws, chains=2, cores=2, random_seed=2)
        new_x = np.array([-1.0, 0.0, 1.0]) + 2.0
        pm.set_data({"x": new_x, "y": np.zeros_like(new_x)})
        predictions = pm.sample_posterior_predictive(idata, var_names=["obs"], random_seed=3)
    obs = predictions.posterior_predictive["obs"]
    truth = saturation_op().solve(0.8, new_x).root
    print(f"fitted on x of length {x.size}; predictions for x = {new_x} have shape {obs.shape}")
    for dose, mean, sd, value in zip(
        new_x,
        obs.mean(("chain", "draw")).values,
        obs.std(("chain", "draw")).values,
        truth,
        strict=True,
    ):
        print(f"  x = {dose:.1f}: predicted {mean:.3f} +- {sd:.3f}, true mean response {value:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=500, help="draws (and tuning steps)")
    args = parser.parse_args()
    rng = np.random.default_rng(2024)
    logging.getLogger("pymc").setLevel(logging.WARNING)  # keep the per-fit chatter out
    print("== 1. one model, ten datasets")
    many_datasets(args.draws, rng)
    print("\n== 2. prediction on unseen inputs of a new shape")
    predict_new_inputs(args.draws, rng)


if __name__ == "__main__":
    main()
