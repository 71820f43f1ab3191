"""The damped Newton of :mod:`implicitop._solvers.system`, traced with ``jax.lax``.

One element at a time (``jax.vmap`` maps it over a batch): Newton steps from an LU
factorisation, the Armijo line search on ``|R|^2/2``, Levenberg-Marquardt steps
where that fails or ``J`` is singular (for a minimum, modified Newton steps and the
line search on the objective), fraction-to-the-boundary moves and the same
acceptance test, with the core's constants and settings; for a root it does not
find, Powell's hybrid method (:mod:`~implicitop._jax.hybrid`).
"""

import jax
import jax.numpy as jnp
import jax.scipy.linalg

from implicitop._jax.hybrid import powell_hybrid
from implicitop._jax.linear import diagonal_scaling, newton_like_step
from implicitop._jax.scalar import CompileExpressions
from implicitop._problem import residual_scale
from implicitop._solvers import Solver
from implicitop._solvers.status import (
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
from implicitop._solvers.system import (
    ARMIJO,
    DAMPING_GROWTH,
    DAMPING_START,
    LEVEL_SLACK,
    LM_ARMIJO,
    MAX_DAMPINGS,
    MAX_HALVINGS,
    MAX_SHIFTS,
    SHIFT_START,
)
from implicitop._solvers.system_parts import BOUNDARY_FRACTION

__all__ = ["SystemElementSolver"]


class SystemElementSolver:
    """``(x0 of shape (n,), *params) -> (root (n,), status code)``, NaN where there is none.

    Parameters
    ----------
    solver
        The core solver of a system: settings and domains.
    compile_expressions
        Turns SymPy expressions of the given symbols into a JAX function returning
        one scalar per expression.
    """

    def __init__(self, solver: Solver, compile_expressions: CompileExpressions):
        problem = solver.problem
        self.n = problem.size
        objective = 0 if problem.objective is None else problem.objective
        expressions = [
            *problem.residuals,
            *problem.jacobian,
            *(residual_scale(r) for r in problem.residuals),
            objective,
        ]
        self._evaluate = compile_expressions(expressions, [*problem.unknowns, *problem.params])
        settings = solver.settings
        self.minimum = settings.minimum
        self.tol, self.maxiter = settings.tol, settings.maxiter
        self.lower, self.upper = jnp.asarray(settings.lower), jnp.asarray(settings.upper)

    def evaluate(self, x: jax.Array, params: tuple) -> tuple[jax.Array, ...]:
        """Residuals (n,), Jacobian (n, n), the size of each residual's terms (n,) and
        the objective whose gradient the residuals are (0 if there is none)."""
        n = self.n
        out = self._evaluate(*(x[j] for j in range(n)), *params)
        values = jnp.stack(out[:n])
        jacobian = jnp.stack(out[n : n + n * n]).reshape(n, n)
        level = jnp.asarray(out[-1], dtype=values.dtype)
        return values, jacobian, jnp.stack(out[n + n * n : -1]), level

    def error_at(self, x, values, jacobian, scales) -> jax.Array:
        """:func:`~implicitop._solvers.system_parts.error_at`."""
        rounding = jnp.sum(jnp.abs(jacobian * x[None, :]), axis=1)
        allowed = jnp.maximum(RESIDUAL_RTOL * scales, ULPS_OF_X * rounding)
        allowed = jnp.maximum(allowed, RESIDUAL_FLOOR)
        return jnp.max(jnp.where(values == 0, 0.0, jnp.abs(values) / allowed))

    def move(self, x: jax.Array, step: jax.Array, alpha: jax.Array) -> jax.Array:
        """:func:`~implicitop._solvers.system_parts.move`."""
        moved = x + alpha * step
        lower, upper = self.lower, self.upper
        floor = jnp.maximum(moved, lower + (x - lower) * BOUNDARY_FRACTION)
        ceiling = jnp.minimum(moved, upper - (upper - x) * BOUNDARY_FRACTION)
        moved = jnp.where(jnp.isfinite(lower) & (step < 0), floor, moved)
        return jnp.where(jnp.isfinite(upper) & (step > 0), ceiling, moved)

    def lm_search(self, x, values, jacobian, merit, params) -> tuple[jax.Array, ...]:
        """Levenberg-Marquardt steps with growing damping until ``|R|^2/2`` falls
        enough (:func:`~implicitop._solvers.system.damped_newton`): ``(accepted, trial,
        R, J)``."""
        n = self.n
        normal = jacobian.T @ jacobian
        gradient = jacobian.T @ values
        scaling = diagonal_scaling(jnp.diagonal(normal))

        def body(state):
            tries, damping, _, _, _, _ = state
            step, usable = newton_like_step(normal + jnp.diag(damping * scaling), gradient)
            trial = self.move(x, jnp.where(usable, step, 0.0), 1.0)
            trial_values, trial_jacobian, *_ = self.evaluate(trial, params)
            trial_merit = 0.5 * jnp.sum(trial_values**2)
            accepted = usable & jnp.all(jnp.isfinite(trial_jacobian)) & jnp.isfinite(trial_merit)
            accepted &= trial_merit <= (1 - 2 * ARMIJO * LM_ARMIJO) * merit
            grown = damping * DAMPING_GROWTH
            return tries + 1, grown, accepted, trial, trial_values, trial_jacobian

        def running(state):
            return (state[0] < MAX_DAMPINGS) & ~state[2]

        nan = jnp.full(n, jnp.nan)
        start = (0, jnp.array(DAMPING_START), jnp.array(False), x, nan, jnp.full((n, n), jnp.nan))
        _, _, accepted, trial, trial_values, trial_jacobian = jax.lax.while_loop(
            running, body, start
        )
        return accepted, trial, trial_values, trial_jacobian

    def line_search(self, x, step, merit, error, params) -> tuple[jax.Array, ...]:
        """Halve the step until ``|R|^2/2`` falls enough (or, the full step, until the
        largest residual over its rounding, ``error`` at ``x``, halves):
        ``(accepted, trial, R, J)``."""

        def body(state):
            halvings, alpha, _, _, _, _ = state
            trial = self.move(x, step, alpha)
            values, jacobian, scales, _ = self.evaluate(trial, params)
            trial_merit = 0.5 * jnp.sum(values**2)
            accepted = jnp.all(jnp.isfinite(jacobian)) & jnp.isfinite(trial_merit)
            accepted &= trial_merit <= (1 - 2 * ARMIJO * alpha) * merit
            halved = self.error_at(trial, values, jacobian, scales) < error / 2
            accepted |= (alpha == 1.0) & halved
            next_alpha = jnp.where(accepted, alpha, alpha / 2)
            return halvings + 1, next_alpha, accepted, trial, values, jacobian

        def running(state):
            return (state[0] < MAX_HALVINGS) & ~state[2]

        nan = jnp.full(self.n, jnp.nan)
        start = (0, jnp.array(1.0), jnp.array(False), x, nan, jnp.full((self.n, self.n), jnp.nan))
        _, _, accepted, trial, values, jacobian = jax.lax.while_loop(running, body, start)
        return accepted, trial, values, jacobian

    def modified_newton_step(self, values, jacobian) -> tuple[jax.Array, jax.Array]:
        """:func:`~implicitop._solvers.system.modified_newton_step`: ``-(H + tau D)^-1 R``
        for the first ``tau`` that makes the shifted Hessian positive definite, and
        whether there is one."""
        diagonal = jnp.diagonal(jacobian)
        scaling = diagonal_scaling(diagonal)
        lowest = jnp.min(diagonal / scaling)
        symmetric = 0.5 * (jacobian + jacobian.T)

        def factored(tries, tau):
            factor = jnp.linalg.cholesky(symmetric + jnp.diag(tau * scaling))
            usable = jnp.all(jnp.isfinite(factor)) & jnp.all(jnp.diagonal(factor) > 0)
            return tries + 1, tau, factor, usable

        def body(state):
            tries, tau, _, _ = state
            return factored(tries, jnp.maximum(2 * tau, SHIFT_START))

        def running(state):
            return (state[0] < MAX_SHIFTS) & ~state[3]

        tau = jnp.where(lowest > 0, 0.0, SHIFT_START - lowest)
        _, _, factor, found = jax.lax.while_loop(running, body, factored(0, tau))
        found &= jnp.all(jnp.isfinite(values))
        lower = jnp.where(found, factor, jnp.eye(self.n))
        step = -jax.scipy.linalg.cho_solve((lower, True), jnp.where(found, values, 0.0))
        return step, found & jnp.all(jnp.isfinite(step))

    def descent_search(self, x, values, jacobian, level, merit, error, params) -> tuple:
        """:func:`~implicitop._solvers.system.descent_search`: ``(accepted, trial, R, J,
        f)``."""
        step, found = self.modified_newton_step(values, jacobian)
        downhill = jnp.minimum(jnp.sum(values * step), 0.0)

        def body(state):
            halvings, alpha, *_ = state
            trial = self.move(x, step, alpha)
            trial_values, trial_jacobian, scales, trial_level = self.evaluate(trial, params)
            finite = jnp.all(jnp.isfinite(trial_jacobian)) & jnp.isfinite(trial_level)
            accepted = trial_level <= level + ARMIJO * alpha * downhill
            halved = self.error_at(trial, trial_values, trial_jacobian, scales) < error / 2
            falls = 0.5 * jnp.sum(trial_values**2) <= (1 - 2 * ARMIJO * alpha) * merit
            level_kept = trial_level <= level + LEVEL_SLACK * jnp.abs(level)
            accepted |= level_kept & (falls | ((alpha == 1.0) & halved))
            accepted &= finite
            next_alpha = jnp.where(accepted, alpha, alpha / 2)
            return (
                halvings + 1,
                next_alpha,
                accepted,
                trial,
                trial_values,
                trial_jacobian,
                trial_level,
            )

        def running(state):
            return found & (state[0] < MAX_HALVINGS) & ~state[2]

        nan = jnp.full(self.n, jnp.nan)
        start = (
            0,
            jnp.array(1.0),
            jnp.array(False),
            x,
            nan,
            jnp.full((self.n, self.n), jnp.nan),
            level,
        )
        return jax.lax.while_loop(running, body, start)[2:]

    def root_search(self, x, values, jacobian, step, newton, merit, error, params) -> tuple:
        """:func:`~implicitop._solvers.system.root_search`: ``(accepted, trial, R, J, 0)``."""
        accepted, trial, trial_values, trial_jacobian = self.line_search(
            x, jnp.where(newton, step, 0.0), merit, error, params
        )
        accepted &= newton
        damped = self.lm_search(x, values, jacobian, merit, params)
        use_damped = ~accepted & damped[0]
        trial, trial_values, trial_jacobian = (
            jnp.where(use_damped, d, t)
            for d, t in zip(damped[1:], (trial, trial_values, trial_jacobian), strict=True)
        )
        return accepted | use_damped, trial, trial_values, trial_jacobian, jnp.zeros(())

    def newton_step(self, values, jacobian, x) -> tuple[jax.Array, jax.Array, jax.Array]:
        """``-J^-1 R``, whether ``J`` is unusable, and whether R and J are finite."""
        finite = jnp.all(jnp.isfinite(values)) & jnp.all(jnp.isfinite(jacobian))
        step, usable = newton_like_step(jacobian, jnp.where(finite, values, 0.0))
        return step, ~usable, finite

    def __call__(self, x0: jax.Array, *params: jax.Array) -> tuple[jax.Array, jax.Array]:
        tol = self.tol

        def body(state):
            k, x, values, jacobian, level, result, code, best, best_error, _ = state
            error = self.error_at(x, values, jacobian, self.evaluate(x, params)[2])
            better = error < best_error  # False where R or J is not finite: NaN
            best = jnp.where(better, x, best)
            best_error = jnp.where(better, error, best_error)
            step, singular, finite = self.newton_step(values, jacobian, x)
            merit = 0.5 * jnp.sum(values**2)
            small_step = jnp.all(jnp.abs(step) <= tol * jnp.abs(x))
            at_root = finite & (jnp.all(values == 0) | (~singular & small_step))
            searching = finite & ~at_root
            if self.minimum:
                found = self.descent_search(x, values, jacobian, level, merit, error, params)
            else:
                newton = searching & ~singular
                found = self.root_search(x, values, jacobian, step, newton, merit, error, params)
            accepted, trial, trial_values, trial_jacobian, trial_level = found
            accepted &= searching
            failed = ~at_root & (~finite | (searching & ~accepted))
            result = jnp.where(at_root, x, result)
            why = jnp.where(singular, SINGULAR_JACOBIAN, NO_PROGRESS)
            code = jnp.where(failed, jnp.where(finite, why, NONFINITE_RESIDUAL), code)
            return (
                k + 1,
                jnp.where(accepted, trial, x),
                jnp.where(accepted, trial_values, values),
                jnp.where(accepted, trial_jacobian, jacobian),
                jnp.where(accepted, trial_level, level),
                result,
                code,
                best,
                best_error,
                at_root | failed,
            )

        def running(state):
            return (state[0] < self.maxiter) & ~state[-1]

        values, jacobian, _, level = self.evaluate(x0, params)
        nan = jnp.full(self.n, jnp.nan)
        start = (
            0, x0, values, jacobian, level, nan, jnp.array(MAXITER), nan, jnp.array(jnp.inf),
            jnp.array(False),
        )  # fmt: skip
        *_, root, code, best, best_error, _ = jax.lax.while_loop(running, body, start)
        # stopped short: the iterate nearest a root (system.best_or)
        root = jnp.where(jnp.isnan(root).any() & (best_error <= 1.0), best, root)
        accepted = self.at_root(root, params)
        candidate = jnp.all(jnp.isfinite(root))
        code = jnp.where(candidate, jnp.where(accepted, CONVERGED, NOT_A_ROOT), code)
        found = candidate & accepted
        if not self.minimum:  # as system.solve_element: Powell's hybrid method from x0
            second = powell_hybrid(self, x0, params, ~found)
            rescued = ~found & jnp.all(jnp.isfinite(second)) & self.at_root(second, params)
            root = jnp.where(rescued, second, root)
            code = jnp.where(rescued, CONVERGED, code)
            found |= rescued
        return jnp.where(found, root, jnp.nan), code

    def at_root(self, x: jax.Array, params: tuple) -> jax.Array:
        """Whether every residual at ``x`` is zero to rounding (False where not finite)."""
        return self.error_at(x, *self.evaluate(x, params)[:3]) <= 1.0
