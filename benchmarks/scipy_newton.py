"""Baselines for batches of roots of the seed residual with SciPy.

All use the seed page's overflow-safe log form of the residual.
"""

import numpy as np
from scipy import optimize
from scipy.optimize import elementwise

from seed_page_solver import func, jac


def python_loop(thetas: np.ndarray) -> np.ndarray:
    """One scalar ``newton`` call per theta, from the seed's initial guess 1."""
    return np.array([optimize.newton(func, 1.0, fprime=jac, args=(t,)) for t in thetas])


def vectorised(thetas: np.ndarray) -> np.ndarray:
    """One ``newton`` call with an array ``x0`` of ones."""
    return optimize.newton(func, np.ones_like(thetas), fprime=jac, args=(thetas,))


def find_root(thetas: np.ndarray) -> np.ndarray:
    """``scipy.optimize.elementwise.find_root`` (Chandrupatla's bracketing method) over
    the bracket [1e-300, 1], which holds every root."""
    result = elementwise.find_root(func, (1e-300, 1.0), args=(thetas,))
    return result.x
