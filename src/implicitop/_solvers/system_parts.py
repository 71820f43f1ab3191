"""What both methods for systems (:mod:`~implicitop._solvers.system`,
:mod:`~implicitop._solvers.hybrid`) are built from: an element's work arrays, the
evaluation of ``R`` and ``J``, the small dense linear solver, moves that respect the
unknowns' bounds and the measure of how near a point is to a root.

This module's source comes last in a generated solver of systems (see
:mod:`~implicitop._solvers.generated`): the modules before it import these names from
it, and its definitions replace those imports there.
"""

import math
from typing import NamedTuple

import numpy as np

from implicitop._solvers.interface import residuals_and_jacobian, scales
from implicitop._solvers.status import (
    RESIDUAL_FLOOR,
    RESIDUAL_RTOL,
    ULPS_OF_X,
)

__all__ = [
    "BOUNDARY_FRACTION",
    "Scratch",
    "all_finite",
    "all_finite_matrix",
    "all_zero",
    "assign",
    "error_at",
    "evaluate",
    "half_sum_of_squares",
    "move",
    "residual_error",
    "scratch",
    "solve_linear",
]

#: The least fraction of its distance to a bound an unknown keeps in one move.
BOUNDARY_FRACTION = 1e-3


def assign(destination: np.ndarray, values: np.ndarray) -> None:
    """``destination[:] = values`` (1-d), as a loop: numba compiles each slice
    assignment into a broadcasting routine of its own."""
    for j in range(destination.shape[0]):
        destination[j] = values[j]


def evaluate(u: np.ndarray, p: np.ndarray, values: np.ndarray, jacobian: np.ndarray) -> float:
    """Fill ``values`` (n,) with ``R(u, p)`` and ``jacobian`` (n, n) with ``dR/du``;
    return the objective ``f(u, p)`` whose gradient ``R`` is (0 if there is none)."""
    out = residuals_and_jacobian(u, p)
    n = values.shape[0]
    for i in range(n):
        values[i] = out[i]
        for j in range(n):
            jacobian[i, j] = out[n + i * n + j]
    return out[n + n * n]


def half_sum_of_squares(values: np.ndarray) -> float:
    """``|values|^2 / 2``, the merit function the line search lowers."""
    total = 0.0
    for v in values:
        total += v * v
    return 0.5 * total


def solve_linear(matrix: np.ndarray, rhs: np.ndarray, work: np.ndarray, out: np.ndarray) -> bool:
    """Fill ``out`` with ``-matrix^-1 rhs`` (n, n and n) by Gaussian elimination with
    partial pivoting in ``work`` (n, n + 1); whether ``matrix`` is regular (no zero
    pivot) and the result finite.

    For the few unknowns of an element's system this is a fraction of the cost of a
    LAPACK call through numba, which copies and checks its arguments at every call.
    """
    n = rhs.shape[0]
    for i in range(n):
        for j in range(n):
            work[i, j] = matrix[i, j]
        work[i, n] = -rhs[i]
    for column in range(n):
        pivot_row = column
        for row in range(column + 1, n):
            if abs(work[row, column]) > abs(work[pivot_row, column]):
                pivot_row = row
        pivot = work[pivot_row, column]
        if pivot == 0.0 or not math.isfinite(pivot):
            return False
        for j in range(column, n + 1):
            work[column, j], work[pivot_row, j] = work[pivot_row, j], work[column, j]
        for row in range(column + 1, n):
            factor = work[row, column] / pivot
            for j in range(column + 1, n + 1):
                work[row, j] -= factor * work[column, j]
    for row in range(n - 1, -1, -1):
        total = work[row, n]
        for j in range(row + 1, n):
            total -= work[row, j] * out[j]
        out[row] = total / work[row, row]
    return all_finite(out)


def all_finite(a: np.ndarray) -> bool:
    """Whether every entry of the vector ``a`` is finite."""
    for v in a:
        if not math.isfinite(v):
            return False
    return True


def all_zero(a: np.ndarray) -> bool:
    """Whether every entry of the vector ``a`` is zero."""
    for v in a:
        if v != 0.0:
            return False
    return True


def all_finite_matrix(a: np.ndarray) -> bool:
    """Whether every entry of the matrix ``a`` is finite."""
    for i in range(a.shape[0]):
        for j in range(a.shape[1]):
            if not math.isfinite(a[i, j]):
                return False
    return True


