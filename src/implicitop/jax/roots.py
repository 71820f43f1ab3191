"""Roots of a problem as a JAX function that ``jax.grad`` differentiates implicitly.

:func:`root_function` maps the traced element solver over a batch and gives it a
``custom_jvp``: the tangent of the roots is ``-J_u^-1 (J_theta dtheta)`` at the
root (the implicit function theorem), not a derivative through the solver's loops,
which reverse mode cannot take. Samplers that differentiate with JAX (numpyro,
blackjax) use it through PyTensor's JAX backend.
"""

from collections.abc import Callable

import jax
import jax.numpy as jnp

from implicitop.jax.scalar import CompileExpressions, ScalarElementSolver
from implicitop.jax.system import SystemElementSolver
from implicitop.solvers import Solver

__all__ = ["root_function"]


def _starting_points(solver: Solver, compile_expressions: CompileExpressions) -> Callable:
    """``(*flat params) -> x0 (m, n)``: the user's guess where it is finite and inside
    the search domain, else the default (as :func:`implicitop.solvers.batch.starting_point`)."""
    problem = solver.problem
    guesses = [float("nan") if g is None else g for g in solver.guesses]
    formula = jax.vmap(compile_expressions(guesses, list(problem.params)))
    _, _, lower, upper, defaults, *_ = solver.arguments

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


def root_function(solver: Solver, compile_expressions: CompileExpressions) -> Callable:
    """``(*flat params, each (m,)) -> roots (m, n)``, NaN rows where there is none.

    Parameters
    ----------
    solver
        The core solver (problem, settings, domains, guesses).
    compile_expressions
        Turns a list of SymPy expressions of the given symbols into a JAX function
        of scalars returning one scalar per expression.
    """
    element = ScalarElementSolver if solver.problem.size == 1 else SystemElementSolver
    mapped = jax.vmap(element(solver, compile_expressions))
    starting_points = _starting_points(solver, compile_expressions)
    tangents_of = _implicit_tangents(solver, compile_expressions)

    @jax.custom_jvp
    def roots(*flat: jax.Array) -> jax.Array:
        return mapped(starting_points(*flat), *flat)

    @roots.defjvp
    def roots_jvp(primals: tuple, tangents: tuple) -> tuple[jax.Array, jax.Array]:
        root = roots(*primals)
        return root, tangents_of(root, primals, tangents)

    return roots
