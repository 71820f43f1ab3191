"""Powell's hybrid method for one element's system (MINPACK's ``hybrj``), where damped
Newton (:mod:`~implicitop._solvers.system`) finds no root.

Each step is Powell's dogleg in a trust region, scaled by ``D`` (the norms of the
columns of ``J``, never decreasing): Newton's step where it lies inside the region,
else the point where the path from the steepest-descent minimiser to Newton's step
leaves it. The steps are taken on an approximation ``B`` of ``J``: ``J`` itself at the
start and after two poor steps in a row, Broyden's rank-one updates between
(scaled as in MINPACK). The region grows and shrinks with the ratio of the actual to
the predicted fall of ``|R|``, and the iteration stops as ``hybrj`` does: where the
region has shrunk to ``tol`` of the unknowns (a candidate), after ``maxiter (n + 1)``
evaluations of ``R`` (``hybrj``'s default at the default ``maxiter`` of 100), or where
it makes no progress. Its candidates are checked as
damped Newton's are (:func:`~implicitop._solvers.system_parts.residual_error`).

The constants and tests are MINPACK's (More, Garbow and Hillstrom, *User Guide for
MINPACK-1*, 1980); ``B`` is kept as a matrix and solved by Gaussian elimination
instead of MINPACK's updated QR factors, which for an element's few unknowns costs
less than the updates.
"""

import math

import numpy as np

from implicitop._solvers.system_parts import (
    Scratch,
    all_finite,
    all_finite_matrix,
    assign,
    evaluate,
    half_sum_of_squares,
    move,
    solve_linear,
)

__all__ = [
    "ACCEPTED",
    "EPSILON",
    "FIRST_RADIUS",
    "GOOD",
    "POOR",
    "SLOW_FALL",
    "SLOW_JACOBIANS",
    "SLOW_STEPS",
    "broyden_update",
    "dogleg",
    "linear_prediction",
    "powell_hybrid",
    "scale_by_columns",
    "scaled_norm",
]

#: The first trust radius, as a multiple of ``|D x0|`` (or itself where that is 0).
FIRST_RADIUS = 100.0
#: A step whose actual fall of ``|R|^2`` is below this fraction of the predicted one is
#: poor: the radius halves (two in a row: ``J`` is evaluated afresh) ...
POOR = 0.1
#: ... from this fraction on it is good: the radius grows to twice the step ...
GOOD = 0.5
#: ... and from this fraction on the step is taken.
ACCEPTED = 1e-4
#: No progress: this many steps in a row that lower ``|R|^2`` by less than this
#: fraction, or ...
SLOW_STEPS = 10
SLOW_FALL = 1e-3
#: ... this many evaluations of ``J`` in a row after which ``|R|^2`` fell by less than
#: :data:`POOR`.
SLOW_JACOBIANS = 5
#: The machine epsilon, below which (relative to the unknowns) no step is resolved.
EPSILON = float(np.finfo(np.float64).eps)


def scaled_norm(v: np.ndarray, scaling: np.ndarray) -> float:
    """``|D v|``."""
    total = 0.0
    for j in range(v.shape[0]):
        total += (scaling[j] * v[j]) ** 2
    return math.sqrt(total)


def scale_by_columns(jacobian: np.ndarray, scaling: np.ndarray, first: bool) -> None:
    """Raise ``scaling`` to the norms of the columns of ``jacobian`` (``first``: set it
    to them, 1 where a column is 0)."""
    n = scaling.shape[0]
    for j in range(n):
        total = 0.0
        for row in range(n):
            total += jacobian[row, j] * jacobian[row, j]
        norm = math.sqrt(total)
        if first:
            scaling[j] = norm if norm > 0.0 else 1.0
        else:
            scaling[j] = max(scaling[j], norm)


def dogleg(radius: float, s: Scratch) -> bool:
    """Powell's dogleg step for ``B = s.approximation`` at ``s.values`` within
    ``radius`` (scaled by ``s.scaling``), into ``s.taken``; whether there is one.

    Newton's step ``-B^-1 R`` (``s.step``) where it lies in the region; else the
    minimiser of ``|R + B t g|`` along the scaled steepest descent ``g = -D^-2 B^T R``,
    cut at the radius, or where it lies inside, the point at the radius on the line
    from it to Newton's step. Where ``B`` is singular, the cut steepest descent.
    """
    n = s.values.shape[0]
    regular = solve_linear(s.approximation, s.values, s.work, s.step)
    newton_length = scaled_norm(s.step, s.scaling) if regular else math.inf
    if newton_length <= radius:
        assign(s.taken, s.step)
        return True
    gradient_norm = 0.0
    for j in range(n):
        total = 0.0
        for row in range(n):
            total += s.approximation[row, j] * s.values[row]
        s.gradient[j] = total / s.scaling[j]  # D^-1 B^T R
        gradient_norm += s.gradient[j] ** 2
    gradient_norm = math.sqrt(gradient_norm)
    if not (gradient_norm > 0.0 and math.isfinite(gradient_norm)):
        return False
    for j in range(n):  # the descent direction, of unit scaled length
        s.descent[j] = -s.gradient[j] / gradient_norm / s.scaling[j]
    curvature = 0.0
    for row in range(n):
        total = 0.0
        for j in range(n):
            total += s.approximation[row, j] * s.descent[j]
        curvature += total * total
    # the scaled length of the steepest-descent minimiser: -(g . d) / |B d|^2
    cauchy = gradient_norm / curvature if curvature > 0.0 else math.inf
    if not regular or cauchy >= radius:
        length = min(cauchy, radius)
        for j in range(n):
            s.taken[j] = length * s.descent[j]
        return True
    # |D (c + t (N - c))| = radius for t in (0, 1), c the minimiser and N Newton's step
    a = 0.0
    b = 0.0
    for j in range(n):
        towards = s.scaling[j] * (s.step[j] - cauchy * s.descent[j])
        a += towards * towards
        b += s.scaling[j] * cauchy * s.descent[j] * towards
    c = (cauchy - radius) * (cauchy + radius)
    root = math.sqrt(b * b - a * c)
    t = -c / (b + root) if b > 0.0 else (root - b) / a if a > 0.0 else 1.0
    for j in range(n):
        s.taken[j] = cauchy * s.descent[j] + t * (s.step[j] - cauchy * s.descent[j])
    return True


