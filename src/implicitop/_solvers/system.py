"""Damped Newton for systems of n equations in n unknowns, one element at a time.

Newton steps ``-J^-1 R`` are damped by a backtracking line search on ``|R|^2 / 2``
(Armijo rule); where ``J`` is singular or the line search fails, scaled
Levenberg-Marquardt steps take over (:func:`damped_newton`). Where ``R`` is the
gradient of an objective ``f`` whose minimum is wanted, the steps are modified Newton
steps ``-(H + tau D)^-1 R`` (``H = J`` the Hessian, shifted until positive definite)
along which the line search descends on ``f`` itself (:func:`descent_search`): a curved
valley (Rosenbrock's) is followed down to its minimum, where steps that only lower
``|R|`` crawl, and the iteration is pulled away from maxima and saddle points.
Unknowns with a bound (``positive=True``) keep a fraction of their distance to it in
every move (:func:`~implicitop._solvers.system_parts.move`), so they stay inside
their domain.
An element stops after ``maxiter`` iterations; a root is accepted only when every
residual is zero to rounding
(:func:`~implicitop._solvers.system_parts.residual_error`).

Where damped Newton finds no root of an element, Powell's hybrid method
(:mod:`~implicitop._solvers.hybrid`, MINPACK's ``hybrj``) tries again from the same
start: its trust region and Broyden's updates of ``J`` take other paths, which reach
roots from starts where the line search crawls along a valley of ``|R|`` or stalls at
a near-singular ``J`` (More, Garbow and Hillstrom's problems from ten and a hundred
times their start). Elements damped Newton solves never run it, so their roots are
the same as without it.

This is ordinary Python: numba compiles it per problem, and it runs as it is where
numba cannot compile the residuals (see :mod:`~implicitop._solvers.compiled`).
"""

import math

import numpy as np

from implicitop._solvers.hybrid import powell_hybrid
from implicitop._solvers.interface import scales
from implicitop._solvers.settings import MAX_ITERATIONS, MINIMUM, TOL
from implicitop._solvers.status import (
    CONVERGED,
    MAXITER,
    NO_PROGRESS,
    NONFINITE_RESIDUAL,
    NOT_A_ROOT,
    SINGULAR_JACOBIAN,
    SMALLEST_NORMAL,
)
from implicitop._solvers.system_parts import (
    Scratch,
    all_finite,
    all_finite_matrix,
    all_zero,
    assign,
    error_at,
    evaluate,
    half_sum_of_squares,
    move,
    residual_error,
    scratch,
    solve_linear,
)
from implicitop._solvers.unowned import borrowed

__all__ = [
    "ARMIJO",
    "DAMPING_GROWTH",
    "DAMPING_START",
    "DIAGONAL_FLOOR",
    "LEVEL_SLACK",
    "LM_ARMIJO",
    "MAX_DAMPINGS",
    "MAX_HALVINGS",
    "MAX_SHIFTS",
    "SHIFT_START",
    "after_newton",
    "at_root",
    "best_or",
    "cholesky_solve",
    "curved_upward",
    "damped_newton",
    "descent_search",
    "hand_over",
    "lm_step",
    "measure_root",
    "modified_newton_step",
    "negligible",
    "positive_definite",
    "root_search",
    "slope",
    "solve_block",
    "solve_element",
    "solve_elements",
    "sufficient_decrease",
]

#: The line search: at most this many halvings of the step ...
MAX_HALVINGS = 40
#: ... until ``|R|^2/2`` falls by at least this fraction of the linear prediction.
ARMIJO = 1e-4
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
#: A minimum's Hessian that is not positive definite is shifted by ``tau D`` (``D`` its
#: scaled diagonal, as Marquardt's): ``tau`` starts this far beyond the most negative
#: diagonal entry and doubles until the shifted matrix is, at most this many times.
SHIFT_START = 1e-3
MAX_SHIFTS = 64
#: A minimum's full Newton step that brings the gradient nearer its rounding is taken
#: where the objective rises by no more than this fraction of its value (its rounding:
#: near the minimum the objective no longer falls measurably).
LEVEL_SLACK = 1e-12


