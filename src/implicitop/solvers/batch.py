"""The loop over elements that both algorithms share, and its C entry point.

Every element is an independent root problem: its parameters are checked, its
starting point is chosen, and the algorithm's ``solve_block`` (one equation:
:mod:`~implicitop.solvers.scalar`; systems: :mod:`~implicitop.solvers.system`)
solves it, :data:`BLOCK` elements at a time. This module's source opens each
problem's generated module (see :mod:`~implicitop.solvers.compiled`); the algorithm's
source follows it and defines ``solve_block``, the problem's functions follow that.

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

__all__ = [
    "BLOCK",
    "C_SIGNATURE",
    "parameter_status",
    "solve",
    "solve_block",
    "solve_from_pointers",
]

#: Elements solved together: enough independent work for the processor to overlap.
BLOCK = 64


def solve_block(
    x0: np.ndarray,
    params: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    grid: np.ndarray,
    tol: float,
    newton_iterations: int,
    maxiter: int,
    root: np.ndarray,
    code: np.ndarray,
) -> None:
    """Solve the rows of ``params`` (b, k) whose ``code`` is ``MAXITER`` from their
    starting points ``x0`` (b, n): roots into ``root`` (b, n), status codes into ``code``.

    Each algorithm module defines its own; this one only states the contract.
    """
    raise NotImplementedError("solve_block is defined by the algorithm modules")


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
    size = params.shape[0]
    x0 = np.empty((BLOCK, lower.shape[0]))
    for start in range(0, size, BLOCK):
        stop = min(start + BLOCK, size)
        for i in range(start, stop):
            root[i, :] = math.nan
            code[i] = parameter_status(params[i], param_lower, param_upper)
            if code[i] == MAXITER:
                starting_point(params[i], lower, upper, defaults, x0[i - start])
        solve_block(
            x0[: stop - start], params[start:stop], lower, upper, grid, tol, newton_iterations,
            maxiter, root[start:stop], code[start:stop],
        )  # fmt: skip


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
