"""Baseline ``seed_op``: the seed page's hand-written ``MuFromTheta``, ported to PyTensor.

scipy's Newton on the log form of the residual per call (:mod:`seed_page_solver`), and
the gradient derived by hand on the page. The tests use it as the reference the library
must agree with.
"""

import numpy as np
import pytensor.tensor as pt
from pytensor.graph.op import Op

from seed_page_solver import mu_from_theta


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
