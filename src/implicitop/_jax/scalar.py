"""The one-equation solver of :mod:`implicitop._solvers.scalar`, traced with ``jax.lax``.

JAX cannot run the compiled solver inside a traced function, so the same two phases
are written here once more in traced form, for one element (``jax.vmap`` maps it
over a batch): Halley's method (on the residual's log form where it has one) from
the starting point with domain guard and overflow back-off, then, where that fails,
the sign change of the scan grid nearest the start and Newton safeguarded by
bisection, with the same acceptance test. Constants,
thresholds, settings and the scan grid come from the core; the tests check that
roots agree with the compiled solver to rounding.
"""

from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

from implicitop._problem import residual_scale
from implicitop._solvers import Solver
from implicitop._solvers.lockstep import LOG_FORM_RATIO
from implicitop._solvers.scalar import (
    DECADES,
    EXPANSION_STEPS,
    GRID_CAPACITY,
    MAX_BRACKETS,
    NOISE_ULPS,
    PLATEAU_STEP,
    POLISH_STEPS,
    PROBE_RETREATS,
    SCAN_POINTS,
    SIGN_CHANGE_REACH,
    rounding_ahead,
)
from implicitop._solvers.status import (
    CONVERGED,
    MAXITER,
    NO_BRACKET_FOUND,
    NO_SIGN_CHANGE,
    NOT_A_MINIMUM,
    NOT_A_ROOT,
    RESIDUAL_FLOOR,
    RESIDUAL_RTOL,
    SMALLEST_NORMAL,
    ULPS_OF_X,
)

__all__ = ["ScalarElementSolver"]

#: ``(expressions, symbols) -> f(*scalars) -> tuple of one scalar per expression``.
CompileExpressions = Callable[[list, list], Callable[..., tuple[jax.Array, ...]]]


def _midpoint(a: jax.Array, b: jax.Array) -> jax.Array:
    lo, hi = jnp.minimum(a, b), jnp.maximum(a, b)
    small = jnp.maximum(jnp.minimum(jnp.abs(lo), jnp.abs(hi)), SMALLEST_NORMAL)
    large = jnp.maximum(jnp.abs(lo), jnp.abs(hi))
    geometric = jnp.copysign(jnp.sqrt(small) * jnp.sqrt(large), lo + hi)
    middle = jnp.where(large > 4 * small, geometric, lo / 2 + hi / 2)
    return jnp.where((lo < 0) & (hi > 0), 0.0, middle)


def _flushes_to_zero(like: jax.Array) -> jax.Array:
    """Whether the arithmetic that computes ``like`` flushes subnormal results to zero,
    as XLA's CPU runtime sets the processor to in all its threads: half the smallest
    normal number of ``like``'s type, computed at run time from ``like``, comes out 0."""
    tiny = jnp.finfo(like.dtype).tiny
    return tiny * (0.5 + 0.0 * jnp.abs(like)) == 0


def _halley_step(value: jax.Array, slope: jax.Array, curvature: jax.Array) -> jax.Array:
    square = slope * slope
    twice = 2.0 * value * slope
    product = value * curvature
    denominator = 2.0 * square - jnp.clip(product, -square, square)
    finite = jnp.isfinite(twice) & jnp.isfinite(product) & jnp.isfinite(denominator)
    return jnp.where(finite, -twice / denominator, -value / slope)


def _halley_terms(*parts: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array]:
    a, a1, a2, b, b1, b2 = parts
    far = (b > 0) & (a > 0) & ((a > LOG_FORM_RATIO * b) | (b > LOG_FORM_RATIO * a))
    slope_a, slope_b = a1 / a, b1 / b
    value = jnp.where(far, jnp.log(a) - jnp.log(b), a - b)
    slope = jnp.where(far, slope_a - slope_b, a1 - b1)
    curvature = jnp.where(far, a2 / a - slope_a**2 - b2 / b + slope_b**2, a2 - b2)
    return value, slope, curvature


def _opposite(a: jax.Array, b: jax.Array) -> jax.Array:
    return ((a < 0) & (b > 0)) | ((a > 0) & (b < 0))


def _retreat(x: jax.Array, lower: float, upper: float) -> jax.Array:
    if np.isfinite(lower):
        return lower + (x - lower) * 0.1
    if np.isfinite(upper):
        return upper - (upper - x) * 0.1
    return x * 0.1


