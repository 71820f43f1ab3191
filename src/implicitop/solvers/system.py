"""Damped Newton for systems of n equations in n unknowns, one element at a time.

Newton steps ``-J^-1 R`` are damped by a backtracking line search on ``|R|^2 / 2``
(Armijo rule). Unknowns with a bound (``positive=True``) approach it in log
coordinates, so they stay inside their domain. An element stops after ``maxiter``
iterations; a root is accepted only when every residual is zero to rounding
(:func:`residual_error`).

This is ordinary Python: numba compiles it per problem, and it runs as it is where
numba cannot compile the residuals (see :mod:`~implicitop.solvers.compiled`).
"""

import math

import numpy as np

from implicitop.solvers.interface import residuals_and_jacobian, scales
from implicitop.solvers.status import (
    CONVERGED,
    MAXITER,
    NO_PROGRESS,
    NONFINITE_RESIDUAL,
    NOT_A_ROOT,
    RESIDUAL_FLOOR,
    RESIDUAL_RTOL,
    SINGULAR_JACOBIAN,
    ULPS_OF_X,
)

__all__ = [
    "ARMIJO",
    "MAX_HALVINGS",
    "damped_newton",
    "evaluate",
    "measure_root",
    "move",
    "residual_error",
    "solve_block",
    "solve_element",
]

#: The line search: at most this many halvings of the step ...
MAX_HALVINGS = 40
#: ... until ``|R|^2/2`` falls by at least this fraction of the linear prediction.
ARMIJO = 1e-4


def evaluate(u: np.ndarray, p: np.ndarray, values: np.ndarray, jacobian: np.ndarray) -> None:
    """Fill ``values`` (n,) with ``R(u, p)`` and ``jacobian`` (n, n) with ``dR/du``."""
    out = residuals_and_jacobian(u, p)
    n = values.shape[0]
    for i in range(n):
        values[i] = out[i]
        for j in range(n):
            jacobian[i, j] = out[n + i * n + j]


def all_finite(a: np.ndarray) -> bool:
    """Whether every entry of ``a`` is finite."""
    for v in a.ravel():
        if not math.isfinite(v):
            return False
    return True


def residual_error(u: np.ndarray, p: np.ndarray, values: np.ndarray, jacobian: np.ndarray) -> float:
    """The largest ``|R_i|`` over the rounding error it may carry (NaN if unknown).

    The rounding of ``R_i`` is the larger of :data:`RESIDUAL_RTOL` times the size of
    its terms and its change within a few ulps of ``u`` (and at least one subnormal
    step). ``values`` and ``jacobian`` are filled at ``u``.
    """
    evaluate(u, p, values, jacobian)
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

    A move towards a finite bound is taken in log coordinates of the distance to it,
    ``lo + (u - lo) * exp(alpha * step / (u - lo))``, which agrees with the Newton step
    to first order and never reaches the bound; moves away from bounds are linear.
    """
    for j in range(u.shape[0]):
        scaled = alpha * step[j]
        moved = u[j] + scaled
        if math.isfinite(lower[j]) and scaled < 0:
            moved = lower[j] + (u[j] - lower[j]) * math.exp(scaled / (u[j] - lower[j]))
        if math.isfinite(upper[j]) and scaled > 0:
            moved = upper[j] - (upper[j] - u[j]) * math.exp(-scaled / (upper[j] - u[j]))
        out[j] = moved


def damped_newton(
    x0: np.ndarray, p: np.ndarray, lower: np.ndarray, upper: np.ndarray, tol: float, maxiter: int
) -> tuple[np.ndarray, int]:
    """A root candidate with ``MAXITER`` (to be checked), or NaNs and why it failed."""
    n = x0.shape[0]
    u = x0.copy()
    values = np.empty(n)
    jacobian = np.empty((n, n))
    trial = np.empty(n)
    trial_values = np.empty(n)
    trial_jacobian = np.empty((n, n))
    evaluate(u, p, values, jacobian)
    for _ in range(maxiter):
        finite = all_finite(values) and all_finite(jacobian)
        merit = 0.5 * np.sum(values**2)
        singular = False
        step = np.zeros(n)
        if finite:
            determinant = np.linalg.det(jacobian)
            singular = not math.isfinite(determinant) or determinant == 0
            if not singular:
                step = -np.linalg.solve(jacobian, values)
                singular = not all_finite(step)
        small_step = np.all(np.abs(step) <= tol * np.abs(u))
        if finite and (merit == 0 or (not singular and small_step)):
            return u, MAXITER
        if not finite:
            return np.full(n, np.nan), NONFINITE_RESIDUAL
        if singular:
            return np.full(n, np.nan), SINGULAR_JACOBIAN
        alpha = 1.0
        accepted = False
        for _ in range(MAX_HALVINGS):
            move(u, step, alpha, lower, upper, trial)
            evaluate(trial, p, trial_values, trial_jacobian)
            trial_merit = 0.5 * np.sum(trial_values**2)
            if (
                all_finite(trial_jacobian)
                and math.isfinite(trial_merit)
                and trial_merit <= (1 - 2 * ARMIJO * alpha) * merit
            ):
                accepted = True
                break
            alpha /= 2
        if not accepted:
            return np.full(n, np.nan), NO_PROGRESS
        if np.all(np.abs(trial - u) <= tol * np.abs(trial)):
            return trial.copy(), MAXITER
        u[:] = trial
        values[:] = trial_values
        jacobian[:] = trial_jacobian
    return np.full(n, np.nan), MAXITER


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
    """Damped Newton for one element from ``x0`` (n,), root into ``root`` (n,); the
    status (``grid`` and ``newton_iterations`` belong to the one-equation solver)."""
    candidate, status = damped_newton(x0, p, lower, upper, tol, maxiter)
    if status != MAXITER or not all_finite(candidate):
        return status
    n = x0.shape[0]
    if residual_error(candidate, p, np.empty(n), np.empty((n, n))) <= 1:
        root[:] = candidate
        return CONVERGED
    return NOT_A_ROOT


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
    """The block's elements still to be solved, one after the other (see
    :func:`implicitop.solvers.batch.solve_block`)."""
    for i in range(params.shape[0]):
        if code[i] == MAXITER:
            code[i] = solve_element(
                x0[i], params[i], lower, upper, grid, tol, newton_iterations, maxiter, root[i]
            )


def measure_root(u: np.ndarray, p: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """At ``u``: :func:`residual_error`, ``dR/du`` (n, n) and the size of each R's terms (n,)."""
    n = u.shape[0]
    jacobian = np.empty((n, n))
    error = residual_error(u, p, np.empty(n), jacobian)
    return error, jacobian, np.array(scales(u, p))
