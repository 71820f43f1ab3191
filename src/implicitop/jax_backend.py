"""PyTensor's JAX backend runs :class:`~implicitop.op.ImplicitOp` as traced JAX code.

``pytensor.function(..., mode="JAX")`` and samplers that go through JAX (``pm.sample(
nuts_sampler="numpyro")``, blackjax) need the op in JAX itself. The residual, its slope
and the size of its terms are printed to PyTensor graphs and converted by PyTensor's
own JAX dispatch, so every function PyTensor can express in JAX works. The solver is
the one of :mod:`implicitop.solve` written for one element with ``jax.lax`` loops and
mapped over the batch with ``jax.vmap``: Newton from the guess with domain guard and
overflow back-off, then, where that fails, the sign change of the scan grid nearest
the guess and Newton safeguarded by bisection, and the same acceptance test. Roots
agree with the other backends to rounding. Elements without a root give NaN.

Systems of equations run the damped Newton of :mod:`implicitop.jax_systems`. Not
covered: ``on_failure="raise"`` (a traced function cannot raise on values) and
symbolic ``x0`` for systems; both raise ``NotImplementedError`` when the graph is
compiled.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
import pytensor.tensor as pt
import sympy as sp
from pytensor.graph.fg import FunctionGraph
from pytensor.link.jax.dispatch import jax_funcify

from implicitop.codegen import to_pytensor
from implicitop.jax_systems import SystemElementSolver, system_tangents
from implicitop.op import ImplicitOp
from implicitop.problem import residual_scale
from implicitop.solve import compiled_arguments
from implicitop.status import RESIDUAL_RTOL, ULPS_OF_X

__all__ = ["jax_funcify_implicit_op"]

ScalarFunction = Callable[..., tuple[jax.Array, ...]]


def _jax_function(expressions: list[sp.Expr], symbols: list[sp.Symbol]) -> ScalarFunction:
    """``expressions`` of ``symbols`` as a JAX function, through PyTensor's JAX dispatch."""
    scalars = [pt.dscalar(s.name) for s in symbols]
    bindings = dict(zip(symbols, scalars, strict=True))
    outputs = [pt.cast(to_pytensor(e, bindings), "float64") for e in expressions]
    return jax_funcify(FunctionGraph(scalars, outputs, clone=True))


def _midpoint(a: jax.Array, b: jax.Array) -> jax.Array:
    lo, hi = jnp.minimum(a, b), jnp.maximum(a, b)
    small, large = jnp.minimum(jnp.abs(lo), jnp.abs(hi)), jnp.maximum(jnp.abs(lo), jnp.abs(hi))
    wide = ((lo > 0) | (hi < 0)) & (large > 4 * small)
    return jnp.where(wide, jnp.copysign(jnp.sqrt(small) * jnp.sqrt(large), hi), lo / 2 + hi / 2)


def _retreat(x: jax.Array, lower: float, upper: float) -> jax.Array:
    if np.isfinite(lower):
        return lower + (x - lower) * 0.1
    if np.isfinite(upper):
        return upper - (upper - x) * 0.1
    return x * 0.1


