"""The safeguarded Halley/Newton solver for one equation in one unknown, one element at a time.

The solve runs in two phases:

1. Halley's method (Newton's step corrected by the curvature) from the starting
   point, kept inside the unknown's domain and backing off when the residual
   overflows (at most ``newton_iterations`` steps, none when a bracket is given).
   Where the residual is ``R = A - B`` with ``A, B > 0``
   (:attr:`~implicitop.ImplicitProblem.halley_parts`) and ``A`` and ``B`` are
   far apart, it steps on ``log A - log B`` instead (same roots), so it does not
   crawl down exponentials. Halley's method converges in a few steps inside its basin of
   attraction; where it takes more, it is lost, and phase 2 is faster.
2. If phase 1 did not settle: the sign change of the scan grid nearest the starting
   point, found by scanning outwards from it, then Newton safeguarded by bisection
   inside that bracket, which cannot fail once a sign change is found (at most
   ``maxiter`` steps).

A root is accepted only if the residual there is zero to rounding
(:func:`residual_error`), and a phase 2 result also only if it is no larger than at
the ends of its bracket, so a pole or a jump is never reported as a root.

This is ordinary Python: numba compiles it per problem, and it runs as it is where
numba cannot compile a residual (see :mod:`~implicitop._solvers.compiled`).
"""

import math

import numpy as np

