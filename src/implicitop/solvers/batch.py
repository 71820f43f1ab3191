"""The loop over elements that both algorithms share, and its C entry point.

Every element is an independent root problem: its parameters are checked, its
starting point is chosen, and the algorithm's ``solve_element`` (one equation:
:mod:`~implicitop.solvers.scalar`; systems: :mod:`~implicitop.solvers.system`)
solves it. This module's source opens each problem's generated module (see
:mod:`~implicitop.solvers.compiled`); the algorithm's source follows it and defines
``solve_element``, the problem's functions follow that.

Arrays: ``params`` (m, k), one row per element; ``lower``, ``upper``, ``defaults``
(n,), the search domain and fallback start of each unknown; ``param_lower``,
``param_upper`` (k,); ``grid`` the scan grid of the one-equation solver (unused by
systems); ``root`` (m, n) and ``code`` (m,) are filled in.
"""

import math

import numpy as np
from numba import carray

from implicitop.solvers.interface import guess
from implicitop.solvers.status import MAXITER, NONFINITE_PARAMETER, PARAMETER_OUTSIDE_DOMAIN

__all__ = ["C_SIGNATURE", "parameter_status", "solve", "solve_element", "solve_from_pointers"]


def solve_element(
    x0: np.ndarray,
    p: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    grid: np.ndarray,
    tol: float,
    newton_iterations: int,
    maxiter: int,
    root: np.ndarray,
) -> int:
    """Solve one element from ``x0`` into ``root`` (n,); return its status code.

    Each algorithm module defines its own; this one only states the contract.
    """
    raise NotImplementedError("solve_element is defined by the algorithm modules")


def parameter_status(p: np.ndarray, param_lower: np.ndarray, param_upper: np.ndarray) -> int:
    """``MAXITER`` (to be solved) or why the element's parameters cannot be used."""
    for j in range(p.shape[0]):
        if not math.isfinite(p[j]):
            return NONFINITE_PARAMETER
    for j in range(p.shape[0]):
        if p[j] < param_lower[j] or p[j] > param_upper[j]:
            return PARAMETER_OUTSIDE_DOMAIN
    return MAXITER


def starting_point(
    p: np.ndarray, lower: np.ndarray, upper: np.ndarray, defaults: np.ndarray, x0: np.ndarray
) -> None:
    """Fill ``x0`` with the user's guess where it is finite and in the domain, else the
    default."""
    start = guess(p)
    for j in range(x0.shape[0]):
        value = start[j]
        usable = math.isfinite(value) and lower[j] <= value <= upper[j]
        x0[j] = value if usable else defaults[j]


def solve(
    params: np.ndarray,
    param_lower: np.ndarray,
    param_upper: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    defaults: np.ndarray,
    grid: np.ndarray,
    tol: float,
    newton_iterations: int,
    maxiter: int,
    root: np.ndarray,
    code: np.ndarray,
) -> None:
    """Solve every row of ``params``: roots into ``root`` (NaN where none), status
    codes into ``code``."""
    x0 = np.empty(lower.shape[0])
    for i in range(params.shape[0]):
        p = params[i]
        root[i, :] = math.nan
        code[i] = parameter_status(p, param_lower, param_upper)
        if code[i] != MAXITER:
            continue
        starting_point(p, lower, upper, defaults, x0)
        code[i] = solve_element(x0, p, lower, upper, grid, tol, newton_iterations, maxiter, root[i])


#: The numba signature of :func:`solve_from_pointers`.
C_SIGNATURE = (
    "void(intp, intp, intp, CPointer(float64), CPointer(float64), CPointer(float64), "
    "CPointer(float64), CPointer(float64), CPointer(float64), CPointer(float64), intp, "
    "float64, int64, int64, CPointer(float64), CPointer(int8))"
)


def solve_from_pointers(
    size: int,
    n: int,
    k: int,
    params: object,
    param_lower: object,
    param_upper: object,
    lower: object,
    upper: object,
    defaults: object,
    grid: object,
    grid_size: int,
    tol: float,
    newton_iterations: int,
    maxiter: int,
    root: object,
    code: object,
) -> None:
    """:func:`solve` with every array passed by address (compiled as a C function)."""
    solve(
        carray(params, (size, k)),
        carray(param_lower, (k,)),
        carray(param_upper, (k,)),
        carray(lower, (n,)),
        carray(upper, (n,)),
        carray(defaults, (n,)),
        carray(grid, (grid_size,)),
        tol,
        newton_iterations,
        maxiter,
        carray(root, (size, n)),
        carray(code, (size,)),
    )
