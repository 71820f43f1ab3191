"""The seed page's hand-written solver: SciPy's Newton on the log form of the
residual, ``log(mu) + log(1 + exp(theta*mu)) = 0``, with the page's derivative.

NumPy and SciPy only, so the page's op can be written over it for PyTensor
(:mod:`seed_op`) and for Theano (``tests/theano/seed_page_op.py``).
"""

import numpy as np
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