def negligible(step: np.ndarray, u: np.ndarray, tol: float) -> bool:
    """Whether every ``|step_j| <= tol |u_j|``."""
    for j in range(u.shape[0]):
        if not abs(step[j]) <= tol * abs(u[j]):
            return False
    return True


def lm_step(damping: float, s: Scratch) -> bool:
    """Fill ``s.step`` with the Levenberg-Marquardt step ``-(J^T J + damping D)^-1 J^T R``
    at ``s.u``, ``D`` the diagonal of ``J^T J`` (Marquardt's scaling, so unknowns of any
    magnitude weigh alike; floored where a column of ``J`` vanishes); whether it is
    usable."""
    n = s.values.shape[0]
    largest = 0.0
    for i in range(n):
        total = 0.0
        for row in range(n):
            total += s.jacobian[row, i] * s.values[row]
        s.gradient[i] = total
        for j in range(n):
            total = 0.0
            for row in range(n):
                total += s.jacobian[row, i] * s.jacobian[row, j]
            s.normal[i, j] = total
        largest = max(largest, s.normal[i, i])
    for j in range(n):
        s.normal[j, j] += damping * max(s.normal[j, j], DIAGONAL_FLOOR * largest, SMALLEST_NORMAL)
    # J^T J can overflow where J does not
    if not (all_finite_matrix(s.normal) and all_finite(s.gradient)):
        return False
    return solve_linear(s.normal, s.gradient, s.work, s.step)


def damped_newton(
    x0: np.ndarray,
    p: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    tol: float,
    maxiter: int,
    minimum: bool,
    s: Scratch,
) -> int:
    """``MAXITER`` with a root candidate in ``s.u`` (to be checked; NaN where the
    iteration limit is reached without one), or why it failed.

    Each iteration takes Newton's step, halved until ``|R|^2/2`` falls enough (Armijo;
    the full step is also taken where it halves the largest residual relative to its
    rounding, :func:`~implicitop._solvers.system_parts.error_at`);
    where ``J`` is singular or no halving helps, Levenberg-Marquardt steps with growing
    damping (from Gauss-Newton towards scaled steepest descent), the first that
    lowers ``|R|^2/2`` enough. So a singular or poor start is not the end. For a
    ``minimum``, the steps of :func:`descent_search` instead.
    """
    assign(s.u, x0)
    best_error = math.inf
    level = evaluate(s.u, p, s.values, s.jacobian)
    for _ in range(maxiter):
        if not (all_finite(s.values) and all_finite_matrix(s.jacobian)):
            return best_or(best_error, NONFINITE_RESIDUAL, s)
        merit = half_sum_of_squares(s.values)
        if all_zero(s.values):  # not merit == 0: tiny residuals' squares underflow
            return MAXITER
        error = error_at(s.u, p, s.values, s.jacobian)
        if error < best_error:
            best_error = error
            assign(s.best, s.u)
        singular = not solve_linear(s.jacobian, s.values, s.work, s.step)
        if not singular and negligible(s.step, s.u, tol):
            return MAXITER
        if minimum:
            level = descent_search(p, lower, upper, level, merit, error, s)
            accepted = not math.isnan(level)
        else:
            accepted = root_search(p, lower, upper, merit, error, singular, s)
        if not accepted:
            return best_or(best_error, SINGULAR_JACOBIAN if singular else NO_PROGRESS, s)
        assign(s.u, s.trial)
        assign(s.values, s.trial_values)
        for row in range(s.jacobian.shape[0]):
            assign(s.jacobian[row], s.trial_jacobian[row])
    # the iteration limit: no candidate (NaN), unless an iterate was at a root
    if best_or(best_error, NO_PROGRESS, s) != MAXITER:
        for j in range(s.u.shape[0]):
            s.u[j] = math.nan
    return MAXITER