def residual_error(u: np.ndarray, p: np.ndarray, values: np.ndarray, jacobian: np.ndarray) -> float:
    """The largest ``|R_i|`` over the rounding error it may carry (NaN if unknown).

    The rounding of ``R_i`` is the larger of :data:`RESIDUAL_RTOL` times the size of
    its terms and its change within a few ulps of ``u`` (and at least one subnormal
    step). ``values`` and ``jacobian`` are filled at ``u``.
    """
    evaluate(u, p, values, jacobian)
    return error_at(u, p, values, jacobian)


def error_at(u: np.ndarray, p: np.ndarray, values: np.ndarray, jacobian: np.ndarray) -> float:
    """:func:`residual_error` where ``values`` and ``jacobian`` at ``u`` are known."""
    sizes = scales(u, p)
    worst = 0.0
    for i in range(values.shape[0]):
        if values[i] == 0.0:
            continue
        rounding = 0.0
        for j in range(values.shape[0]):
            rounding += abs(jacobian[i, j] * u[j])
        allowed = max(RESIDUAL_RTOL * sizes[i], ULPS_OF_X * rounding, RESIDUAL_FLOOR)
        ratio = abs(values[i]) / allowed
        if math.isnan(ratio):
            return math.nan
        worst = max(worst, ratio)
    return worst


def move(
    u: np.ndarray,
    step: np.ndarray,
    alpha: float,
    lower: np.ndarray,
    upper: np.ndarray,
    out: np.ndarray,
) -> None:
    """``u`` moved by ``alpha * step`` into ``out`` without leaving ``[lower, upper]``.

    A move towards a finite bound keeps at least :data:`BOUNDARY_FRACTION` of the
    distance to it (the fraction-to-the-boundary rule of interior-point methods), so
    an unknown reaches a root many orders of magnitude below its start in a few steps
    and never the bound itself.
    """
    for j in range(u.shape[0]):
        scaled = alpha * step[j]
        moved = u[j] + scaled
        if math.isfinite(lower[j]) and scaled < 0:
            moved = max(moved, lower[j] + (u[j] - lower[j]) * BOUNDARY_FRACTION)
        if math.isfinite(upper[j]) and scaled > 0:
            moved = min(moved, upper[j] - (upper[j] - u[j]) * BOUNDARY_FRACTION)
        out[j] = moved


class Scratch(NamedTuple):
    """The arrays an element's solve works in (n unknowns), allocated once per block."""

    #: The iterate (n,), then the candidate root.
    u: np.ndarray
    #: ``R`` (n,) and ``dR/du`` (n, n) at ``u``.
    values: np.ndarray
    jacobian: np.ndarray
    #: A trial point (n,), ``R`` and ``dR/du`` there.
    trial: np.ndarray
    trial_values: np.ndarray
    trial_jacobian: np.ndarray
    #: The step (n,) and the iterate nearest a root so far (n,).
    step: np.ndarray
    best: np.ndarray
    #: ``J^T J`` (n, n) and ``J^T R`` (n,) of a Levenberg-Marquardt step; for a minimum,
    #: the shifted Hessian and the scaling ``D`` (:func:`modified_newton_step`).
    normal: np.ndarray
    gradient: np.ndarray
    #: The linear solver's augmented matrix (n, n + 1).
    work: np.ndarray
    #: Powell's hybrid method (:mod:`~implicitop._solvers.hybrid`): the scaling ``D``
    #: of the unknowns (n,), the steepest-descent direction (n,), the step taken (n,),
    #: Broyden's change of the approximation (n,) and the approximation of ``J``
    #: (n, n).
    scaling: np.ndarray
    descent: np.ndarray
    taken: np.ndarray
    change: np.ndarray
    approximation: np.ndarray


def scratch(n: int) -> Scratch:
    """Uninitialised :class:`Scratch` for ``n`` unknowns."""
    return Scratch(
        np.empty(n), np.empty(n), np.empty((n, n)), np.empty(n), np.empty(n),
        np.empty((n, n)), np.empty(n), np.empty(n), np.empty((n, n)), np.empty(n),
        np.empty((n, n + 1)), np.empty(n), np.empty(n), np.empty(n), np.empty(n),
        np.empty((n, n)),
    )  # fmt: skip
