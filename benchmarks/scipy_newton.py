"""Baselines for batches of roots of the seed residual with ``scipy.optimize.newton``.

Both use the seed page's overflow-safe log form of the residual and its derivative.
"""

import numpy as np
from scipy import optimize

from seed_op import func, jac


def python_loop(thetas: np.ndarray) -> np.ndarray:
    """One scalar ``newton`` call per theta, from the seed's initial guess 1."""
    return np.array([optimize.newton(func, 1.0, fprime=jac, args=(t,)) for t in thetas])


def vectorised(thetas: np.ndarray) -> np.ndarray:
    """One ``newton`` call with an array ``x0`` of ones."""
    return optimize.newton(func, np.ones_like(thetas), fprime=jac, args=(thetas,))