class _ElementSolver:
    """The two-phase solver for one element; ``jax.vmap`` maps it over a batch."""

    def __init__(self, op: ImplicitOp):
        problem = op.problem
        (residual,) = problem.residuals
        symbols = [*problem.unknowns, *problem.params]
        self._evaluate = _jax_function(
            [residual, problem.jacobian[0, 0], residual_scale(residual)], symbols
        )
        (domain,) = op._search_domains
        arguments = compiled_arguments(domain, op._param_domains, op._settings)
        (
            self.lower,
            self.upper,
            self.tol,
            self.newton_iterations,
            self.maxiter,
            param_lower,
            param_upper,
            grid,
        ) = arguments
        self.param_lower, self.param_upper = jnp.asarray(param_lower), jnp.asarray(param_upper)
        self.grid = jnp.asarray(grid)

    def value_and_slope(self, x: jax.Array, params: tuple) -> tuple[jax.Array, jax.Array]:
        value, slope, _ = self._evaluate(x, *params)
        return value, slope

    def is_root(self, x: jax.Array, params: tuple) -> jax.Array:
        value, slope, scale = self._evaluate(x, *params)
        allowed = jnp.maximum(RESIDUAL_RTOL * scale, ULPS_OF_X * jnp.abs(x * slope))
        return (value == 0) | (jnp.abs(value) <= allowed)

    def newton(self, x0: jax.Array, params: tuple) -> jax.Array:
        """Phase 1: a root candidate, or NaN where phase 2 must take over."""
        lower, upper, tol = self.lower, self.upper, self.tol

        def step(state):
            k, x, previous, result, _ = state
            value, slope = self.value_and_slope(x, params)
            finite = jnp.isfinite(value) & jnp.isfinite(slope)
            target = _retreat(x, lower, upper)
            proposal = x - value / slope
            proposal = jnp.where(proposal < lower, lower + (x - lower) * 0.1, proposal)
            proposal = jnp.where(proposal > upper, upper - (upper - x) * 0.1, proposal)
            small = jnp.abs(proposal - x) <= tol * jnp.abs(proposal)
            back_off = ~finite & jnp.isfinite(previous)
            stuck = ~finite & ~back_off & (target == x)
            lost = finite & ~jnp.isfinite(proposal)
            found = (value == 0) | (finite & jnp.isfinite(proposal) & small)
            result = jnp.where(value == 0, x, jnp.where(found, proposal, result))
            moved = jnp.where(finite, proposal, jnp.where(back_off, _midpoint(previous, x), target))
            previous = jnp.where(finite, x, previous)
            return k + 1, moved, previous, result, found | stuck | lost

        def running(state):
            k, *_, done = state
            return (k < self.newton_iterations) & ~done

        nan = jnp.array(jnp.nan)
        state = (0, x0, nan, nan, jnp.array(False))
        return jax.lax.while_loop(running, step, state)[3]

    def nearest_bracket(self, x0: jax.Array, params: tuple) -> tuple[jax.Array, ...]:
        """The sign change (or zero) of the scan grid nearest ``x0``: ``(a, b, found)``."""
        grid = self.grid
        values, _ = jax.vmap(lambda g: self.value_and_slope(g, params))(grid)
        index = jnp.arange(grid.shape[0])
        known = ~jnp.isnan(values) & (values != 0)
        last_known = jax.lax.cummax(jnp.where(known, index, -1))
        before = jnp.concatenate([jnp.array([-1]), last_known[:-1]])
        change = (before >= 0) & (jnp.sign(values) * jnp.sign(values[before]) < 0)
        exact = values == 0
        candidate = change | exact
        target = jnp.searchsorted(grid, x0)
        distance = jnp.where(candidate, jnp.abs(index - target), grid.shape[0] + 1)
        best = jnp.argmin(distance)  # the first of equals: the lower side, as the scan
        a = jnp.where(exact[best], grid[best], grid[before[best]])
        return a, grid[best], candidate[best]

    def bracketed(self, x0: jax.Array, params: tuple) -> tuple[jax.Array, jax.Array]:
        """Phase 2: a root (NaN where none) and whether it is accepted."""
        a, b, found = self.nearest_bracket(x0, params)
        value_a, _ = self.value_and_slope(a, params)
        value_b, _ = self.value_and_slope(b, params)
        sign_a = jnp.sign(value_a)
        ceiling = jnp.where(a == b, jnp.inf, jnp.maximum(jnp.abs(value_a), jnp.abs(value_b)))
        inside = (jnp.minimum(a, b) < x0) & (x0 < jnp.maximum(a, b))
        start = jnp.where(inside, x0, _midpoint(a, b))
        tol = self.tol

        def step(state):
            k, x, a, b, size_a, size_b, step_last, step_before, result, _ = state
            value, slope = self.value_and_slope(x, params)
            same = jnp.sign(value) == sign_a
            a, size_a = jnp.where(same, x, a), jnp.where(same, jnp.abs(value), size_a)
            b, size_b = jnp.where(same, b, x), jnp.where(same, size_b, jnp.abs(value))
            lo, hi = jnp.minimum(a, b), jnp.maximum(a, b)
            newton = x - value / slope
            bisect = ~jnp.isfinite(newton) | (newton <= lo) | (newton >= hi)
            bisect |= 2 * jnp.abs(newton - x) > step_before
            proposal = jnp.where(bisect, _midpoint(lo, hi), newton)
            newton_done = ~bisect & (jnp.abs(newton - x) <= tol * jnp.abs(newton))
            closed = hi - lo <= ULPS_OF_X * jnp.maximum(jnp.abs(lo), jnp.abs(hi))
            best_end = jnp.where(size_a <= size_b, a, b)
            outcome = jnp.where(value == 0, x, jnp.where(newton_done, newton, best_end))
            finished = (value == 0) | newton_done | closed
            result = jnp.where(finished, outcome, result)
            step_before, step_last = step_last, jnp.abs(proposal - x)
            return (k + 1, proposal, a, b, size_a, size_b, step_last, step_before, result, finished)

        def running(state):
            return (state[0] < self.maxiter) & ~state[-1]

        width = jnp.abs(b - a)
        state = (
            0, start, a, b, jnp.abs(value_a), jnp.abs(value_b), width, width,
            jnp.where(a == b, a, jnp.nan), ~found | (a == b),
        )  # fmt: skip
        result = jax.lax.while_loop(running, step, state)[-2]
        value, _ = self.value_and_slope(result, params)
        accepted = found & self.is_root(result, params) & (jnp.abs(value) <= ceiling)
        return jnp.where(accepted, result, jnp.nan)

    def __call__(self, x0: jax.Array, *params: jax.Array) -> jax.Array:
        values = jnp.stack(params)
        usable = jnp.all(jnp.isfinite(values))
        usable &= jnp.all((values >= self.param_lower) & (values <= self.param_upper))
        candidate = self.newton(x0, params)
        settled = jnp.isfinite(candidate)
        phase_1 = jnp.where(self.is_root(candidate, params), candidate, jnp.nan)
        root = jax.lax.cond(settled, lambda: phase_1, lambda: self.bracketed(x0, params))
        return jnp.where(usable, root, jnp.nan)


