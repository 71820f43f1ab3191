"""The seed page's root-finding model, end to end, with implicitop.

theta ~ HalfNormal(1);  mu > 0 solves  mu + mu * exp(theta * mu) - 1 = 0;
y ~ Normal(mu, 0.1) observed at [0.2, 0.21, 0.3].

Derives dmu/dtheta, builds the op, checks its gradient (verify_grad at the page's
three points and a Hypothesis sweep over 1e-5 ... 1e5), samples with NUTS, prints
the posterior summary and saves a plot to outputs/seed_root_model.png.

Run with ``make run`` or ``python examples/seed_root_model.py [--draws N]``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import arviz as az
import numpy as np
import pymc as pm
import pytensor
import pytensor.tensor as pt
import sympy as sp
from matplotlib.figure import Figure
from pytensor.gradient import verify_grad

from implicitop import ImplicitOp, make_implicit_op
from implicitop.testing import check_implicit_op

OBSERVED = [0.2, 0.21, 0.3]
OUTPUT = Path("outputs") / "seed_root_model.png"


def build_op() -> ImplicitOp:
    """The op and a print-out of the derivative next to the page's formula."""
    mu, theta = sp.symbols("mu theta", positive=True)
    op = make_implicit_op(mu + mu * sp.exp(theta * mu) - 1, mu, theta)
    seed_formula = -(mu**2) / (1 + theta * mu + sp.exp(-theta * mu))
    print(f"residual:          R = {op.residual}")
    print(f"dmu/dtheta:        {op.derivative}")
    print(f"seed page formula: {seed_formula}")
    same = sp.simplify(op.derivative - seed_formula) == 0
    print(f"symbolically equal to the page's formula: {same}")
    return op


def check_gradient(op: ImplicitOp) -> None:
    """verify_grad at the page's points, then a Hypothesis sweep of the prior range."""
    for point in (0.2, 1e-5, 1e5):
        verify_grad(op, [np.array(point)], rng=np.random.default_rng(0))
        print(f"verify_grad at theta={point:g}: passed")
    check_implicit_op(op, {"theta": (1e-5, 1e5)}, max_examples=30)
    print("check_implicit_op over theta in [1e-5, 1e5], 30 log-uniform points: passed")


def sample(op: ImplicitOp, draws: int) -> az.InferenceData:
    with pm.Model():
        theta = pm.HalfNormal("theta", sigma=1)
        pm.Deterministic("mu", op(theta))
        pm.Normal("y", mu=op(theta), sigma=0.1, observed=OBSERVED)
        return pm.sample(draws=draws, tune=draws, chains=2, cores=2, random_seed=1)


def plot(op: ImplicitOp, idata: az.InferenceData, path: Path) -> None:
    """mu(theta) and dmu/dtheta over the prior range, and the posterior of theta."""
    theta = pt.dvector("theta")
    curves = pytensor.function([theta], [op(theta), pytensor.grad(op(theta).sum(), theta)])
    grid = np.linspace(1e-3, 4.0, 400)
    mu_values, slopes = curves(grid)
    figure = Figure(figsize=(13, 3.8), layout="constrained")
    axes = figure.subplots(1, 3)
    axes[0].plot(grid, mu_values)
    axes[0].axhspan(min(OBSERVED), max(OBSERVED), color="tab:orange", alpha=0.2, label="observed y")
    axes[0].set(xlabel=r"$\theta$", ylabel=r"$\mu(\theta)$", title=r"root $\mu(\theta)$")
    axes[0].legend()
    axes[1].plot(grid, slopes, color="tab:green")
    axes[1].set(xlabel=r"$\theta$", ylabel=r"$d\mu/d\theta$", title="implicit derivative")
    posterior = idata.posterior["theta"].values.ravel()
    axes[2].hist(posterior, bins=60, density=True, alpha=0.6, label="posterior (NUTS)")
    axes[2].plot(grid, 2 * np.exp(-(grid**2) / 2) / np.sqrt(2 * np.pi), label="HalfNormal(1) prior")
    axes[2].set(xlabel=r"$\theta$", title=r"posterior of $\theta$", xlim=(0, 4))
    axes[2].legend()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=120)
    print(f"plot saved to {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=1000, help="draws (and tuning steps)")
    parser.add_argument("--output", type=Path, default=OUTPUT, help="where to save the plot")
    args = parser.parse_args()

    print("== 1. derive and build the op")
    op = build_op()
    print("\n== 2. check the gradient")
    check_gradient(op)
    print("\n== 3. sample with NUTS")
    idata = sample(op, args.draws)
    print("\n== 4. posterior summary")
    print(az.summary(idata, var_names=["theta", "mu"]))
    print("\n== 5. plot")
    plot(op, idata, args.output)


if __name__ == "__main__":
    main()
