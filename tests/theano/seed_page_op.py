"""The seed page's hand-written ``MuFromTheta`` Theano op, as the page writes it (over
the page's solver, :mod:`seed_page_solver`): the reference the library's Theano op
must agree with in the same environment."""

import numpy as np
import theano.tensor as tt

from seed_page_solver import mu_from_theta


class MuFromTheta(tt.Op):
    itypes = [tt.dscalar]  # noqa: RUF012  (as on the page)
    otypes = [tt.dscalar]  # noqa: RUF012

    def perform(self, node, inputs, outputs):
        (theta,) = inputs
        mu = mu_from_theta(theta)
        outputs[0][0] = np.array(mu)

    def grad(self, inputs, g):
        (theta,) = inputs
        mu = self(theta)
        thetamu = theta * mu
        return [-g[0] * mu**2 / (1 + thetamu + tt.exp(-thetamu))]
