"""Damped Newton for systems of n equations in n unknowns, one element at a time.

Newton steps ``-J^-1 R`` are damped by a backtracking line search on ``|R|^2 / 2``
(Armijo rule); where ``J`` is singular or the line search fails, scaled
Levenberg-Marquardt steps take over (:func:`damped_newton`). Unknowns with a bound
(``positive=True``) keep a fraction of their distance to it in every move
(:func:`move`), so they stay inside their domain.
An element stops after ``maxiter`` iterations; a root is accepted only when every
residual is zero to rounding
(:func:`residual_error`).

This is ordinary Python: numba compiles it per problem, and it runs as it is where
numba cannot compile the residuals (see :mod:`~implicitop.solvers.compiled`).
"""

import math

import numpy as np

from implicitop.solvers.interface import residuals_and_jacobian, scales
from implicitop.solvers.settings import MAX_ITERATIONS, TOL
from implicitop.solvers.status import (
    CONVERGED,
    MAXITER,
    NO_PROGRESS,
    NONFINITE_RESIDUAL,
    NOT_A_ROOT,
    RESIDUAL_FLOOR,
    RESIDUAL_RTOL,
    SINGULAR_JACOBIAN,
    SMALLEST_NORMAL,
    ULPS_OF_X,
)

__all__ = [
    "ARMIJO",
    "BOUNDARY_FRACTION",
    "DAMPING_GROWTH",
    "DAMPING_START",
    "DIAGONAL_FLOOR",
    "LM_ARMIJO",
    "MAX_DAMPINGS",
    "MAX_HALVINGS",
    "assign",
    "best_or",
    "damped_newton",
    "error_at",
    "evaluate",
    "lm_step",
    "measure_root",
    "move",
    "residual_error",
    "solve_block",
    "solve_element",
    "sufficient_decrease",
]

#: The line search: at most this many halvings of the step ...
MAX_HALVINGS = 40
#: ... until ``|R|^2/2`` falls by at least this fraction of the linear prediction.
ARMIJO = 1e-4
#: The least fraction of its distance to a bound an unknown keeps in one move.
BOUNDARY_FRACTION = 1e-3
#: Levenberg-Marquardt: the first damping (relative to the diagonal of ``J^T J``), its
#: growth per try and the number of tries (to ``1e-6 * 10**(3*11) = 1e27``: steepest
#: descent with a step too short to matter) ...
DAMPING_START = 1e-6
DAMPING_GROWTH = 1e3
MAX_DAMPINGS = 12
#: ... and the decrease a damped step must give, as a multiple of ``ARMIJO``'s.
LM_ARMIJO = 1e-4
#: Columns of ``J`` smaller than this fraction of the largest are scaled as if this size.
DIAGONAL_FLOOR = 1e-12


def assign(destination: np.ndarray, values: np.ndarray) -> None:
    """``destination[:] = values`` (1-d), as a loop: numba compiles each slice
    assignment into a broadcasting routine of its own."""
    for j in range(destination.shape[0]):
        destination[j] = values[j]


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


def lm_step(values: np.ndarray, jacobian: np.ndarray, damping: float, step: np.ndarray) -> bool:
    """Fill ``step`` with the Levenberg-Marquardt step ``-(J^T J + damping D)^-1 J^T R``,
    ``D`` the diagonal of ``J^T J`` (Marquardt's scaling, so unknowns of any magnitude
    weigh alike; floored where a column of ``J`` vanishes); whether it is usable."""
    n = values.shape[0]
    normal = jacobian.T @ jacobian
    gradient = jacobian.T @ values
    largest = 0.0
    for j in range(n):
        largest = max(largest, normal[j, j])
    for j in range(n):
        normal[j, j] += damping * max(normal[j, j], DIAGONAL_FLOOR * largest, SMALLEST_NORMAL)
    if not (all_finite(normal) and all_finite(gradient)):  # J^T J can overflow where J does not
        return False
    determinant = np.linalg.det(normal)
    if not math.isfinite(determinant) or determinant == 0:
        return False
    assign(step, -np.linalg.solve(normal, gradient))
    return all_finite(step)


