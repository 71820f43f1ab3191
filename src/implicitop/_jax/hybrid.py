"""Powell's hybrid method of :mod:`implicitop._solvers.hybrid`, traced with ``jax.lax``:
the traced damped Newton (:mod:`~implicitop._jax.system`) runs it for the elements it
finds no root of, with the same constants, steps and tests."""

from __future__ import annotations

from typing import TYPE_CHECKING

import jax
import jax.numpy as jnp

from implicitop._jax.linear import newton_like_step
from implicitop._solvers.hybrid import (
    ACCEPTED,
    EPSILON,
    FIRST_RADIUS,
    GOOD,
    POOR,
    SLOW_FALL,
    SLOW_JACOBIANS,
    SLOW_STEPS,
)

if TYPE_CHECKING:
    from implicitop._jax.system import SystemElementSolver

__all__ = ["column_norms", "dogleg", "powell_hybrid", "scaled_norm"]


def scaled_norm(v: jax.Array, scaling: jax.Array) -> jax.Array:
    """:func:`~implicitop._solvers.hybrid.scaled_norm`: ``|D v|``."""
    return jnp.sqrt(jnp.sum((scaling * v) ** 2))


def column_norms(jacobian: jax.Array) -> jax.Array:
    """The norms of the columns of ``jacobian``
    (:func:`~implicitop._solvers.hybrid.scale_by_columns`)."""
    return jnp.sqrt(jnp.sum(jacobian * jacobian, axis=0))


def dogleg(
    radius: jax.Array, values: jax.Array, approximation: jax.Array, scaling: jax.Array
) -> tuple[jax.Array, jax.Array]:
    """:func:`~implicitop._solvers.hybrid.dogleg`: the step and whether there is one."""
    step, regular = newton_like_step(approximation, values)
    inside = regular & (scaled_norm(step, scaling) <= radius)
    gradient = (approximation.T @ values) / scaling
    gradient_norm = jnp.sqrt(jnp.sum(gradient**2))
    usable = gradient_norm > 0.0
    usable &= jnp.isfinite(gradient_norm)
    descent = -gradient / jnp.where(usable, gradient_norm, 1.0) / scaling
    curvature = jnp.sum((approximation @ descent) ** 2)
    cauchy = jnp.where(curvature > 0.0, gradient_norm / curvature, jnp.inf)
    cut = jnp.minimum(cauchy, radius) * descent
    nearest = cauchy * descent  # finite where it is used: cauchy < radius
    towards = scaling * (step - nearest)
    a = jnp.sum(towards**2)
    b = jnp.sum(scaling * nearest * towards)
    c = (cauchy - radius) * (cauchy + radius)
    root = jnp.sqrt(b * b - a * c)
    t = jnp.where(b > 0.0, -c / (b + root), jnp.where(a > 0.0, (root - b) / a, 1.0))
    between = nearest + t * (step - nearest)
    taken = jnp.where(inside, step, jnp.where(~regular | (cauchy >= radius), cut, between))
    return taken, inside | usable


def powell_hybrid(
    solver: SystemElementSolver, x0: jax.Array, params: tuple, wanted: jax.Array
) -> jax.Array:
    """:func:`~implicitop._solvers.hybrid.powell_hybrid` from ``x0`` where ``wanted``:
    its last iterate, to be checked (``x0`` elsewhere)."""
    n = solver.n
    values, jacobian, *_ = solver.evaluate(x0, params)
    finite = jnp.all(jnp.isfinite(values)) & jnp.all(jnp.isfinite(jacobian))
    norm = jnp.sqrt(jnp.sum(values**2))
    norms = column_norms(jacobian)
    scaling = jnp.where(norms > 0.0, norms, 1.0)
    size = scaled_norm(x0, scaling)
    radius = jnp.where(size > 0.0, FIRST_RADIUS * size, FIRST_RADIUS)

    def body(state):
        (evaluations, x, values, jacobian, approximation, scaling, radius, norm, first,
         fresh, successes, failures, slow_steps, slow_jacobians, _) = state  # fmt: skip
        taken, usable = dogleg(radius, values, approximation, scaling)
        trial = solver.move(x, jnp.where(usable, taken, 0.0), 1.0)
        taken = trial - x
        length = scaled_norm(taken, scaling)
        stopped = ~usable | ~(length > 0.0)
        radius = jnp.where(first, jnp.minimum(radius, length), radius)
        trial_values, trial_jacobian, *_ = solver.evaluate(trial, params)
        finite = jnp.all(jnp.isfinite(trial_values)) & jnp.all(jnp.isfinite(trial_jacobian))
        trial_norm = jnp.where(finite, jnp.sqrt(jnp.sum(trial_values**2)), jnp.inf)
        actual = jnp.where(trial_norm < norm, 1.0 - (trial_norm / norm) ** 2, -1.0)
        predicted_norm = jnp.sqrt(jnp.sum((values + approximation @ taken) ** 2))
        predicted = jnp.where(predicted_norm < norm, 1.0 - (predicted_norm / norm) ** 2, 0.0)
        ratio = jnp.where(predicted > 0.0, actual / jnp.where(predicted > 0.0, predicted, 1.0), 0.0)
        poor = ratio < POOR
        successes = jnp.where(poor, 0, successes + 1)
        failures = jnp.where(poor, failures + 1, 0)
        grown = jnp.where(
            (ratio >= GOOD) | (successes > 1), jnp.maximum(radius, length / GOOD), radius
        )
        grown = jnp.where(jnp.abs(ratio - 1.0) <= POOR, length / GOOD, grown)
        radius = jnp.where(poor, radius * GOOD, grown)
        # Broyden's update, from the values before the step
        change = (trial_values - values - approximation @ taken) / length
        broyden = approximation + jnp.outer(change, scaling * (scaling * taken) / length)
        accepted = (ratio >= ACCEPTED) & ~stopped
        x = jnp.where(accepted, trial, x)
        values = jnp.where(accepted, trial_values, values)
        jacobian = jnp.where(accepted, trial_jacobian, jacobian)
        norm = jnp.where(accepted, trial_norm, norm)
        first &= ~accepted
        slow_steps = jnp.where(actual >= SLOW_FALL, 0, slow_steps + 1)
        slow_jacobians = jnp.where(fresh, slow_jacobians + 1, slow_jacobians)
        slow_jacobians = jnp.where(actual >= POOR, 0, slow_jacobians)
        size = scaled_norm(x, scaling)
        small = (radius <= solver.tol * size) | (
            POOR * jnp.maximum(POOR * radius, length) <= EPSILON * size
        )
        slow = (slow_steps == SLOW_STEPS) | (slow_jacobians == SLOW_JACOBIANS)
        fresh = failures == 2
        approximation = jnp.where(fresh, jacobian, jnp.where(finite, broyden, approximation))
        scaling = jnp.where(fresh, jnp.maximum(scaling, column_norms(jacobian)), scaling)
        done = stopped | small | slow
        return (evaluations + 1, x, values, jacobian, approximation, scaling, radius, norm,
                first, fresh, successes, failures, slow_steps, slow_jacobians, done)  # fmt: skip

    def running(state):
        evaluations, norm, done = state[0], state[7], state[-1]
        return ~done & (norm > 0.0) & (evaluations < solver.maxiter * (n + 1))

    start = (1, x0, values, jacobian, jacobian, scaling, radius, norm, jnp.array(True),
             jnp.array(True), 0, 0, 0, 0, ~(wanted & finite))  # fmt: skip
    return jax.lax.while_loop(running, body, start)[1]