def linear_prediction(s: Scratch) -> float:
    """``|R + B s.taken|``, the linear model's ``|R|`` after the step."""
    n = s.values.shape[0]
    total = 0.0
    for row in range(n):
        value = s.values[row]
        for j in range(n):
            value += s.approximation[row, j] * s.taken[j]
        total += value * value
    return math.sqrt(total)


def broyden_update(length: float, s: Scratch) -> None:
    """``B += (y - B d) (D^2 d)^T / |D d|^2`` for the step ``d = s.taken`` of scaled
    ``length``, where ``y = s.change`` is the change of ``R`` along it."""
    n = s.values.shape[0]
    for i in range(n):
        total = 0.0
        for j in range(n):
            total += s.approximation[i, j] * s.taken[j]
        s.change[i] = (s.change[i] - total) / length
    for j in range(n):  # D^2 d / |D d|
        s.descent[j] = s.scaling[j] * (s.scaling[j] * s.taken[j]) / length
    for i in range(n):
        for j in range(n):
            s.approximation[i, j] += s.change[i] * s.descent[j]


def powell_hybrid(
    x0: np.ndarray,
    p: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    tol: float,
    maxiter: int,
    s: Scratch,
) -> None:
    """Powell's hybrid method from ``x0`` (see the module's description): its last
    iterate, the nearest a root it reached, in ``s.u`` (with ``R`` and ``J`` there in
    ``s.values`` and ``s.jacobian``), to be checked."""
    n = x0.shape[0]
    assign(s.u, x0)
    evaluate(s.u, p, s.values, s.jacobian)
    if not (all_finite(s.values) and all_finite_matrix(s.jacobian)):
        return
    norm = math.sqrt(2.0 * half_sum_of_squares(s.values))
    for row in range(n):
        assign(s.approximation[row], s.jacobian[row])
    scale_by_columns(s.jacobian, s.scaling, True)
    size = scaled_norm(s.u, s.scaling)
    radius = FIRST_RADIUS * size if size > 0.0 else FIRST_RADIUS
    first, fresh = True, True
    evaluations, successes, failures, slow_steps, slow_jacobians = 1, 0, 0, 0, 0
    while norm > 0.0 and evaluations < maxiter * (n + 1):
        if not dogleg(radius, s):
            return
        move(s.u, s.taken, 1.0, lower, upper, s.trial)
        for j in range(n):  # the step as taken, inside the bounds
            s.taken[j] = s.trial[j] - s.u[j]
        length = scaled_norm(s.taken, s.scaling)
        if not length > 0.0:
            return
        if first:
            radius = min(radius, length)
        evaluate(s.trial, p, s.trial_values, s.trial_jacobian)
        evaluations += 1
        finite = all_finite(s.trial_values) and all_finite_matrix(s.trial_jacobian)
        trial_norm = math.sqrt(2.0 * half_sum_of_squares(s.trial_values)) if finite else math.inf
        actual = 1.0 - (trial_norm / norm) ** 2 if trial_norm < norm else -1.0
        predicted_norm = linear_prediction(s)
        predicted = 1.0 - (predicted_norm / norm) ** 2 if predicted_norm < norm else 0.0
        ratio = actual / predicted if predicted > 0.0 else 0.0
        if ratio < POOR:
            successes, failures = 0, failures + 1
            radius *= GOOD
        else:
            successes, failures = successes + 1, 0
            if ratio >= GOOD or successes > 1:
                radius = max(radius, length / GOOD)
            if abs(ratio - 1.0) <= POOR:
                radius = length / GOOD
        for i in range(n):  # the change of R along the step, for Broyden's update
            s.change[i] = s.trial_values[i] - s.values[i]
        if ratio >= ACCEPTED:
            assign(s.u, s.trial)
            assign(s.values, s.trial_values)
            for row in range(n):
                assign(s.jacobian[row], s.trial_jacobian[row])
            norm, first = trial_norm, False
        slow_steps = 0 if actual >= SLOW_FALL else slow_steps + 1
        if fresh:
            slow_jacobians += 1
        if actual >= POOR:
            slow_jacobians = 0
        size = scaled_norm(s.u, s.scaling)
        if radius <= tol * size or POOR * max(POOR * radius, length) <= EPSILON * size:
            return
        if slow_steps == SLOW_STEPS or slow_jacobians == SLOW_JACOBIANS:
            return
        fresh = failures == 2
        if fresh:  # J afresh, at the iterate
            for row in range(n):
                assign(s.approximation[row], s.jacobian[row])
            scale_by_columns(s.jacobian, s.scaling, False)
        elif finite:
            broyden_update(length, s)
