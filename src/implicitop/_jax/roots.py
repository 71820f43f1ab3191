"""Roots of a problem as a JAX function that ``jax.grad`` differentiates implicitly.

:func:`root_function` solves a batch, by the problem's compiled solver where JAX
computes on the CPU (:mod:`~implicitop._jax.foreign`), else by the traced element
solver mapped over it, and gives it a ``custom_jvp``: the tangent of the roots is
``-J_u^-1 (J_theta dtheta)`` at the root (the implicit function theorem), not a
derivative through the solver's loops, which reverse mode cannot take. Samplers that
differentiate with JAX (numpyro, blackjax) use it through PyTensor's JAX backend.
"""

from collections.abc import Callable

import jax
import jax.numpy as jnp

from implicitop._elementwise_solve import cholesky_diagonal_entrywise
from implicitop._jax.foreign import foreign_available, foreign_solve
from implicitop._jax.scalar import CompileExpressions, ScalarElementSolver
from implicitop._jax.system import SystemElementSolver
from implicitop._solvers import Solver
from implicitop._solvers.status import (
    CONVERGED,
    MAXITER,
    NONFINITE_PARAMETER,
    NOT_A_MINIMUM,
    PARAMETER_OUTSIDE_DOMAIN,
)

__all__ = ["platform_solve_function", "root_function", "solve_function"]


def _starting_points(solver: Solver, compile_expressions: CompileExpressions) -> Callable:
    """``(*flat params) -> x0 (m, n)``: the user's guess where it is finite and inside
    the search domain, else the default (as :func:`implicitop._solvers.batch.starting_point`)."""
    problem = solver.problem
    guesses = [float("nan") if g is None else g for g in solver.starts.guess]
    formula = jax.vmap(compile_expressions(guesses, list(problem.params)))
    lower, upper, defaults = solver.settings.lower, solver.settings.upper, solver.settings.defaults

    def starting_points(*flat: jax.Array) -> jax.Array:
        points = jnp.stack(formula(*flat), axis=-1)
        points = jnp.broadcast_to(points, (flat[0].shape[0], problem.size))
        usable = jnp.isfinite(points) & (points >= lower) & (points <= upper)
        return jnp.where(usable, points, defaults)

    return starting_points


def _implicit_tangents(solver: Solver, compile_expressions: CompileExpressions) -> Callable:
    """``(roots (m, n), params, tangents) -> du (m, n)``: ``-J_u^-1 (J_theta dtheta)``,
    NaN where there is no root."""
    problem = solver.problem
    n, k = problem.size, len(problem.params)
    evaluate = compile_expressions(
        [*problem.jacobian, *problem.param_jacobian], [*problem.unknowns, *problem.params]
    )

    def one(root: jax.Array, params: tuple, tangents: tuple) -> jax.Array:
        out = evaluate(*(root[j] for j in range(n)), *params)
        jacobian = jnp.stack(out[: n * n]).reshape(n, n)
        param_jacobian = jnp.stack(out[n * n :]).reshape(n, k)
        tangent = -jnp.linalg.solve(jacobian, param_jacobian @ jnp.stack(tangents))
        # no root, no tangent: a NaN factor (linear, so reverse mode carries it too)
        return tangent * jnp.where(jnp.any(jnp.isnan(root)), jnp.nan, 1.0)

    return jax.vmap(one)


def _parameter_status(solver: Solver) -> Callable:
    """``(*flat params) -> codes (m,)``: :func:`~implicitop._solvers.batch.parameter_status`."""
    lower, upper = solver.settings.param_lower, solver.settings.param_upper

    def parameter_status(*flat: jax.Array) -> jax.Array:
        values = jnp.stack(flat, axis=-1)
        finite = jnp.all(jnp.isfinite(values), axis=-1)
        inside = jnp.all((values >= lower) & (values <= upper), axis=-1)
        code = jnp.where(inside, MAXITER, PARAMETER_OUTSIDE_DOMAIN)
        return jnp.where(finite, code, NONFINITE_PARAMETER)

    return parameter_status


