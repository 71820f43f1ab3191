"""What both seed-page examples share, with no tensor library: the page's model
constants, the steps in order (:func:`main`), the derivative set beside the page's
formula, and the figure.

Used by ``seed_root_model.py`` (PyTensor + PyMC 5) and ``seed_root_model_pymc3.py``
(Theano + PyMC3).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

import arviz as az
import numpy as np
import sympy as sp
from matplotlib.figure import Figure

from implicitop.testing import check_implicit_op

OBSERVED = [0.2, 0.21, 0.3]
#: The page's residual, in its own symbols.
MU, THETA = sp.symbols("mu theta", positive=True)
RESIDUAL = MU + MU * sp.exp(THETA * MU) - 1
#: Where the figure's curves are drawn: the bulk of the HalfNormal(1) prior.
GRID = np.linspace(1e-3, 4.0, 400)


def describe(op: object) -> None:
    """Print the op's residual and derivative beside the page's hand-derived formula."""
    page_formula = -(MU**2) / (1 + THETA * MU + sp.exp(-THETA * MU))
    print(f"residual:          R = {op.residual}")
    print(f"dmu/dtheta:        {op.derivative}")
    print(f"seed page formula: {page_formula}")
    same = sp.simplify(op.derivative - page_formula) == 0
    print(f"symbolically equal to the page's formula: {same}")


def plot(mu_values: np.ndarray, slopes: np.ndarray, posterior: np.ndarray, path: Path) -> None:
    """mu(theta) and dmu/dtheta over :data:`GRID`, and the posterior draws of theta."""
    figure = Figure(figsize=(13, 3.8), layout="constrained")
    axes = figure.subplots(1, 3)
    axes[0].plot(GRID, mu_values)
    axes[0].axhspan(min(OBSERVED), max(OBSERVED), color="tab:orange", alpha=0.2, label="observed y")
    axes[0].set(xlabel=r"$\theta$", ylabel=r"$\mu(\theta)$", title=r"root $\mu(\theta)$")
    axes[0].legend()
    axes[1].plot(GRID, slopes, color="tab:green")
    axes[1].set(xlabel=r"$\theta$", ylabel=r"$d\mu/d\theta$", title="implicit derivative")
    axes[2].hist(posterior, bins=60, density=True, alpha=0.6, label="posterior (NUTS)")
    axes[2].plot(GRID, 2 * np.exp(-(GRID**2) / 2) / np.sqrt(2 * np.pi), label="HalfNormal(1) prior")
    axes[2].set(xlabel=r"$\theta$", title=r"posterior of $\theta$", xlim=(0, 4))
    axes[2].legend()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=120)
    print(f"plot saved to {path}")


def main(
    description: str,
    output: Path,
    make_op: Callable[..., object],
    verify_grad: Callable[..., None],
    sample: Callable[[object, int], az.InferenceData],
    curves: Callable[[object], Callable[[np.ndarray], list[np.ndarray]]],
) -> None:
    """Run the seed page end to end with one library's pieces.

    Parameters
    ----------
    description
        The example's one-line description, for ``--help``.
    output
        Where the figure goes unless ``--output`` says otherwise.
    make_op
        The library's ``make_implicit_op``.
    verify_grad
        The library's ``verify_grad``, run at the page's three points before
        :func:`implicitop.testing.check_implicit_op` sweeps the prior range.
    sample
        ``(op, draws) ->`` the posterior of the page's model, as ArviZ data.
    curves
        ``op ->`` a function of a theta vector returning ``[mu, dmu/dtheta]``.
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--draws", type=int, default=1000, help="draws (and tuning steps)")
    parser.add_argument("--output", type=Path, default=output, help="where to save the plot")
    args = parser.parse_args()

    print("== 1. derive and build the op")
    op = make_op(RESIDUAL, MU, THETA)
    describe(op)
    print("\n== 2. check the gradient")
    for point in (0.2, 1e-5, 1e5):
        verify_grad(op, [np.array(point)], rng=np.random.RandomState(0))
        print(f"verify_grad at theta={point:g}: passed")
    check_implicit_op(op, {"theta": (1e-5, 1e5)}, max_examples=30)
    print("check_implicit_op over theta in [1e-5, 1e5], 30 log-uniform points: passed")
    print("\n== 3. sample with NUTS")
    idata = sample(op, args.draws)
    print("\n== 4. posterior summary")
    print(az.summary(idata, var_names=["theta", "mu"]))
    print("\n== 5. plot")
    mu_values, slopes = curves(op)(GRID)
    plot(mu_values, slopes, idata.posterior["theta"].values.ravel(), args.output)
