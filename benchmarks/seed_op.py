"""Baseline ``seed_op``: the seed page's hand-written ``MuFromTheta``, ported to PyTensor.

scipy's Newton on the log form of the residual per call, and the gradient derived by
hand on the page. The tests use it as the reference the library must agree with.
"""

import numpy as np
import pytensor.tensor as pt
from pytensor.graph.op import Op
from scipy import optimize, special


def func(mu, theta):
    thetamu = theta * mu
    return np.log(mu) + np.logaddexp(0, thetamu)


def jac(mu, theta):
    thetamu = theta * mu
    return theta * special.expit(thetamu) + 1 / mu


def mu_from_theta(theta):
    # The page passes args=(0.4,), which freezes theta; the evident intent is theta.
    return optimize.newton(func, 1, fprime=jac, args=(theta,))


class MuFromTheta(Op):
    """The seed's op: scalar in, scalar out."""

    itypes = (pt.dscalar,)
    otypes = (pt.dscalar,)

    def perform(self, node, inputs, outputs):
        (theta,) = inputs
        outputs[0][0] = np.array(mu_from_theta(theta))

    def grad(self, inputs, g):
        (theta,) = inputs
        mu = self(theta)
        thetamu = theta * mu
        return [-g[0] * mu**2 / (1 + thetamu + pt.exp(-thetamu))]