def root_search(
    p: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    merit: float,
    error: float,
    singular: bool,
    s: Scratch,
) -> bool:
    """A root's step from ``s.u``, into ``s.trial`` (``R`` and ``J`` there in
    ``s.trial_values``, ``s.trial_jacobian``): Newton's step ``s.step`` (unless
    ``singular``) halved until ``|R|^2/2`` falls from ``merit`` enough, or the full
    step where it halves ``error``; else Levenberg-Marquardt steps. Whether one was
    found (see :func:`damped_newton`)."""
    alpha = 1.0
    for _ in range(0 if singular else MAX_HALVINGS):
        move(s.u, s.step, alpha, lower, upper, s.trial)
        evaluate(s.trial, p, s.trial_values, s.trial_jacobian)
        if sufficient_decrease(s.trial_values, s.trial_jacobian, merit, ARMIJO * alpha):
            return True
        # at the rounding floor of the largest residual |R|^2 cannot fall, but the
        # full step still brings the small residuals to their own rounding
        if alpha == 1.0 and error_at(s.trial, p, s.trial_values, s.trial_jacobian) < error / 2:
            return True
        alpha /= 2
    damping = DAMPING_START
    for _ in range(MAX_DAMPINGS):
        if lm_step(damping, s):
            move(s.u, s.step, 1.0, lower, upper, s.trial)
            evaluate(s.trial, p, s.trial_values, s.trial_jacobian)
            if sufficient_decrease(s.trial_values, s.trial_jacobian, merit, ARMIJO * LM_ARMIJO):
                return True
        damping *= DAMPING_GROWTH
    return False


def descent_search(
    p: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    level: float,
    merit: float,
    error: float,
    s: Scratch,
) -> float:
    """A minimum's step from ``s.u``, where the objective is ``level``, into ``s.trial``
    (``R``, ``J`` there in ``s.trial_values``, ``s.trial_jacobian``): the modified Newton
    step (:func:`modified_newton_step`), halved until the objective falls enough
    (Armijo). Where the objective does not rise beyond its rounding
    (:data:`LEVEL_SLACK`) but does not fall measurably either (near the minimum, or
    where it underflows), the fall of the gradient decides, as for a root: ``|R|^2/2``
    falls enough from ``merit``, or the full step halves ``error``. The objective at
    the trial point, or NaN where no step is found."""
    if not modified_newton_step(s):
        return math.nan
    # downhill in exact arithmetic (the shifted Hessian is positive definite); the
    # product can round to zero or above where the gradient is tiny
    downhill = min(slope(s.values, s.step), 0.0)
    alpha = 1.0
    for _ in range(MAX_HALVINGS):
        move(s.u, s.step, alpha, lower, upper, s.trial)
        trial_level = evaluate(s.trial, p, s.trial_values, s.trial_jacobian)
        if all_finite_matrix(s.trial_jacobian) and math.isfinite(trial_level):
            if trial_level <= level + ARMIJO * alpha * downhill:
                return trial_level
            if trial_level <= level + LEVEL_SLACK * abs(level):
                if sufficient_decrease(s.trial_values, s.trial_jacobian, merit, ARMIJO * alpha):
                    return trial_level
                trial_error = error_at(s.trial, p, s.trial_values, s.trial_jacobian)
                if alpha == 1.0 and trial_error < error / 2:
                    return trial_level
        alpha /= 2
    return math.nan