def _guess(op: ImplicitOp) -> Callable[..., jax.Array]:
    """The initial guess for flat parameter arrays, as ``ImplicitOp._initial_guess``."""
    if op._constant_guess is not None:
        start = float(op._constant_guess[0])
        return lambda *values: jnp.full(values[0].shape, start)
    (domain,) = op._search_domains
    (x0,) = op._guesses
    (default,) = op._defaults
    formula = jax.vmap(_jax_function([x0], list(op.params)))

    def guess(*values: jax.Array) -> jax.Array:
        (point,) = formula(*values)
        usable = jnp.isfinite(point) & (point >= domain.lower) & (point <= domain.upper)
        return jnp.where(usable, point, default)

    return guess


@jax_funcify.register(ImplicitOp)
def jax_funcify_implicit_op(op: ImplicitOp, node=None, **kwargs: object) -> Callable:
    """The JAX implementation of ``op``."""
    if op.options.on_failure == "raise":
        raise NotImplementedError(
            f"{op}: on_failure='raise' cannot be traced by JAX; build the op with "
            "on_failure='nan' and check op.converged(...) instead"
        )
    if op.problem.size > 1:
        return _system_implementation(op, node)
    solver = jax.vmap(_ElementSolver(op))
    guess = _guess(op)
    derivatives = jax.vmap(
        _jax_function(list(op.problem.derivatives), [*op.problem.unknowns, *op.params])
    )

    # JAX differentiates the root by the implicit function theorem, not through the
    # solver's loops (which reverse mode cannot do), so numpyro's jax.grad works.
    @jax.custom_jvp
    def roots(*flat: jax.Array) -> jax.Array:
        return solver(guess(*flat), *flat)

    @roots.defjvp
    def roots_jvp(primals: tuple, tangents: tuple) -> tuple[jax.Array, jax.Array]:
        root = roots(*primals)
        slopes = derivatives(root, *primals)
        return root, sum(d * t for d, t in zip(slopes, tangents, strict=True))

    dtype = node.outputs[0].dtype

    def implicit_op(*inputs: jax.Array) -> jax.Array:
        shape = jnp.shape(inputs[0])
        flat = [jnp.ravel(jnp.asarray(v, dtype=jnp.float64)) for v in inputs]
        return roots(*flat).reshape(shape).astype(dtype)

    return implicit_op


def _system_implementation(op: ImplicitOp, node) -> Callable:
    """The JAX implementation of a system's op: a tuple of n outputs."""
    if op._constant_guess is None:
        raise NotImplementedError(
            f"{op}: a symbolic x0 for a system has no JAX implementation; give numbers"
        )
    solver = jax.vmap(SystemElementSolver(op, _jax_function))
    tangents_of = system_tangents(op, _jax_function)
    start = jnp.asarray(op._constant_guess)

    @jax.custom_jvp
    def roots(*flat: jax.Array) -> jax.Array:
        return solver(jnp.broadcast_to(start, (flat[0].shape[0], start.shape[0])), *flat)

    @roots.defjvp
    def roots_jvp(primals: tuple, tangents: tuple) -> tuple[jax.Array, jax.Array]:
        root = roots(*primals)
        return root, tangents_of(root, primals, tangents)

    dtype = node.outputs[0].dtype

    def implicit_op(*inputs: jax.Array) -> tuple[jax.Array, ...]:
        shape = jnp.shape(inputs[0])
        flat = [jnp.ravel(jnp.asarray(v, dtype=jnp.float64)) for v in inputs]
        root = roots(*flat)
        return tuple(root[:, j].reshape(shape).astype(dtype) for j in range(root.shape[1]))

    return implicit_op
