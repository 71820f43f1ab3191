"""The seed page's root-finding model, end to end, with implicitop.

theta ~ HalfNormal(1);  mu > 0 solves  mu + mu * exp(theta * mu) - 1 = 0;
y ~ Normal(mu, 0.1) observed at [0.2, 0.21, 0.3].

Derives dmu/dtheta, builds the op, checks its gradient (verify_grad at the page's
three points and a Hypothesis sweep over 1e-5 ... 1e5), samples with NUTS, prints
the posterior summary and saves a plot to outputs/seed_root_model.png.

Run with ``make run`` or ``python examples/seed_root_model.py [--draws N]``.
"""

from __future__ import annotations

from pathlib import Path

import arviz as az
import pymc as pm
import pytensor
import pytensor.tensor as pt
from pytensor.gradient import verify_grad

from implicitop import ImplicitOp, make_implicit_op
from seed_page import OBSERVED, main

OUTPUT = Path("outputs") / "seed_root_model.png"


def sample(op: ImplicitOp, draws: int) -> az.InferenceData:
    with pm.Model():
        theta = pm.HalfNormal("theta", sigma=1)
        pm.Deterministic("mu", op(theta))
        pm.Normal("y", mu=op(theta), sigma=0.1, observed=OBSERVED)
        return pm.sample(draws=draws, tune=draws, chains=2, cores=2, random_seed=1)


def curves(op: ImplicitOp) -> pytensor.compile.function.types.Function:
    """mu(theta) and dmu/dtheta for a vector of thetas, compiled."""
    theta = pt.dvector("theta")
    return pytensor.function([theta], [op(theta), pytensor.grad(op(theta).sum(), theta)])


if __name__ == "__main__":
    main(__doc__.splitlines()[0], OUTPUT, make_implicit_op, verify_grad, sample, curves)