def modified_newton_step(s: Scratch) -> bool:
    """Fill ``s.step`` with ``-(H + tau D)^-1 R`` at ``s.u`` (``H = J`` the Hessian,
    ``D`` the magnitudes of its diagonal, floored as in :func:`lm_step`) for the first
    ``tau`` of 0, ``t``, ``2t``, ``4t``, ... that makes ``H + tau D`` positive definite
    (``t`` :data:`SHIFT_START` beyond the most negative ``H_jj / D_j``): Newton's step
    where ``H`` is positive definite, else a step downhill for the objective (Nocedal
    and Wright's Cholesky with added multiple of the identity). Whether one was found."""
    n = s.values.shape[0]
    largest = 0.0
    for j in range(n):
        largest = max(largest, abs(s.jacobian[j, j]))
    lowest = math.inf
    for j in range(n):
        s.gradient[j] = max(abs(s.jacobian[j, j]), DIAGONAL_FLOOR * largest, SMALLEST_NORMAL)
        lowest = min(lowest, s.jacobian[j, j] / s.gradient[j])
    tau = 0.0 if lowest > 0 else SHIFT_START - lowest
    for _ in range(MAX_SHIFTS):
        for i in range(n):
            assign(s.normal[i], s.jacobian[i])
            s.normal[i, i] += tau * s.gradient[i]
        if positive_definite(s.normal):
            cholesky_solve(s.normal, s.values, s.step)
            return all_finite(s.step)
        tau = max(2 * tau, SHIFT_START)
    return False


def cholesky_solve(factor: np.ndarray, rhs: np.ndarray, out: np.ndarray) -> None:
    """Fill ``out`` with ``-A^-1 rhs``, where the lower triangle of ``factor`` holds the
    Cholesky factor ``L`` of ``A = L L^T`` (as :func:`positive_definite` leaves it)."""
    n = rhs.shape[0]
    for i in range(n):
        total = -rhs[i]
        for k in range(i):
            total -= factor[i, k] * out[k]
        out[i] = total / factor[i, i]
    for i in range(n - 1, -1, -1):
        total = out[i]
        for k in range(i + 1, n):
            total -= factor[k, i] * out[k]
        out[i] = total / factor[i, i]


def slope(values: np.ndarray, step: np.ndarray) -> float:
    """``R . step``: for a minimum, the objective's rate of change along ``step``."""
    total = 0.0
    for j in range(values.shape[0]):
        total += values[j] * step[j]
    return total


def best_or(best_error: float, status: int, s: Scratch) -> int:
    """Where the iteration stops short: the iterate nearest a root so far (``s.best``)
    as the candidate in ``s.u`` (status ``MAXITER``, to be checked) if every residual was
    zero to rounding there, else ``status``. Near a root whose unknowns span many
    orders of magnitude, ``|R|^2`` is dominated by the largest residual's rounding:
    steps that lower it can spoil the small residuals' digits, and the iteration
    wanders among points no better than one it has passed."""
    if best_error <= 1.0:
        assign(s.u, s.best)
        return MAXITER
    return status


def sufficient_decrease(
    values: np.ndarray, jacobian: np.ndarray, merit: float, fraction: float
) -> bool:
    """Whether ``R``, ``J`` at a trial point are finite and ``|R|^2/2`` there is at most
    ``(1 - 2 fraction)`` times ``merit``."""
    trial_merit = half_sum_of_squares(values)
    return (
        all_finite_matrix(jacobian)
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
    minimum: bool,
    s: Scratch,
    root: np.ndarray,
) -> int:
    """Damped Newton for one element from ``x0`` (n,), then, for a root it does not
    find, Powell's hybrid method from ``x0``; the root into ``root`` (n,), and the
    status (damped Newton's where neither finds a root; ``minimum``: the residuals are
    an objective's gradient, whose minimum is wanted)."""
    status = damped_newton(x0, p, lower, upper, tol, maxiter, minimum, s)
    if status == MAXITER and all_finite(s.u):
        if at_root(p, s, root):
            return CONVERGED
        status = NOT_A_ROOT
    if minimum:  # a minimum's gradient has roots that are no minima
        return status
    return after_newton(x0, p, lower, upper, tol, maxiter, s, root, status)


def after_newton(
    x0: np.ndarray,
    p: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    tol: float,
    maxiter: int,
    s: Scratch,
    root: np.ndarray,
    status: int,
) -> int:
    """Powell's hybrid method from ``x0`` for a root damped Newton did not find (it
    failed with ``status``): ``CONVERGED`` with the root in ``root``, else ``status``."""
    powell_hybrid(x0, p, lower, upper, tol, maxiter, s)
    if all_finite(s.u) and at_root(p, s, root):
        return CONVERGED
    return status