def _curved_upward(solver: Solver, compile_expressions: CompileExpressions) -> Callable:
    """``(roots (m, n), *flat params) -> (m,)``: whether ``dR/du`` is positive definite
    at each root, by the Cholesky factorisation of
    :func:`~implicitop._solvers.system.positive_definite` (step for step, one equation's
    ``dR/dx > 0`` included)."""
    problem = solver.problem
    n = problem.size
    evaluate = jax.vmap(
        compile_expressions(list(problem.jacobian), [*problem.unknowns, *problem.params])
    )

    def curved_upward(root: jax.Array, *flat: jax.Array) -> jax.Array:
        entries = evaluate(*(root[:, j] for j in range(n)), *flat)
        matrix = [[entries[i * n + j] for j in range(n)] for i in range(n)]
        diagonal = jnp.stack(cholesky_diagonal_entrywise(matrix, jnp.sqrt))
        return jnp.all((diagonal > 0.0) & jnp.isfinite(diagonal), axis=0)

    return curved_upward


def solve_function(solver: Solver, compile_expressions: CompileExpressions) -> Callable:
    """``(*flat params, each (m,)) -> (roots (m, n), status codes (m,))``: the traced
    solve, NaN rows where there is no root, with the compiled solver's status codes
    (call it under ``jax.jit``, as :func:`root_function`).

    Parameters
    ----------
    solver
        The core solver (problem, settings, domains, expressions).
    compile_expressions
        Turns a list of SymPy expressions of the given symbols into a JAX function
        of scalars returning one scalar per expression.
    """
    element = ScalarElementSolver if solver.problem.size == 1 else SystemElementSolver
    mapped = jax.vmap(element(solver, compile_expressions))
    starting_points = _starting_points(solver, compile_expressions)
    parameter_status = _parameter_status(solver)
    # a minimum's: the Hessian must be positive definite
    curved_upward = _curved_upward(solver, compile_expressions) if solver.settings.minimum else None

    def solve(*flat: jax.Array) -> tuple[jax.Array, jax.Array]:
        usable = parameter_status(*flat)
        root, code = mapped(starting_points(*flat), *flat)
        code = jnp.where(usable == MAXITER, code, usable)
        if curved_upward is not None:
            code = jnp.where((code == CONVERGED) & ~curved_upward(root, *flat), NOT_A_MINIMUM, code)
        kept = (usable == MAXITER) & (code != NOT_A_MINIMUM)
        root = jnp.where(kept[:, None], root, jnp.nan)
        return root, code.astype(jnp.int8)

    return solve


def platform_solve_function(
    solver: Solver, compile_expressions: CompileExpressions
) -> Callable[..., tuple[jax.Array, jax.Array]]:
    """:func:`solve_function`'s solve, computed by the problem's compiled solver
    (:func:`~implicitop._jax.foreign.foreign_solve`: nothing for XLA to compile, the
    C backend's numbers) where JAX computes on the CPU in 64 bits and numba compiled
    the problem; traced otherwise (other platforms, JAX without ``jax_enable_x64``, as
    PyTensor sets it for ``floatX="float32"``, residuals numba cannot compile)."""
    if foreign_available() and solver.kernels.compiled:
        return foreign_solve(solver)
    return solve_function(solver, compile_expressions)


def root_function(solver: Solver, compile_expressions: CompileExpressions) -> Callable:
    """``(*flat params, each (m,)) -> roots (m, n)``, NaN rows where there is none,
    differentiable (see the module's description), solved as
    :func:`platform_solve_function` says.

    Call it under ``jax.jit`` (as PyTensor's JAX backend and numpyro do): called
    eagerly, JAX compiles the solver's loops again at every call, seconds each.

    Parameters
    ----------
    solver
        The core solver (problem, settings, domains, expressions).
    compile_expressions
        Turns a list of SymPy expressions of the given symbols into a JAX function
        of scalars returning one scalar per expression.
    """
    solve = platform_solve_function(solver, compile_expressions)
    tangents_of = _implicit_tangents(solver, compile_expressions)

    @jax.custom_jvp
    def roots(*flat: jax.Array) -> jax.Array:
        return solve(*flat)[0]

    @roots.defjvp
    def roots_jvp(primals: tuple, tangents: tuple) -> tuple[jax.Array, jax.Array]:
        root = roots(*primals)
        return root, tangents_of(root, primals, tangents)

    return roots