def _element_grid(lo: jax.Array, hi: jax.Array) -> jax.Array:
    """:func:`~implicitop._solvers.scalar.fill_scan_grid` at a fixed length
    (:data:`~implicitop._solvers.scalar.GRID_CAPACITY`): the same points, the ends
    repeated to fill it; infinite ends, which the residual is not evaluated at, too."""
    t = jnp.arange(SCAN_POINTS) / (SCAN_POINTS - 1)
    geometric = ((lo > 0) & (hi > 100 * lo)) | ((hi < 0) & (lo < 100 * hi))
    bounded = jnp.where(geometric, lo * (hi / lo) ** t, lo + (hi - lo) * t)
    bounded = bounded.at[0].set(lo).at[-1].set(hi)
    bounded = jnp.concatenate([bounded, jnp.full(GRID_CAPACITY - SCAN_POINTS, hi)])
    powers = 10.0 ** jnp.asarray(DECADES)
    template = jnp.concatenate([lo[None], -powers[::-1], jnp.zeros(1), powers, hi[None]])
    unbounded = jnp.clip(template, lo, hi)
    return jnp.where(jnp.isfinite(lo) & jnp.isfinite(hi), bounded, unbounded)


class ScalarElementSolver:
    """``(x0 of shape (1,), *params) -> (root (1,), status code)``, NaN where there is none.

    Parameters
    ----------
    solver
        The core solver of a one-equation problem: settings, domains and grid.
    compile_expressions
        Turns SymPy expressions of the given symbols into a JAX function.
    """

    def __init__(self, solver: Solver, compile_expressions: CompileExpressions):
        problem = solver.problem
        (residual,) = problem.residuals
        self._evaluate = compile_expressions(
            [residual, problem.jacobian[0, 0], residual_scale(residual), *problem.halley_parts],
            [*problem.unknowns, *problem.params],
        )
        settings = solver.settings
        self.lower, self.upper = float(settings.lower[0]), float(settings.upper[0])
        self.tol, self.maxiter = settings.tol, settings.maxiter
        self.newton_iterations = settings.newton_iterations
        self.grid = jnp.asarray(settings.grid)
        self.search, self.expand = settings.bracket, settings.expand
        self.minimum = settings.minimum
        ends = solver.starts.bracket
        self._bracket = None
        if any(end is not None for end in ends):
            nan = float("nan")
            ends = [nan if end is None else end for end in ends]
            self._bracket = compile_expressions(ends, list(problem.params))

    def value_and_slope(self, x: jax.Array, params: tuple) -> tuple[jax.Array, jax.Array]:
        value, slope, *_ = self._evaluate(x, *params)
        return value, slope

    def minimum_or_other(self, x: jax.Array, params: tuple) -> jax.Array:
        """Where the problem is a minimum's, :func:`~implicitop._solvers.scalar.rises` at
        ``x``; else True."""
        if not self.minimum:
            return jnp.array(True)
        slope = self.value_and_slope(x, params)[1]
        return (slope > 0.0) & (slope < jnp.inf)

    def minimum_only(self, root: jax.Array, code: jax.Array, params: tuple) -> tuple:
        """``root`` and its status ``code``, a converged root where :meth:`minimum_or_other`
        fails (a maximum of a minimum's problem) passed over: NaN, ``NOT_A_MINIMUM``."""
        passed_over = (code == CONVERGED) & ~self.minimum_or_other(root, params)
        return jnp.where(passed_over, jnp.nan, root), jnp.where(passed_over, NOT_A_MINIMUM, code)

    def allowance(self, x: jax.Array, slope: jax.Array, scale: jax.Array) -> jax.Array:
        """:func:`~implicitop._solvers.scalar.allowance` where the slope of ``R`` and the
        size of its terms at ``x`` are known."""
        allowed = jnp.maximum(RESIDUAL_RTOL * scale, ULPS_OF_X * jnp.abs(x * slope))
        return jnp.maximum(allowed, RESIDUAL_FLOOR)

    def newton_polish(self, candidate: jax.Array, params: tuple) -> jax.Array:
        """:func:`~implicitop._solvers.scalar.newton_polish`: up to ``POLISH_STEPS``
        Newton steps on ``R`` from phase 1's candidate while ``|R|`` there is beyond its
        rounding, each where it stays in the domain (none where it is within it)."""

        def target(x: jax.Array) -> jax.Array:
            """Newton's step from ``x`` where it is to be taken, else NaN."""
            value, slope, scale, *_ = self._evaluate(x, *params)
            step = x - value / slope
            inside = jnp.isfinite(step) & (self.lower <= step) & (step <= self.upper)
            outside = jnp.abs(value) > self.allowance(x, slope, scale)
            return jnp.where(outside & inside & (step != x), step, jnp.nan)

        def move(state: tuple) -> tuple:
            k, _, step = state
            return k + 1, step, target(step)

        def moving(state: tuple) -> jax.Array:
            k, _, step = state
            return (k < POLISH_STEPS) & ~jnp.isnan(step)

        state = (0, candidate, target(candidate))
        return jax.lax.while_loop(moving, move, state)[1]

    def zero_to_rounding(self, x: jax.Array, params: tuple) -> tuple[jax.Array, jax.Array]:
        """:func:`~implicitop._solvers.scalar.error_of` at most 1 (a zero of ``R`` only
        where :meth:`zero_resolved`), and the allowance."""
        value, slope, scale, *_ = self._evaluate(x, *params)
        allowed = self.allowance(x, slope, scale)
        step = PLATEAU_STEP * jnp.where(x != 0, jnp.abs(x), 1.0)
        beside = [self.value_and_slope(x + side, params)[0] for side in (step, -step)]
        plateau = (value == 0) & (slope == 0) & ((beside[0] == 0) | (beside[1] == 0))
        zero = self.zero_resolved(x, slope)
        return jnp.where(value == 0, zero, jnp.abs(value) <= allowed) & ~plateau, allowed

    def zero_resolved(self, x: jax.Array, slope: jax.Array) -> jax.Array:
        """Whether ``R = 0`` at ``x`` makes ``x`` a root to rounding: always where
        subnormal numbers are kept (the compiled solver's arithmetic). Where they are
        flushed to zero (XLA on the CPU), 0 stands for any ``|R|`` below the smallest
        normal number, and the iteration stops there: ``x`` is a root to rounding only
        where ``R`` changes by that number within ``x``'s rounding (eight ulps in its
        own type, ``ULPS_OF_X`` in float64), or at 0 itself (the roots of ``x**9 = 0``
        and the like, which bisection lands on exactly). Elsewhere the solve goes on
        and reports ``NOT_A_ROOT``: absorption times of fractions near 1e-300 of a dose
        were up to 1.6e-11 off, called converged. (Compared as a quotient: no product
        here is flushed.)"""
        tiny, eps = jnp.finfo(x.dtype).tiny, jnp.finfo(x.dtype).eps
        resolved = jnp.abs(x) >= (tiny / (8 * eps)) / jnp.abs(slope)
        return ~_flushes_to_zero(x) | (x == 0) | resolved

    def probe(self, x: jax.Array, target: jax.Array, params: tuple) -> jax.Array:
        """:func:`~implicitop._solvers.scalar.probe`."""
        lower, upper = self.lower, self.upper
        target = jnp.where(target < lower, lower + (x - lower) / 2, target)
        target = jnp.where(target > upper, upper - (upper - x) / 2, target)

        def retreat(_, carry):
            target, value = carry
            pending = jnp.isnan(value) & (target != x)
            new = self.value_and_slope(target, params)[0]
            value = jnp.where(pending, new, value)
            target = jnp.where(pending & jnp.isnan(new), x + (target - x) / 2, target)
            return target, value

        return jax.lax.fori_loop(0, PROBE_RETREATS, retreat, (target, jnp.array(jnp.nan)))[1]

    def noise(self, x: jax.Array, params: tuple) -> jax.Array:
        """:func:`~implicitop._solvers.scalar.noise`."""
        return NOISE_ULPS * self._evaluate(x, *params)[2]

    def accepts(self, x: jax.Array, params: tuple) -> jax.Array:
        """:func:`~implicitop._solvers.scalar.accepts`: zero to rounding, and a sign
        change across ``x`` (:func:`~implicitop._solvers.scalar.changes_sign`)."""
        small, allowed = self.zero_to_rounding(x, params)
        value, slope = self.value_and_slope(x, params)
        level = self.noise(x, params)
        reach = SIGN_CHANGE_REACH * jnp.maximum(jnp.abs(value), allowed) / jnp.abs(slope)
        beyond = self.probe(x, x - jnp.copysign(reach, value * slope), params)
        below, above = self.probe(x, x - reach, params), self.probe(x, x + reach, params)
        at_bound = jnp.isnan(below) | jnp.isnan(above)
        one_side = ~((jnp.abs(below) <= level) | (jnp.abs(above) <= level))
        both_sides = _opposite(below, above) & (jnp.minimum(jnp.abs(below), jnp.abs(above)) > level)
        across = jnp.where(at_bound, one_side, both_sides)
        resolved = jnp.abs(value) > level
        crosses = jnp.where(resolved, _opposite(beyond, value) & (jnp.abs(beyond) > level), across)
        flat = (slope == 0) | ~jnp.isfinite(slope)
        return small & jnp.where(flat, value == 0, crosses)

    def phase_one(self, x0: jax.Array, params: tuple) -> jax.Array:
        """Phase 1 (Halley's method): a root candidate, or NaN where phase 2 must take
        over."""
        lower, upper, tol = self.lower, self.upper, self.tol

        def step(state):
            k, x, previous, result, _ = state
            value, slope, curvature = _halley_terms(*self._evaluate(x, *params)[3:])
            finite = jnp.isfinite(value) & jnp.isfinite(slope)
            target = _retreat(x, lower, upper)
            proposal = x + _halley_step(value, slope, curvature)
            proposal = jnp.where(proposal < lower, lower + (x - lower) * 0.1, proposal)
            proposal = jnp.where(proposal > upper, upper - (upper - x) * 0.1, proposal)
            step_size, size = jnp.abs(proposal - x), jnp.abs(proposal)
            close = rounding_ahead(step_size, jnp.abs(x - previous), size)
            small = (step_size <= tol * size) | close
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

    def scan_steps(self, x0: jax.Array, grid: jax.Array, params: tuple) -> jax.Array:
        """For every point of ``grid``, the step of the outward scan from ``x0`` at which
        it closes a bracket (:func:`~implicitop._solvers.scalar.scan_point`), or a step
        past the scan's end where it closes none; also the grid point's residual."""
        size = grid.shape[0]
        values, _ = jax.vmap(lambda g: self.value_and_slope(g, params))(grid)
        values = jnp.where(jnp.isfinite(grid), values, jnp.nan)
        index = jnp.arange(size)
        known = ~jnp.isnan(values) & (values != 0)
        last_known = jax.lax.cummax(jnp.where(known, index, -1))
        before = jnp.concatenate([jnp.array([-1]), last_known[:-1]])
        change = (before >= 0) & (jnp.sign(values) * jnp.sign(values[before]) < 0)
        if self.minimum:  # only where R rises (scalar.sign_change_ending_at's upward)
            change = change & (values[before] < 0)
        candidate = change | (values == 0)
        target = jnp.searchsorted(grid, x0)
        step = jnp.where(index < target, 2 * (target - index) - 1, 2 * (index - target))
        return jnp.where(candidate, step, 2 * size + 1), before, values

    def bracketed(self, x0: jax.Array, grid: jax.Array, params: tuple) -> tuple:
        """:func:`~implicitop._solvers.scalar.bracketed`: the brackets of ``grid``
        nearest ``x0`` in turn until one gives a root; the root (NaN where none does)
        and the status code."""
        steps, before, values = self.scan_steps(x0, grid, params)
        past_end = 2 * grid.shape[0] + 1

        def attempt(state):
            tries, last, _, _, _ = state
            best = jnp.argmin(jnp.where(steps > last, steps, past_end))
            found = steps[best] < past_end
            a = jnp.where(values[best] == 0, grid[best], grid[before[best]])
            root, code = self.minimum_only(*self.refine(x0, a, grid[best], params), params)
            code = jnp.where(found, code, state[3])
            done = ~found | (code == CONVERGED)
            return tries + 1, steps[best], jnp.where(found, root, jnp.nan), code, done

        def running(state):
            tries, *_, done = state
            return (tries < MAX_BRACKETS) & ~done

        state = (0, jnp.array(-1), jnp.array(jnp.nan), jnp.array(NO_SIGN_CHANGE), jnp.array(False))
        _, _, root, code, _ = jax.lax.while_loop(running, attempt, state)
        return root, code

    def element_interval(self, params: tuple) -> tuple[jax.Array, jax.Array]:
        """:func:`~implicitop._solvers.scalar.element_interval`."""
        lo, hi = self._bracket(*params)
        lo, hi = jnp.minimum(lo, hi), jnp.maximum(lo, hi)  # NaN stays NaN in either
        lo = jnp.where(jnp.isnan(lo), self.search[0], jnp.maximum(lo, self.lower))
        hi = jnp.where(jnp.isnan(hi), self.search[1], jnp.minimum(hi, self.upper))
        return lo, hi

    def phase_two(self, x0: jax.Array, params: tuple) -> tuple:
        """:func:`~implicitop._solvers.scalar.phase_two`: root and status code."""
        if self._bracket is None:
            lo, hi = jnp.array(self.search[0]), jnp.array(self.search[1])
            root, code = self.bracketed(x0, self.grid, params)
        else:
            lo, hi = self.element_interval(params)
            x0 = jnp.where((lo <= x0) & (x0 <= hi), x0, _midpoint(lo, hi))
            root, code = self.bracketed(x0, _element_grid(lo, hi), params)
            code = jnp.where(lo > hi, NO_SIGN_CHANGE, code)
        if not self.expand:
            return root, code
        grow = (code == NO_SIGN_CHANGE) & (lo <= hi)
        return jax.lax.cond(grow, lambda: self.expanded(lo, hi, params), lambda: (root, code))

    def grown(self, state: tuple, params: tuple, first_width: jax.Array) -> tuple:
        """:func:`~implicitop._solvers.scalar.grown` on the state ``(ends, last, widths,
        moving)``: the new state and the segment ``(a, b, value_a, value_b)`` (NaNs where
        none shows)."""
        bounds = jnp.array([self.lower, self.upper])
        nan = jnp.array(jnp.nan)

        def move(carry):
            k, ends, last, widths, moving, _ = carry
            segment = (nan, nan, nan, nan)
            for side in range(2):
                pending = moving[side] & jnp.isnan(segment[0])
                end, width, bound = ends[side], widths[side], bounds[side]
                ratio = jnp.abs(width) / first_width
                step, closer = end + width, end + (bound - end) * (ratio / (1.0 + ratio))
                new = jnp.where(width < 0, jnp.maximum(step, closer), jnp.minimum(step, closer))
                value = self.value_and_slope(new, params)[0]
                stops = (new == end) | ~jnp.isfinite(new) | jnp.isnan(value)
                moves = pending & ~stops
                moving = moving.at[side].set(jnp.where(pending & stops, False, moving[side]))
                zero, change = value == 0, _opposite(value, last[side])
                found = moves & (zero | change)
                a = jnp.where(zero, new, end)
                value_a = jnp.where(zero, value, last[side])
                segment = tuple(
                    jnp.where(found, new_part, part)
                    for new_part, part in zip((a, new, value_a, value), segment, strict=True)
                )
                ends = ends.at[side].set(jnp.where(moves, new, end))
                last = last.at[side].set(jnp.where(moves, value, last[side]))
                widths = widths.at[side].set(jnp.where(moves, 2 * width, width))
            return k + 1, ends, last, widths, moving, segment

        def running(carry):
            k, *_, moving, segment = carry
            return (k < EXPANSION_STEPS) & jnp.any(moving) & jnp.isnan(segment[0])

        ends, last, widths, moving = state
        carry = (0, ends, last, widths, moving, (nan, nan, nan, nan))
        k, ends, last, widths, moving, segment = jax.lax.while_loop(running, move, carry)
        moving = jnp.where(jnp.isnan(segment[0]) & (k >= EXPANSION_STEPS), False, moving)
        return (ends, last, widths, moving), segment

    def expanded(self, lo: jax.Array, hi: jax.Array, params: tuple) -> tuple:
        """:func:`~implicitop._solvers.scalar.expanded`: root and status code."""
        span = jnp.where(jnp.isfinite(hi - lo), hi - lo, 0.0)
        ends = jnp.stack([lo, hi])
        width = jnp.max(jnp.where(jnp.isfinite(ends), 1e-3 * jnp.abs(ends), 0.0))
        width = jnp.maximum(span, width)
        width = jnp.where(width > 0, width, 1e-3)
        last = jax.vmap(lambda end: self.value_and_slope(end, params)[0])(ends)
        moving = jnp.isfinite(ends) & ~jnp.isnan(last)
        last = jnp.where(jnp.isfinite(ends), last, jnp.nan)
        state = (ends, last, jnp.stack([-width, width]), moving)

        def attempt(carry):
            tries, state, _, code, _ = carry
            state, (a, b, value_a, value_b) = self.grown(state, params, width)
            found = ~jnp.isnan(a)
            refined = self.refine_from(b, a, b, value_a, value_b, params)
            root, new_code = self.minimum_only(*refined, params)
            code = jnp.where(found, new_code, code)
            done = ~found | (code == CONVERGED)
            return tries + 1, state, jnp.where(found, root, jnp.nan), code, done

        def running(carry):
            tries, *_, done = carry
            return (tries < MAX_BRACKETS) & ~done

        carry = (0, state, jnp.array(jnp.nan), jnp.array(NO_BRACKET_FOUND), jnp.array(False))
        _, _, root, code, _ = jax.lax.while_loop(running, attempt, carry)
        return root, code

    def refine(self, x0: jax.Array, a: jax.Array, b: jax.Array, params: tuple) -> tuple:
        """:meth:`refine_from` the grid bracket ``[a, b]``."""
        value_a, _ = self.value_and_slope(a, params)
        value_b, _ = self.value_and_slope(b, params)
        return self.refine_from(x0, a, b, value_a, value_b, params)

    def refine_from(
        self,
        x0: jax.Array,
        a: jax.Array,
        b: jax.Array,
        value_a: jax.Array,
        value_b: jax.Array,
        params: tuple,
    ) -> tuple:
        """:func:`~implicitop._solvers.scalar.refine`: the root in the bracket ``[a, b]``
        (NaN where none is accepted) and the status code."""
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
            closed = hi - lo <= jnp.maximum(
                ULPS_OF_X * jnp.maximum(jnp.abs(lo), jnp.abs(hi)), RESIDUAL_FLOOR
            )
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
            jnp.where(a == b, a, jnp.nan), a == b,
        )  # fmt: skip
        *_, found, finished = jax.lax.while_loop(running, step, state)
        value, slope = self.value_and_slope(found, params)
        below_ceiling = self.zero_to_rounding(found, params)[0] & (jnp.abs(value) <= ceiling)
        # an exact zero inside the sign change
        below_ceiling |= (value == 0) & self.zero_resolved(found, slope)
        found_accepted = self.accepts(found, params)
        accepted = jnp.where(a == b, found_accepted, below_ceiling)
        code = jnp.where(finished, jnp.where(accepted, CONVERGED, NOT_A_ROOT), MAXITER)
        result = jnp.where(accepted & finished, found, jnp.nan)
        # an end within the rounding noise: the sign change inside if it passes accepts,
        # else the end if it does, else none
        noisy_a = jnp.isfinite(value_a) & (jnp.abs(value_a) <= self.noise(a, params))
        noisy_b = jnp.isfinite(value_b) & (jnp.abs(value_b) <= self.noise(b, params))
        inside_accepted = finished & jnp.isfinite(found) & found_accepted
        end = jnp.where(noisy_a, a, b)
        at_end = self.accepts(end, params)
        noisy = (noisy_a | noisy_b) & (a != b)
        noisy_root = jnp.where(inside_accepted, found, jnp.where(at_end, end, jnp.nan))
        noisy_code = jnp.where(inside_accepted | at_end, CONVERGED, NOT_A_ROOT)
        return jnp.where(noisy, noisy_root, result), jnp.where(noisy, noisy_code, code)

    def __call__(self, x0: jax.Array, *params: jax.Array) -> tuple[jax.Array, jax.Array]:
        (start,) = x0
        candidate = self.newton_polish(self.phase_one(start, params), params)
        settled = jnp.isfinite(candidate) & self.accepts(candidate, params)
        settled = settled & self.minimum_or_other(candidate, params)
        value, slope = self.value_and_slope(candidate, params)
        step = -value / slope  # scalar.polished
        polished = jnp.where(jnp.isfinite(step), candidate + step, candidate)
        root, code = jax.lax.cond(
            settled,
            lambda: (polished, jnp.array(CONVERGED)),
            lambda: self.phase_two(start, params),
        )
        return root[None], code