def at_root(p: np.ndarray, s: Scratch, root: np.ndarray) -> bool:
    """Whether the finite candidate in ``s.u`` is a root (every residual zero to
    rounding); if so, it is copied into ``root``."""
    if residual_error(s.u, p, s.values, s.jacobian) <= 1:
        assign(root, s.u)
        return True
    return False


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
    :func:`implicitop._solvers.batch.solve_block`)."""
    solve_elements(
        x0, params, lower, upper, settings[TOL], int(settings[MAX_ITERATIONS]),
        settings[MINIMUM] != 0.0, scratch(lower.shape[0]), root, code,
    )  # fmt: skip
    hand_over(params, settings, root, code)


def hand_over(params: np.ndarray, settings: np.ndarray, root: np.ndarray, code: np.ndarray) -> None:
    """Hand the block's elements left unsolved (``code`` still ``MAXITER``) to another
    solver. This algorithm solves every element itself: nothing is left. The full
    solver's fast path leaves some, and replaces this function
    (:func:`implicitop._solvers.fast_path.hand_over`)."""


def solve_elements(
    x0: np.ndarray,
    params: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    tol: float,
    maxiter: int,
    minimum: bool,
    owned: Scratch,
    root: np.ndarray,
    code: np.ndarray,
) -> None:
    """:func:`solve_block` with ``tol``, ``maxiter``, ``minimum`` and the work arrays
    ``owned``,
    every array passed on as a view without reference counts (:mod:`~implicitop._solvers.unowned`):
    the arguments outlive this call."""
    s, x0, params, lower, upper, root = borrowed((owned, x0, params, lower, upper, root))
    for i in range(params.shape[0]):
        if code[i] == MAXITER:
            code[i] = solve_element(
                x0[i], params[i], lower, upper, tol, maxiter, minimum, s, root[i]
            )


def measure_root(u: np.ndarray, p: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """At ``u``: :func:`~implicitop._solvers.system_parts.residual_error`, ``dR/du``
    (n, n) and the size of each R's terms (n,)."""
    n = u.shape[0]
    jacobian = np.empty((n, n))
    error = residual_error(u, p, np.empty(n), jacobian)
    sizes, terms = scales(u, p), np.empty(n)
    for i in range(n):  # a tuple, or an array in the shared solver
        terms[i] = sizes[i]
    return error, jacobian, terms


def positive_definite(matrix: np.ndarray) -> bool:
    """Whether the symmetric part of ``matrix`` (n, n) is positive definite: its Cholesky
    factorisation, in place, meets no pivot that is not positive (or not finite)."""
    n = matrix.shape[0]
    for i in range(n):
        for j in range(i):
            matrix[i, j] = matrix[j, i] = 0.5 * (matrix[i, j] + matrix[j, i])
    for j in range(n):
        pivot = matrix[j, j]
        for k in range(j):
            pivot -= matrix[j, k] * matrix[j, k]
        if not pivot > 0.0 or not math.isfinite(pivot):
            return False
        diagonal = math.sqrt(pivot)
        matrix[j, j] = diagonal
        for i in range(j + 1, n):
            total = matrix[i, j]
            for k in range(j):
                total -= matrix[i, k] * matrix[j, k]
            matrix[i, j] = total / diagonal
    return True


def curved_upward(u: np.ndarray, p: np.ndarray) -> bool:
    """Whether ``dR/du`` at the root ``u`` is positive definite: where ``R`` is an
    objective's gradient, whether the root is a minimum (see
    :func:`implicitop._solvers.batch.curved_upward`)."""
    n = u.shape[0]
    jacobian = np.empty((n, n))
    evaluate(u, p, np.empty(n), jacobian)
    return positive_definite(jacobian)
