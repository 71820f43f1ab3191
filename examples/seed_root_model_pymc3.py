"""The seed page's root-finding model on the page's own stack: Theano + PyMC3.

The same model as ``seed_root_model.py``, with ``implicitop.theano``: derive
dmu/dtheta, build the Theano op, check its gradient with Theano's verify_grad at the
page's three points and a Hypothesis sweep, sample with PyMC3's NUTS on two
processes, print the posterior summary and save a plot to
outputs/seed_root_model_pymc3.png.

Run in the legacy environment: ``make run-theano``, or
``.venv-theano/bin/python examples/seed_root_model_pymc3.py [--draws N]``.
"""

# ruff: noqa: I001  (implicitop.theano goes first: it sets THEANO_FLAGS before Theano loads)
from __future__ import annotations

from pathlib import Path

from implicitop.theano import ImplicitOp, make_implicit_op

import arviz as az
import pymc3 as pm
import theano
import theano.tensor as tt
from seed_page import OBSERVED, main


OUTPUT = Path("outputs") / "seed_root_model_pymc3.png"


def sample(op: ImplicitOp, draws: int) -> az.InferenceData:
    """The page's model, as the page writes it, with the op in place of MuFromTheta."""
    with pm.Model():
        theta = pm.HalfNormal("theta", sd=1)
        mu = pm.Deterministic("mu", op(theta))
        pm.Normal("y", mu=mu, sd=0.1, observed=OBSERVED)
        return pm.sample(
            draws, tune=draws, chains=2, cores=2, random_seed=1, return_inferencedata=True
        )


def curves(op: ImplicitOp) -> theano.compile.function.types.Function:
    """mu(theta) and dmu/dtheta for a vector of thetas, compiled."""
    # PyMC3 may leave Theano computing test values after a model block; a free input
    # like this one has none.
    with theano.config.change_flags(compute_test_value="off"):
        theta = tt.dvector("theta")
        return theano.function([theta], [op(theta), theano.grad(op(theta).sum(), theta)])


if __name__ == "__main__":
    verify_grad = theano.gradient.verify_grad
    main(__doc__.splitlines()[0], OUTPUT, make_implicit_op, verify_grad, sample, curves)