def damped_newton(
    x0: np.ndarray, p: np.ndarray, lower: np.ndarray, upper: np.ndarray, tol: float, maxiter: int
) -> tuple[np.ndarray, int]:
    """A root candidate with ``MAXITER`` (to be checked), or NaNs and why it failed.

    Each iteration takes Newton's step, halved until ``|R|^2/2`` falls enough (Armijo;
    the full step is also taken where it halves the largest residual relative to its
    rounding, :func:`error_at`);
    where ``J`` is singular or no halving helps, Levenberg-Marquardt steps with growing
    damping (from Gauss-Newton towards scaled steepest descent), the first that
    lowers ``|R|^2/2`` enough. So a singular or poor start is not the end, as in
    MINPACK's hybrj.
    """
    n = x0.shape[0]
    u = x0.copy()
    values = np.empty(n)
    jacobian = np.empty((n, n))
    trial = np.empty(n)
    trial_values = np.empty(n)
    trial_jacobian = np.empty((n, n))
    step = np.zeros(n)
    best = np.full(n, np.nan)
    best_error = math.inf
    evaluate(u, p, values, jacobian)
    for _ in range(maxiter):
        if not (all_finite(values) and all_finite(jacobian)):
            return best_or(best, best_error, NONFINITE_RESIDUAL)
        merit = 0.5 * np.sum(values**2)
        if merit == 0:
            return u, MAXITER
        error = error_at(u, p, values, jacobian)
        if error < best_error:
            best_error = error
            assign(best, u)
        determinant = np.linalg.det(jacobian)
        singular = not math.isfinite(determinant) or determinant == 0
        if not singular:
            assign(step, -np.linalg.solve(jacobian, values))
            singular = not all_finite(step)
        if not singular and np.all(np.abs(step) <= tol * np.abs(u)):
            return u, MAXITER
        accepted = False
        alpha = 1.0
        for _ in range(0 if singular else MAX_HALVINGS):
            move(u, step, alpha, lower, upper, trial)
            evaluate(trial, p, trial_values, trial_jacobian)
            if sufficient_decrease(trial_values, trial_jacobian, merit, ARMIJO * alpha):
                accepted = True
                break
            # at the rounding floor of the largest residual |R|^2 cannot fall, but the
            # full step still brings the small residuals to their own rounding
            if alpha == 1.0 and error_at(trial, p, trial_values, trial_jacobian) < error / 2:
                accepted = True
                break
            alpha /= 2
        damping = DAMPING_START
        for _ in range(0 if accepted else MAX_DAMPINGS):
            if lm_step(values, jacobian, damping, step):
                move(u, step, 1.0, lower, upper, trial)
                evaluate(trial, p, trial_values, trial_jacobian)
                if sufficient_decrease(trial_values, trial_jacobian, merit, ARMIJO * LM_ARMIJO):
                    accepted = True
                    break
            damping *= DAMPING_GROWTH
        if not accepted:
            return best_or(best, best_error, SINGULAR_JACOBIAN if singular else NO_PROGRESS)
        assign(u, trial)
        assign(values, trial_values)
        for row in range(jacobian.shape[0]):
            assign(jacobian[row], trial_jacobian[row])
    return best_or(best, best_error, MAXITER)


def best_or(best: np.ndarray, best_error: float, status: int) -> tuple[np.ndarray, int]:
    """Where the iteration stops short: the iterate nearest a root so far as the
    candidate (status ``MAXITER``, to be checked) if every residual was zero to
    rounding there, else NaNs and ``status``. Near a root whose unknowns span many
    orders of magnitude, ``|R|^2`` is dominated by the largest residual's rounding:
    steps that lower it can spoil the small residuals' digits, and the iteration
    wanders among points no better than one it has passed."""
    if best_error <= 1.0:
        return best, MAXITER
    return np.full(best.shape[0], np.nan), status


def sufficient_decrease(
    values: np.ndarray, jacobian: np.ndarray, merit: float, fraction: float
) -> bool:
    """Whether ``R``, ``J`` at a trial point are finite and ``|R|^2/2`` there is at most
    ``(1 - 2 fraction)`` times ``merit``."""
    trial_merit = 0.5 * np.sum(values**2)
    return (
        all_finite(jacobian)
        and math.isfinite(trial_merit)
        and trial_merit <= (1 - 2 * fraction) * merit
    )


def solve_element(
    x0: np.ndarray,
    p: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    tol: float,
    maxiter: int,
    root: np.ndarray,
) -> int:
    """Damped Newton for one element from ``x0`` (n,), root into ``root`` (n,); the
    status."""
    candidate, status = damped_newton(x0, p, lower, upper, tol, maxiter)
    if status != MAXITER or not all_finite(candidate):
        return status
    n = x0.shape[0]
    if residual_error(candidate, p, np.empty(n), np.empty((n, n))) <= 1:
        assign(root, candidate)
        return CONVERGED
    return NOT_A_ROOT


def solve_block(
    x0: np.ndarray,
    params: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    grid: np.ndarray,
    settings: np.ndarray,
    root: np.ndarray,
    code: np.ndarray,
) -> None:
    """The block's elements still to be solved, one after the other (see
    :func:`implicitop.solvers.batch.solve_block`)."""
    tol, maxiter = settings[TOL], int(settings[MAX_ITERATIONS])
    for i in range(params.shape[0]):
        if code[i] == MAXITER:
            code[i] = solve_element(x0[i], params[i], lower, upper, tol, maxiter, root[i])


def measure_root(u: np.ndarray, p: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """At ``u``: :func:`residual_error`, ``dR/du`` (n, n) and the size of each R's terms (n,)."""
    n = u.shape[0]
    jacobian = np.empty((n, n))
    error = residual_error(u, p, np.empty(n), jacobian)
    sizes, terms = scales(u, p), np.empty(n)
    for i in range(n):  # a tuple, or an array in the shared solver
        terms[i] = sizes[i]
    return error, jacobian, terms