from implicitop._solvers.interface import (
    bracket,
    halley_block,
    residual,
    residual_and_slope,
    residual_block,
    scale,
    value_block,
)
from implicitop._solvers.lockstep import BLOCK, pad_columns, whole_chunks
from implicitop._solvers.settings import (
    BRACKET_LOWER,
    BRACKET_UPPER,
    EXPAND,
    MAX_ITERATIONS,
    MINIMUM,
    NEWTON_ITERATIONS,
    TOL,
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
from implicitop._solvers.unowned import borrowed

__all__ = [
    "CONVERGING_STEP",
    "DECADES",
    "EPSILON",
    "EXPANSION_STEPS",
    "GAVE_UP",
    "GRID_CAPACITY",
    "MAX_BRACKETS",
    "NOISE_ULPS",
    "PHASE1_MAXITER",
    "PLATEAU_STEP",
    "POLISH_STEPS",
    "PROBE_RETREATS",
    "RUNNING",
    "SCAN_POINTS",
    "SETTLED",
    "SIGN_CHANGE_REACH",
    "WORK_ROWS",
    "above_target",
    "accept_sure",
    "accepted",
    "accepts",
    "allowance",
    "bracketed",
    "changes_sign",
    "curved_upward",
    "element_interval",
    "error_of",
    "expanded",
    "fill_scan_grid",
    "grown",
    "halley_step",
    "halley_update",
    "lock_step",
    "measure_root",
    "midpoint",
    "minimum_only",
    "nearest_bracket",
    "newton_polish",
    "noise",
    "on_zero_plateau",
    "opposite",
    "outward",
    "overflow_update",
    "overflowed",
    "phase_one_block",
    "phase_two",
    "phase_two_block",
    "polished",
    "probe",
    "probe_block",
    "probe_target",
    "reach_of",
    "refine",
    "residual_error",
    "retreat",
    "rises",
    "rounding_ahead",
    "scan_point",
    "sign_change_in",
    "solve_block",
    "sure_block",
    "surely_accepted",
    "wanted",
    "within",
]

#: How many Newton steps on ``R`` a candidate of phase 1 may take where ``R`` there is
#: beyond its rounding (:func:`newton_polish`).
POLISH_STEPS = 3
#: Phase 1 converges in a handful of steps inside its basin of attraction; past this
#: many it is lost and the bracketing phase is faster.
PHASE1_MAXITER = 10
#: The rounding of a double, relative to its magnitude.
EPSILON = float(np.finfo(float).eps)
#: The largest step, relative to the iterate, after which phase 1 settles where its
#: steps predict the next one to be below rounding (see :func:`rounding_ahead`).
CONVERGING_STEP = 1e-6
#: How far from a zero of both ``R`` and its slope :func:`on_zero_plateau` looks.
PLATEAU_STEP = 1e-6
#: How far, in multiples of its rounding error over the slope, :func:`changes_sign`
#: looks beside a root for the residual's other sign (4: beyond the rounding of both).
SIGN_CHANGE_REACH = 4.0
#: How many grid brackets phase 2 tries, nearest first, before it gives up.
MAX_BRACKETS = 8
#: How often :func:`probe` halves its distance to a root where the residual is NaN.
PROBE_RETREATS = 8
#: Rounding noise of a residual, relative to the size of its terms (see :func:`noise`).
NOISE_ULPS = 4 * float(np.finfo(float).eps)
#: Points of the scan grid over a bounded interval.
SCAN_POINTS = 65
#: Powers of ten of the scan grid over unbounded intervals: every quarter decade from
#: 1e-30 to 1e30, every tenth beyond.
DECADES = np.union1d(np.arange(-300.0, 301.0, 10.0), np.arange(-30.0, 30.01, 0.25))
#: The most points a scan grid has.
GRID_CAPACITY = 2 * DECADES.shape[0] + 3
#: How often :func:`expanded` grows a bracket on each side before it gives up.
EXPANSION_STEPS = 200


def residual_error(x: float, p: np.ndarray) -> float:
    """``|R(x, p)|`` over the rounding error it may carry at a root (NaN if unknown).

    That rounding is the larger of :data:`RESIDUAL_RTOL` times the size of the
    residual's terms and the change of ``R`` within a few ulps of ``x`` (and at least
    one subnormal step). A computed root gives at most 1; a point away from any root
    gives far more.
    """
    value, slope = residual_and_slope(x, p)
    return error_of(x, value, slope, scale(x, p), p)


def allowance(x: float, slope: float, size: float) -> float:
    """The rounding error ``R`` may carry at ``x``, where the size of its terms is
    ``size`` (:func:`~implicitop._solvers.interface.scale`): the larger of
    :data:`RESIDUAL_RTOL` times ``size`` and its change within a few ulps of ``x``, and
    at least one subnormal step (NaN if unknown)."""
    terms = RESIDUAL_RTOL * size
    rounding = ULPS_OF_X * abs(x * slope)
    if math.isnan(terms) or math.isnan(rounding):
        return math.nan
    return max(terms, rounding, RESIDUAL_FLOOR)


def error_of(x: float, value: float, slope: float, size: float, p: np.ndarray) -> float:
    """:func:`residual_error` at ``x`` where ``R``, ``dR/dx`` and the size of R's terms
    are known already (infinite on a plateau of exact zeros, see :func:`on_zero_plateau`)."""
    if value == 0.0:
        return math.inf if slope == 0.0 and on_zero_plateau(x, p) else 0.0
    return abs(value) / allowance(x, slope, size)


def on_zero_plateau(x: float, p: np.ndarray) -> bool:
    """Whether ``R`` is also exactly zero :data:`PLATEAU_STEP` away (relative, or absolute
    at ``x = 0``) from ``x``, where it and its slope are zero: every term has underflowed
    (``exp(u) - t`` at ``t = 0`` for ``u < -745``) or a flat branch of a piecewise
    residual is zero, so ``x`` is one point of a plateau, not a root. A double root
    (``(x - 1)**2``) has a non-zero residual beside it."""
    step = PLATEAU_STEP * (abs(x) if x != 0.0 else 1.0)
    for side in (step, -step):
        if residual(x + side, p) == 0.0:
            return True
    return False


def reach_of(x: float, value: float, slope: float, size: float) -> float:
    """How far beside ``x`` :func:`changes_sign` looks: :data:`SIGN_CHANGE_REACH` times
    the rounding error of ``R`` there (:func:`allowance`, or ``|R|`` if larger) over its
    slope."""
    return SIGN_CHANGE_REACH * max(abs(value), allowance(x, slope, size)) / abs(slope)


def within(x: float, target: float, lower: float, upper: float) -> float:
    """``target`` beside ``x``, moved halfway from ``x`` to the domain's bound where it
    lies beyond it."""
    target = lower + (x - lower) / 2 if target < lower else target
    return upper - (upper - x) / 2 if target > upper else target


def probe_target(
    x: float, value: float, slope: float, size: float, lower: float, upper: float
) -> float:
    """Where :func:`changes_sign` first evaluates ``R`` beside ``x``: beyond the root the
    slope points to, or below ``x`` where ``|R|`` is within its :func:`noise` (then it
    looks above too), inside the domain (:func:`within`)."""
    reach = reach_of(x, value, slope, size)
    beyond = x - math.copysign(reach, value * slope)
    return within(x, beyond if abs(value) > noise(size) else x - reach, lower, upper)


def above_target(
    x: float, value: float, slope: float, size: float, lower: float, upper: float
) -> float:
    """Where :func:`changes_sign` evaluates ``R`` above ``x`` when ``|R|`` is within its
    :func:`noise` at ``x`` (the other side from :func:`probe_target`'s), inside the domain."""
    return within(x, x + reach_of(x, value, slope, size), lower, upper)


def probe_block(
    x: np.ndarray,
    terms: np.ndarray,
    count: int,
    lower: float,
    upper: float,
    targets: np.ndarray,
    aboves: np.ndarray,
) -> None:
    """:func:`probe_target` and :func:`above_target` for the first ``count`` lanes of a
    block (rounded up to whole chunks, as :func:`~implicitop._solvers.lockstep.residual_block`,
    whose ``terms`` at ``x`` it takes) into ``targets`` and ``aboves``; a loop that
    vectorises."""
    for i in range(whole_chunks(count)):
        value, slope, size = terms[0, i], terms[1, i], terms[2, i]
        targets[i] = probe_target(x[i], value, slope, size, lower, upper)
        aboves[i] = above_target(x[i], value, slope, size, lower, upper)


def probe(x: float, target: float, value: float, p: np.ndarray) -> float:
    """``R`` beside ``x`` from ``target`` (where it is ``value``, see :func:`within`),
    moved halfway back towards ``x`` (at most :data:`PROBE_RETREATS` times in all) where
    ``R`` is NaN; NaN if it is NaN all the way or there is no room beside ``x``."""
    for _ in range(PROBE_RETREATS - 1):
        if target == x or not math.isnan(value):
            break
        target = x + (target - x) / 2
        value = residual(target, p)
    return math.nan if target == x else value


def changes_sign(
    x: float,
    value: float,
    slope: float,
    size: float,
    target: float,
    beside: float,
    above: float,
    over: float,
    p: np.ndarray,
) -> bool:
    """Whether ``R`` changes sign across ``x`` within :data:`SIGN_CHANGE_REACH` times its
    rounding error (in ``x``): a root, not a near miss (a minimum of ``|R|`` within
    rounding of zero), a point of a plateau where the residual has lost every digit, or
    the open end of the domain the iterates crept towards (``z - 1 + exp(-R0*z)`` as
    ``z -> 0``). Only signs above the rounding noise of the residual's terms count
    (:func:`noise`): where ``|R|`` is within it at ``x``, both sides must show a sign.
    ``beside`` is ``R`` at ``target``, the :func:`probe_target`, and ``over`` is ``R``
    at ``above``, the :func:`above_target`, read only where ``|R|`` is within its noise
    at ``x``.

    Where the slope is zero or not finite only an exact zero counts (a root the residual
    touches; :func:`error_of` refuses plateaus), and so does an exact zero at a bound of
    the domain with no room beside it.
    """
    if slope == 0.0 or not math.isfinite(slope):
        return value == 0.0
    first = probe(x, target, beside, p)
    level = noise(size)
    if abs(value) > level:
        return opposite(first, value) and abs(first) > level
    below, upward = first, probe(x, above, over, p)
    if math.isnan(below) or math.isnan(upward):
        return not (abs(below) <= level or abs(upward) <= level)
    return opposite(below, upward) and min(abs(below), abs(upward)) > level


def noise(size: float) -> float:
    """The rounding noise of ``R`` where the size of its terms is ``size``: :data:`NOISE_ULPS`
    of it. A residual no larger has lost its sign: at a no-arbitrage bound, Black-Scholes'
    ``S Phi(d1) - K exp(-r tau) Phi(d2) - C`` is a few ulps of S either side of 0 over a
    whole interval of sigma, though it is positive in exact arithmetic."""
    return NOISE_ULPS * size


def opposite(a: float, b: float) -> bool:
    """Whether ``a`` and ``b`` are non-zero numbers of opposite signs."""
    return (a < 0.0 < b) or (b < 0.0 < a)


def accepts(x: float, p: np.ndarray, lower: float, upper: float) -> bool:
    """Whether ``x`` is a root: the residual is zero to rounding there
    (:func:`error_of`) and changes sign across it (:func:`changes_sign`)."""
    value, slope = residual_and_slope(x, p)
    size = scale(x, p)
    target = probe_target(x, value, slope, size, lower, upper)
    above = above_target(x, value, slope, size, lower, upper)
    beside = residual(target, p)
    over = residual(above, p) if abs(value) <= noise(size) else math.nan
    return accepted(x, value, slope, size, target, beside, above, over, p)


def accepted(
    x: float,
    value: float,
    slope: float,
    size: float,
    target: float,
    beside: float,
    above: float,
    over: float,
    p: np.ndarray,
) -> bool:
    """:func:`accepts` where ``R``, ``dR/dx`` and the size of R's terms at ``x`` are
    known, the :func:`probe_target` (``target``) and ``R`` there (``beside``), and the
    :func:`above_target` (``above``) and ``R`` there (``over``)."""
    return error_of(x, value, slope, size, p) <= 1.0 and changes_sign(
        x, value, slope, size, target, beside, above, over, p
    )


def polished(x: float, value: float, slope: float) -> float:
    """The accepted root ``x`` moved by Newton's step ``-R/R'`` from ``R`` (``value``)
    and its slope there, which the acceptance test computed (``x`` where the step is not
    a number). The step stays inside the interval over which the test saw the sign
    change (:func:`reach_of`: at least four times ``|R|/|R'|``). It is the step phase 1
    leaves out where it settles early (:func:`rounding_ahead`): with it, 79% of the
    data-sized model's roots are correctly rounded and the rest within an ulp (78% with
    phase 1's last step taken; 75% and some 2 ulps off without either)."""
    step = -value / slope
    return x + step if math.isfinite(step) else x


def surely_accepted(
    x: float, value: float, slope: float, size: float, target: float, beside: float, over: float
) -> bool:
    """A condition under which :func:`accepted` holds for the same arguments (``above``
    aside), computed without a branch so that a loop of it vectorises and without
    evaluating ``R``: the common case of a root, where the slope is finite and not
    zero, the allowance is a number, ``R`` is within it, and the probes are numbers
    that show the sign change above the noise (so none retreats). Where it is false,
    :func:`accepted` decides; the result is the same either way."""
    terms, rounding = RESIDUAL_RTOL * size, ULPS_OF_X * abs(x * slope)
    known = math.isfinite(terms) & math.isfinite(rounding)
    small = abs(value) / max(terms, rounding, RESIDUAL_FLOOR) <= 1.0
    level = noise(size)
    one_side = opposite(beside, value) & (abs(beside) > level)
    both_sides = opposite(beside, over) & (min(abs(beside), abs(over)) > level)
    signs = one_side if abs(value) > level else both_sides
    return known & small & (slope != 0.0) & (target != x) & signs


def sure_block(
    x: np.ndarray,
    terms: np.ndarray,
    count: int,
    targets: np.ndarray,
    beside: np.ndarray,
    over: np.ndarray,
    sure: np.ndarray,
) -> None:
    """:func:`surely_accepted` for the first ``count`` lanes of a block (rounded up to
    whole chunks, as :func:`probe_block`) into ``sure`` (1.0 where it holds, else 0.0);
    a loop that vectorises."""
    for i in range(whole_chunks(count)):
        value, slope, size = terms[0, i], terms[1, i], terms[2, i]
        holds = surely_accepted(x[i], value, slope, size, targets[i], beside[i], over[i])
        sure[i] = 1.0 if holds else 0.0


def midpoint(a: float, b: float) -> float:
    """Bisection point: 0 where the bracket holds it; geometric for wide same-signed
    brackets (an end at 0 counts as the smallest normal number), so a bracket narrows
    to any magnitude in a few dozen steps; else arithmetic."""
    lo, hi = min(a, b), max(a, b)
    if lo < 0.0 < hi:
        return 0.0
    small, large = max(min(abs(lo), abs(hi)), SMALLEST_NORMAL), max(abs(lo), abs(hi))
    if large > 4 * small:
        return math.copysign(math.sqrt(small) * math.sqrt(large), lo + hi)
    return lo / 2 + hi / 2


def retreat(x: float, lower: float, upper: float) -> float:
    """Where to go when R overflows at the very first iterate: a tenth of the way to
    the domain's bound (lower first), or towards zero in an unbounded domain."""
    if lower > -math.inf:
        return lower + (x - lower) * 0.1
    if upper < math.inf:
        return upper - (upper - x) * 0.1
    return x * 0.1


#: What a Newton step leaves behind: keep iterating, a root candidate, or hand over to
#: the bracketing phase.
RUNNING, SETTLED, GAVE_UP = 0, 1, 2


def halley_step(value: float, slope: float, curvature: float) -> float:
    """Halley's step ``-2 R R' / (2 R'^2 - R R'')``, with ``R R''`` kept within
    ``[-R'^2, R'^2]`` (at most twice, at least two thirds of Newton's step); Newton's
    step ``-R / R'`` where a product overflows or is not a number."""
    square = slope * slope
    twice = 2.0 * value * slope
    product = value * curvature
    denominator = 2.0 * square - min(max(product, -square), square)
    if math.isfinite(twice) and math.isfinite(product) and math.isfinite(denominator):
        return -twice / denominator
    return -value / slope


def overflowed(value: float, slope: float) -> bool:
    """Whether phase 1 must back off instead of stepping: ``R`` or its slope at the
    iterate is infinite or not a number (and ``R`` is not exactly 0)."""
    return (value != 0.0) & ((not math.isfinite(value)) | (not math.isfinite(slope)))


def halley_update(
    x: float,
    previous: float,
    value: float,
    slope: float,
    curvature: float,
    lower: float,
    upper: float,
    tol: float,
) -> tuple[float, float, int]:
    """Phase 1's step from ``x`` where it does not back off (:func:`overflowed`), and
    :func:`~implicitop._solvers.lockstep.halley_terms` gives ``value``, ``slope`` and
    ``curvature`` there: the next iterate, the new ``previous`` (the iterate before it)
    and whether to go on (:data:`RUNNING`), ``x`` is a root candidate (:data:`SETTLED`)
    or phase 2 must take over (:data:`GAVE_UP`).

    ``R = 0``: ``x`` is a candidate; else Halley's step, kept inside the domain, a
    candidate where it is within ``tol`` of ``x`` or the next step would be below
    rounding (:func:`rounding_ahead`), phase 2 where it is not a number.
    Every case is computed and one selected (no branches), so a loop of it vectorises.
    """
    proposal = x + halley_step(value, slope, curvature)
    proposal = lower + (x - lower) * 0.1 if proposal < lower else proposal
    proposal = upper - (upper - x) * 0.1 if proposal > upper else proposal
    moves = math.isfinite(proposal) & (value != 0.0)
    step, size = abs(proposal - x), abs(proposal)
    near = (step <= tol * size) | rounding_ahead(step, abs(x - previous), size)
    state = (SETTLED if near else RUNNING) if math.isfinite(proposal) else GAVE_UP
    return (
        proposal if moves else x,
        x if moves else previous,
        SETTLED if value == 0.0 else state,
    )


def rounding_ahead(step: float, last_step: float, size: float) -> bool:
    """Whether Halley's method, having stepped ``last_step`` and then ``step`` to an
    iterate of magnitude ``size``, would step next by less than its rounding: where the
    error shrinks as its cube, ``e' = K e^3``, the steps estimate ``K`` as ``step /
    last_step^3`` and the next step as ``step^4 / last_step^3``. Only steps within
    :data:`CONVERGING_STEP` of the iterate count, so a far jump before them does not
    pass for convergence; ``last_step`` is NaN at the first iterate (never). The
    candidate this settles on is still accepted only as a root to rounding (and phase
    2 takes over where it is not): it saves the step that only confirms convergence."""
    close = step <= CONVERGING_STEP * size
    return close & (step**4 <= EPSILON * size * last_step**3)


def overflow_update(
    x: float, previous: float, lower: float, upper: float
) -> tuple[float, float, int]:
    """Phase 1's move from ``x`` where ``R`` or its slope overflowed: halfway back to
    the iterate before (``previous``), or at the first iterate a step towards the
    domain's bound (:func:`retreat`; phase 2 where there is no room). As
    :func:`halley_update`."""
    if math.isfinite(previous):
        return midpoint(previous, x), previous, RUNNING
    target = retreat(x, lower, upper)
    return target, previous, GAVE_UP if target == x else RUNNING


def phase_one_block(
    x: np.ndarray,
    previous: np.ndarray,
    outcome: np.ndarray,
    terms: np.ndarray,
    count: int,
    lower: float,
    upper: float,
    tol: float,
) -> int:
    """One step of phase 1 for the first ``count`` lanes of a block whose ``outcome``
    is :data:`RUNNING` (``terms``: :func:`~implicitop._solvers.lockstep.halley_block`'s),
    updating ``x``, ``previous`` and ``outcome`` in place; how many still run.

    :func:`halley_update` for every lane, the running ones updated (selects): a loop
    that vectorises. The rare lanes that back off (:func:`overflowed`) are moved after
    it, one by one (:func:`overflow_update`); an element takes the same path whatever
    its neighbours.
    """
    running, backing_off = 0, 0
    for i in range(count):
        value, slope = terms[0, i], terms[1, i]
        next_x, next_previous, state = halley_update(
            x[i], previous[i], value, slope, terms[2, i], lower, upper, tol
        )
        going, backs_off = outcome[i] == RUNNING, overflowed(value, slope)
        stepping = going & (not backs_off)
        x[i] = next_x if stepping else x[i]
        previous[i] = next_previous if stepping else previous[i]
        outcome[i] = state if stepping else outcome[i]
        running += stepping & (state == RUNNING)
        backing_off += going & backs_off
    for i in range(count if backing_off else 0):
        if outcome[i] == RUNNING and overflowed(terms[0, i], terms[1, i]):
            x[i], previous[i], outcome[i] = overflow_update(x[i], previous[i], lower, upper)
            running += outcome[i] == RUNNING
    return running


def grid_value(
    g: int, grid: np.ndarray, values: np.ndarray, seen: np.ndarray, p: np.ndarray
) -> float:
    """The residual at grid point ``g``, evaluated once."""
    if not seen[g]:
        values[g] = residual(grid[g], p)
        seen[g] = True
    return values[g]


def sign_change_ending_at(
    g: int, grid: np.ndarray, values: np.ndarray, seen: np.ndarray, p: np.ndarray, upward: bool
) -> int:
    """The index of the grid point that opens the bracket closed by grid point ``g``:
    ``g`` itself where the residual is zero there, the nearest usable point below it
    where the sign changes between them (with ``upward``, only from negative to
    positive: where ``R`` is an objective's derivative, a minimum), else -1."""
    value = grid_value(g, grid, values, seen, p)
    if value == 0.0:
        return g
    if math.isnan(value):
        return -1
    for k in range(g - 1, -1, -1):
        before = grid_value(k, grid, values, seen, p)
        if math.isnan(before) or before == 0.0:
            continue
        if (before < 0.0) != (value < 0.0) and not (upward and before > 0.0):
            return k
        break
    return -1


def scan_point(target: int, step: int) -> int:
    """The grid index the outward scan from index ``target`` visits at ``step``:
    ``target``, then one below, one above, two below, two above, ..."""
    if step == 0:
        return target
    distance = (step + 1) // 2
    return target - distance if step % 2 == 1 else target + distance


def nearest_bracket(
    x0: float,
    p: np.ndarray,
    grid: np.ndarray,
    values: np.ndarray,
    seen: np.ndarray,
    first: int,
    upward: bool,
) -> tuple[int, int, int]:
    """The grid indices of the bracket nearest ``x0`` from scan step ``first`` on
    (:func:`scan_point`), and the step that found it (-1, -1 past the grid's ends), so
    far-away points are evaluated only when needed. ``values`` and ``seen`` (at least
    as long as the grid) are scratch space, reset at step 0; afterwards ``values``
    holds the residual at the grid points ``seen``. ``upward``: see
    :func:`sign_change_ending_at`."""
    size = grid.shape[0]
    target = np.searchsorted(grid, x0)
    if first == 0:
        for g in range(size):  # a loop: numba compiles slice assignments slowly
            seen[g] = False
    for step in range(first, 2 * size + 1):
        g = scan_point(target, step)
        if 0 <= g < size:
            k = sign_change_ending_at(g, grid, values, seen, p, upward)
            if k >= 0:
                return k, g, step
    return -1, -1, 2 * size + 1


def bracketed(
    x0: float,
    p: np.ndarray,
    lower: float,
    upper: float,
    grid: np.ndarray,
    tol: float,
    maxiter: int,
    values: np.ndarray,
    seen: np.ndarray,
    upward: bool,
) -> tuple[float, int]:
    """The grid's brackets nearest ``x0`` (``values``, ``seen``: scratch space at least
    as long as the grid): the root (NaN where none) and status code. A bracket around a
    pole or a jump gives no root; then the next nearest is tried (at most
    :data:`MAX_BRACKETS`), so a pole between the start and the root is stepped over.
    With ``upward`` (a minimum's solve) only brackets where ``R`` rises are tried, and
    a root where ``dR/dx`` is not positive (a zero of ``R`` at a grid point) is passed
    over with status ``NOT_A_MINIMUM``."""
    status = NO_SIGN_CHANGE
    step = 0
    for _ in range(MAX_BRACKETS):
        k, g, step = nearest_bracket(x0, p, grid, values, seen, step, upward)
        if k < 0:
            break
        root, status = refine(
            x0, grid[k], grid[g], values[k], values[g], p, lower, upper, tol, maxiter
        )
        root, status = minimum_only(root, status, p, upward)
        if status == CONVERGED:
            return root, status
        step += 1
    return math.nan, status


def refine(
    x0: float,
    a: float,
    b: float,
    value_a: float,
    value_b: float,
    p: np.ndarray,
    lower: float,
    upper: float,
    tol: float,
    maxiter: int,
) -> tuple[float, int]:
    """The root in the bracket ``[a, b]`` where the residual is ``value_a`` and
    ``value_b``, and its status code. A zero at one point (``a == b``) must pass
    :func:`accepts` (no sign change shows there).

    Where the residual at an end is within its rounding :func:`noise` (a bound: its
    sign may mean nothing, or may be right), the sign change inside the bracket
    (:func:`sign_change_in`) is the root if it passes :func:`accepts`, else the end is
    if it does, else there is none. The end alone was taken before: an implied
    volatility's deep out-of-the-money price, whose residual's terms cancel to
    ``|R| = 1.2e-13`` under a noise bound of 1.9e-13 at a grid point, gave a volatility
    1% off where Brent's method finds the sign change.
    """
    if a == b:
        if accepts(a, p, lower, upper):
            return a, CONVERGED
        return math.nan, NOT_A_ROOT
    result = sign_change_in(x0, a, b, value_a, value_b, p, tol, maxiter)
    for end, value in ((a, value_a), (b, value_b)):
        if math.isfinite(value) and abs(value) <= noise(scale(end, p)):
            if math.isfinite(result) and accepts(result, p, lower, upper):
                return result, CONVERGED
            if accepts(end, p, lower, upper):
                return end, CONVERGED
            return math.nan, NOT_A_ROOT
    if not math.isfinite(result):
        return math.nan, MAXITER
    value, slope = residual_and_slope(result, p)
    # an exact zero inside the sign change is a root, even on a plateau of zeros (x**9
    # underflows near its root at 0); Newton alone is repelled by poles, bisection is
    # not, so the result must also be smaller than the residual at the bracket's ends
    accurate = error_of(result, value, slope, scale(result, p), p) <= 1.0
    if value == 0.0 or (accurate and abs(value) <= max(abs(value_a), abs(value_b))):
        return result, CONVERGED
    return math.nan, NOT_A_ROOT


def sign_change_in(
    x0: float,
    a: float,
    b: float,
    value_a: float,
    value_b: float,
    p: np.ndarray,
    tol: float,
    maxiter: int,
) -> float:
    """Where the residual changes sign in the bracket ``[a, b]`` (``a != b``; the
    residual is ``value_a`` and ``value_b`` there), by Newton's method safeguarded by
    bisection from ``x0`` (or the midpoint where ``x0`` is outside): the point where a
    Newton step is within ``tol``, an exact zero, or the end with the smaller residual
    once the bracket is a few ulps wide; NaN after ``maxiter`` steps.

    Newton is taken only while its steps shrink fast: the proposed step must be less
    than half the step before last (as in Numerical Recipes' ``rtsafe``).
    """
    sign_a = np.sign(value_a)
    size_a, size_b = abs(value_a), abs(value_b)
    x = x0 if min(a, b) < x0 < max(a, b) else midpoint(a, b)
    step_last = abs(b - a)
    step_before = step_last
    for _ in range(maxiter):
        value, slope = residual_and_slope(x, p)
        if value == 0.0:
            return x
        if np.sign(value) == sign_a:
            a, size_a = x, abs(value)
        else:
            b, size_b = x, abs(value)
        lo, hi = min(a, b), max(a, b)
        newton_step = x - value / slope
        bisect = not math.isfinite(newton_step) or newton_step <= lo or newton_step >= hi
        bisect = bisect or 2 * abs(newton_step - x) > step_before
        proposal = midpoint(lo, hi) if bisect else newton_step
        step_before = step_last
        step_last = abs(proposal - x)
        if not bisect and abs(newton_step - x) <= tol * abs(newton_step):
            return newton_step
        if hi - lo <= max(ULPS_OF_X * max(abs(lo), abs(hi)), RESIDUAL_FLOOR):
            return a if size_a <= size_b else b
        x = proposal
    return math.nan


def fill_scan_grid(lo: float, hi: float, grid: np.ndarray) -> int:
    """Fill ``grid`` (at least :data:`GRID_CAPACITY` long) with the points at which to
    look for a sign change in ``[lo, hi]``, ascending, and return how many: geometric
    over wide same-signed bounded intervals, linear over other bounded ones, powers of
    ten of both signs (:data:`DECADES`), 0 and the finite end over unbounded ones."""
    if math.isfinite(lo) and math.isfinite(hi):
        last = SCAN_POINTS - 1
        geometric = (lo > 0.0 and hi > 100 * lo) or (hi < 0.0 and lo < 100 * hi)
        for i in range(SCAN_POINTS):
            t = i / last
            grid[i] = lo * (hi / lo) ** t if geometric else lo + (hi - lo) * t
        grid[0], grid[last] = lo, hi
        return SCAN_POINTS
    count = 0
    if math.isfinite(lo):
        grid[count], count = lo, count + 1
    for j in range(2 * DECADES.shape[0] + 1):
        if j < DECADES.shape[0]:
            point = -(10.0 ** DECADES[DECADES.shape[0] - 1 - j])
        elif j == DECADES.shape[0]:
            point = 0.0
        else:
            point = 10.0 ** DECADES[j - DECADES.shape[0] - 1]
        if lo < point < hi:
            grid[count], count = point, count + 1
    if math.isfinite(hi):
        grid[count], count = hi, count + 1
    return count


def element_interval(
    p: np.ndarray, lower: float, upper: float, search_lower: float, search_upper: float
) -> tuple[float, float]:
    """Where the element's root is searched: between the ends of the bracket's
    expressions in the parameters (in either order) where they give numbers, else
    ``[search_lower, search_upper]`` (the domain ``[lower, upper]`` cut to the numbers
    given as the bracket); never outside the domain."""
    lo, hi = bracket(p)
    if lo > hi:
        lo, hi = hi, lo
    lo = search_lower if math.isnan(lo) else max(lo, lower)
    hi = search_upper if math.isnan(hi) else min(hi, upper)
    return lo, hi


def phase_two(
    x0: float,
    p: np.ndarray,
    lower: float,
    upper: float,
    settings: np.ndarray,
    grid: np.ndarray,
    element_grid: np.ndarray,
    values: np.ndarray,
    seen: np.ndarray,
) -> tuple[float, int]:
    """Phase 2 for one element: :func:`bracketed` over ``grid``, or over a grid of the
    element's own (``element_grid``) where the bracket's expressions give it its own
    interval (:func:`element_interval`); then, with ``expand_bracket``, the bracket
    grown outward (:func:`expanded`) where no sign change was found inside it."""
    tol, maxiter = settings[TOL], int(settings[MAX_ITERATIONS])
    search_lower, search_upper = settings[BRACKET_LOWER], settings[BRACKET_UPPER]
    lo, hi = element_interval(p, lower, upper, search_lower, search_upper)
    if lo > hi:
        return math.nan, NO_SIGN_CHANGE
    if lo != search_lower or hi != search_upper:
        grid = element_grid[: fill_scan_grid(lo, hi, element_grid)]
        if not lo <= x0 <= hi:
            x0 = midpoint(lo, hi)
    upward = settings[MINIMUM] != 0.0
    root, status = bracketed(x0, p, lower, upper, grid, tol, maxiter, values, seen, upward)
    if status == NO_SIGN_CHANGE and settings[EXPAND] != 0.0:
        return expanded(lo, hi, p, lower, upper, tol, maxiter, upward)
    return root, status


def outward(end: float, width: float, bound: float, first_width: float) -> float:
    """The next end of a growing bracket beyond ``end``: ``width`` away (signed; it
    doubles at every move from ``first_width``), but towards a finite ``bound`` of the
    domain at most the fraction ``r / (1 + r)`` of the way, ``r = |width| / first_width``:
    half the way first, then ever closer, so the distance to the bound shrinks by
    ``2**(k**2 / 2)`` in k moves (1e-174 from 1 in 34)."""
    ratio = abs(width) / first_width
    step = end + width
    closer = end + (bound - end) * (ratio / (1.0 + ratio))
    return max(step, closer) if width < 0.0 else min(step, closer)


def grown(
    ends: np.ndarray,
    last: np.ndarray,
    widths: np.ndarray,
    moving: np.ndarray,
    p: np.ndarray,
    bounds: np.ndarray,
    first_width: float,
) -> tuple[float, float, float, float]:
    """Move the two ``ends`` of a growing bracket outward (lower end first), each
    ``widths`` away (doubled after every move, see :func:`outward`), until the residual's
    sign at a new end differs from its sign ``last`` at the end before: that segment and
    the residual at its ends, or NaNs (``first_width``: the widths before any move). An
    end stops ``moving`` where the residual is NaN or the end cannot move; both stop
    after :data:`EXPANSION_STEPS` moves."""
    for _ in range(EXPANSION_STEPS):
        if not (moving[0] or moving[1]):
            break
        for side in range(2):
            if not moving[side]:
                continue
            end = outward(ends[side], widths[side], bounds[side], first_width)
            value = residual(end, p)
            if end == ends[side] or not math.isfinite(end) or math.isnan(value):
                moving[side] = False
                continue
            before, value_before = ends[side], last[side]
            ends[side], last[side] = end, value
            widths[side] *= 2.0
            if value == 0.0:
                return end, end, value, value
            if opposite(value, value_before):
                return before, end, value_before, value
    moving[0], moving[1] = False, False
    return math.nan, math.nan, math.nan, math.nan


def expanded(
    lo: float,
    hi: float,
    p: np.ndarray,
    lower: float,
    upper: float,
    tol: float,
    maxiter: int,
    upward: bool,
) -> tuple[float, int]:
    """The root beyond the bracket ``[lo, hi]``, which shows no sign change: its ends
    move outward, twice as far each time (and ever closer to a bound of the domain on
    their side, :func:`outward`) until a sign change shows (:func:`grown`), then
    :func:`refine`; a segment that gives no root (a pole), or with ``upward`` (a
    minimum's solve) a root where ``R`` does not rise (a maximum), is passed, at most
    :data:`MAX_BRACKETS` times. :data:`NO_BRACKET_FOUND` where no sign change shows,
    ``NOT_A_MINIMUM`` where only maxima were found."""
    width = hi - lo if math.isfinite(hi - lo) else 0.0
    for end in (lo, hi):
        if math.isfinite(end):
            width = max(width, 1e-3 * abs(end))
    width = width if width > 0.0 else 1e-3
    ends, widths = np.array([lo, hi]), np.array([-width, width])
    last = np.array([math.nan, math.nan])
    moving = np.array([math.isfinite(lo), math.isfinite(hi)])
    for side in range(2):
        if moving[side]:
            last[side] = residual(ends[side], p)
            moving[side] = not math.isnan(last[side])
    status = NO_BRACKET_FOUND
    for _ in range(MAX_BRACKETS):
        a, b, value_a, value_b = grown(
            ends, last, widths, moving, p, np.array([lower, upper]), width
        )
        if math.isnan(a):
            break
        root, status = refine(b, a, b, value_a, value_b, p, lower, upper, tol, maxiter)
        root, status = minimum_only(root, status, p, upward)
        if status == CONVERGED:
            return root, status
    return math.nan, status


#: Rows of a block's work array before the parameters' columns: the iterates ``x``,
#: the iterates before them, the probes' targets below and above, the three terms, R at
#: the two probes, whether the vector test accepts and each lane's outcome.
WORK_ROWS = 11


def solve_block(
    x0: np.ndarray,
    params: np.ndarray,
    lowers: np.ndarray,
    uppers: np.ndarray,
    grid: np.ndarray,
    settings: np.ndarray,
    root: np.ndarray,
    code: np.ndarray,
) -> None:
    """Both phases for the block's elements still to be solved (see
    :func:`implicitop._solvers.batch.solve_block`): phase 1 for all of them at once
    (:func:`lock_step`), phase 2 for those it leaves."""
    # one allocation for the lanes' rows (each one costs about as much as a lane's step)
    owned = np.empty((WORK_ROWS + params.shape[1], BLOCK))
    if lock_step(owned, x0, params, lowers[0], uppers[0], settings, root, code):
        phase_two_block(x0, params, lowers[0], uppers[0], settings, grid, root, code)


def lock_step(
    owned: np.ndarray,
    x0: np.ndarray,
    params: np.ndarray,
    lower: float,
    upper: float,
    settings: np.ndarray,
    root: np.ndarray,
    code: np.ndarray,
) -> int:
    """Phase 1 for the block's elements still to be solved, and acceptance of the
    candidates it settles on, with the work array ``owned`` (:data:`WORK_ROWS` + k,
    ``BLOCK``); how many elements are left to phase 2.

    Phase 1 runs in lock-step: each round evaluates every lane of the block at once
    (:func:`~implicitop._solvers.lockstep.halley_block`, in vector instructions), then
    takes one step of every element still iterating; the residual at the candidates
    is evaluated at once too (:func:`~implicitop._solvers.lockstep.residual_block`).
    Candidates whose ``R`` is beyond its rounding take Newton's steps on it
    (:func:`newton_polish`, at most :data:`POLISH_STEPS`) and are measured again.
    Every element takes the same steps as it would alone: the same result. The arrays
    are views without reference counts (:mod:`~implicitop._solvers.unowned`): the
    arguments outlive this call.
    """
    work, x0, params, root, code = borrowed((owned, x0, params, root, code))
    tol, minimum, size = settings[TOL], settings[MINIMUM] != 0.0, params.shape[0]
    x, previous, targets, aboves = work[0], work[1], work[2], work[3]
    terms, beside, over, sure, outcome = work[4:7], work[7], work[8], work[9], work[10]
    columns = work[WORK_ROWS:]
    pad_columns(params, columns)
    # The lanes in use, then the padding up to the whole chunks the vector loops read
    running = 0
    for i in range(size):
        x[i], previous[i] = x0[i, 0], math.nan
        outcome[i] = RUNNING if code[i] == MAXITER else SETTLED
        running += outcome[i] == RUNNING
    for i in range(size, whole_chunks(size)):
        x[i], previous[i], outcome[i] = 0.0, math.nan, SETTLED
    for _ in range(int(settings[NEWTON_ITERATIONS])):
        if running == 0:
            break
        halley_block(x, columns, size, terms)
        running = phase_one_block(x, previous, outcome, terms, size, lower, upper, tol)
    # Settled candidates are checked first, side by side; the rest go to phase 2.
    for _ in range(POLISH_STEPS + 1):
        residual_block(x, columns, size, terms)
        probe_block(x, terms, size, lower, upper, targets, aboves)
        value_block(targets, columns, size, beside)
        value_block(aboves, columns, size, over)
        sure_block(x, terms, size, targets, beside, over, sure)
        left, unsure = accept_sure(x, terms, size, sure, outcome, minimum, root, code)
        if unsure == 0 or not newton_polish(x, terms, size, sure, outcome, lower, upper, code):
            break
    # The others, one by one: accepted decides.
    for i in range(size if unsure else 0):
        if code[i] == MAXITER and outcome[i] == SETTLED and sure[i] == 0.0:
            value, slope, terms_size = terms[0, i], terms[1, i], terms[2, i]
            if accepted(
                x[i], value, slope, terms_size, targets[i], beside[i], aboves[i], over[i], params[i]
            ) and wanted(minimum, slope):
                root[i, 0], code[i] = polished(x[i], value, slope), CONVERGED
                left -= 1
    return left


def accept_sure(
    x: np.ndarray,
    terms: np.ndarray,
    size: int,
    sure: np.ndarray,
    outcome: np.ndarray,
    minimum: bool,
    root: np.ndarray,
    code: np.ndarray,
) -> tuple[int, int]:
    """Accept the settled candidates :func:`sure_block` vouches for (``sure``), without a
    branch (a loop that vectorises); how many elements are left unsolved, and how many
    of them are settled candidates it does not vouch for."""
    left, unsure = 0, 0
    for i in range(size):
        settled = (code[i] == MAXITER) & (outcome[i] == SETTLED)
        value, slope = terms[0, i], terms[1, i]
        converged = settled & (sure[i] != 0.0) & wanted(minimum, slope)
        root[i, 0] = polished(x[i], value, slope) if converged else root[i, 0]
        code[i] = CONVERGED if converged else code[i]
        unsure += settled & (sure[i] == 0.0)
        left += code[i] == MAXITER
    return left, unsure


def newton_polish(
    x: np.ndarray,
    terms: np.ndarray,
    size: int,
    sure: np.ndarray,
    outcome: np.ndarray,
    lower: float,
    upper: float,
    code: np.ndarray,
) -> int:
    """Move each settled candidate not yet accepted whose ``R`` (``terms``:
    :func:`~implicitop._solvers.lockstep.residual_block`'s) is beyond its rounding
    (:func:`allowance`) by Newton's step on ``R`` where it stays in the domain; how
    many moved.

    Phase 1 iterates on ``A - B`` (:func:`~implicitop._solvers.lockstep.halley_terms`),
    which loses the digits of a small ``R`` where the printed ``R`` keeps them
    (``expm1(x) - t`` from ``exp(x) - 1 - t``, :mod:`implicitop._cancellation`): its
    candidate is then a root of ``A - B`` to rounding but not of ``R``, and a step or
    two on ``R`` itself finish it. A candidate moved is measured again and accepted or
    not like the others; one that is not goes to phase 2 from the start as before.
    """
    moved = 0
    for i in range(size):
        value, slope, terms_size = terms[0, i], terms[1, i], terms[2, i]
        candidate = (code[i] == MAXITER) & (outcome[i] == SETTLED) & (sure[i] == 0.0)
        target = x[i] - value / slope
        outside = abs(value) > allowance(x[i], slope, terms_size)
        inside = math.isfinite(target) and lower <= target <= upper
        if candidate and outside and inside and target != x[i]:
            x[i] = target
            moved += 1
    return moved


def wanted(minimum: bool, slope: float) -> bool:
    """Whether a root with ``dR/dx = slope`` is one the problem asks for: any root, or a
    minimum's (``minimum``) only where R rises; without a branch, so a loop of it
    vectorises."""
    return (not minimum) | ((0.0 < slope) & (slope < math.inf))


def phase_two_block(
    x0: np.ndarray,
    params: np.ndarray,
    lower: float,
    upper: float,
    settings: np.ndarray,
    grid: np.ndarray,
    root: np.ndarray,
    code: np.ndarray,
) -> None:
    """:func:`phase_two` for the block's elements whose ``code`` is still ``MAXITER``."""
    values, seen = np.empty(GRID_CAPACITY), np.empty(GRID_CAPACITY, dtype=np.bool_)
    element_grid = np.empty(GRID_CAPACITY)
    for i in range(params.shape[0]):
        if code[i] == MAXITER:
            root[i, 0], code[i] = phase_two(
                x0[i, 0], params[i], lower, upper, settings, grid, element_grid, values, seen
            )


def measure_root(u: np.ndarray, p: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """At ``u`` (1,): :func:`residual_error`, ``dR/du`` (1, 1) and the size of R's terms (1,)."""
    _, slope = residual_and_slope(u[0], p)
    return residual_error(u[0], p), np.full((1, 1), slope), np.full(1, scale(u[0], p))


def rises(x: float, p: np.ndarray) -> bool:
    """Whether ``dR/dx`` at ``x`` is positive and finite: where ``R`` is an objective's
    derivative and ``x`` its root, whether ``x`` is a minimum."""
    return 0.0 < residual_and_slope(x, p)[1] < math.inf


def minimum_only(root: float, status: int, p: np.ndarray, upward: bool) -> tuple[float, int]:
    """``root`` and its ``status``, a converged root where ``R`` does not rise passed
    over with ``upward`` (a maximum of a minimum's problem): NaN, ``NOT_A_MINIMUM``."""
    if upward and status == CONVERGED and not rises(root, p):
        return math.nan, NOT_A_MINIMUM
    return root, status


def curved_upward(u: np.ndarray, p: np.ndarray) -> bool:
    """:func:`rises` at the root ``u[0]`` (see :func:`implicitop._solvers.batch.curved_upward`)."""
    return rises(u[0], p)
