"""Batched, safeguarded Newton solver for one equation in one unknown.

Every broadcast element is an independent root problem; all of them are advanced
together with array operations, never a Python loop per element. The solve runs in
two phases:

1. Newton's method from the initial guess, kept inside the unknown's domain and
   backing off when the residual overflows.
2. For elements phase 1 could not settle (or all of them when a ``bracket`` is
   given): a scan of the domain for a sign change, then Newton safeguarded by
   bisection inside that bracket, which cannot fail once a sign change is found.

Phase 1 stops after ``min(maxiter, PHASE1_MAXITER)`` iterations, phase 2 after
``maxiter``. A root is accepted only if the residual there is zero to rounding
(:func:`residual_error`), and a phase 2 result also only if it is no larger than at
the ends of its bracket, so a pole or a jump is never reported as a root. With numba
available both phases run as compiled loops (:mod:`implicitop.numba_kernels`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from implicitop.codegen import NumericKernels
from implicitop.numba_kernels import read_only
from implicitop.problem import Domain
from implicitop.status import CONVERGED, PENDING, RESIDUAL_RTOL, ULPS_OF_X, SolveStatus

__all__ = [
    "RESIDUAL_RTOL",
    "ImplicitSolveError",
    "SolveResult",
    "SolveStatus",
    "SolverSettings",
    "compiled_arguments",
    "parameter_bounds",
    "parameter_status",
    "residual_error",
    "solve",
]

_DECADES = np.arange(-300.0, 301.0, 10.0)
_BRACKET_SCAN_POINTS = 65
#: Newton from the initial guess converges in a handful of steps inside its basin of
#: attraction; past this many it is crawling (down an exponential, say) and the
#: bracketing phase is faster.
PHASE1_MAXITER = 30


class ImplicitSolveError(ArithmeticError):
    """Raised with ``on_failure="raise"`` when some elements have no root.

    The message lists the offending parameter values and the reason for each.

    Attributes
    ----------
    failures
        One ``(parameter values, reason)`` pair per failed element (empty when the
        error was re-raised by PyTensor with its node details appended).
    """

    def __init__(self, message: str, failures: Sequence[tuple[dict[str, float], str]] = ()):
        super().__init__(message)
        self.failures = list(failures)

    @classmethod
    def from_failures(
        cls, failures: Sequence[tuple[dict[str, float], str]], total: int
    ) -> ImplicitSolveError:
        """The error for ``failures`` out of ``total`` elements."""
        shown = "\n".join(
            f"  {', '.join(f'{k}={v!r}' for k, v in values.items())}: {reason}"
            for values, reason in failures[:10]
        )
        more = f"\n  ... and {len(failures) - 10} more" if len(failures) > 10 else ""
        message = (
            f"the root could not be found for {len(failures)} of {total} element(s):\n{shown}{more}"
        )
        return cls(message, failures)


@dataclass(frozen=True)
class SolverSettings:
    """Numbers that steer the solver (validated by the caller)."""

    tol: float = 1e-12
    maxiter: int = 100
    bracket: tuple[float, float] | None = None

    @property
    def newton_iterations(self) -> int:
        """Iterations of the Newton phase: ``maxiter``, at most :data:`PHASE1_MAXITER`."""
        return min(self.maxiter, PHASE1_MAXITER)


@dataclass(frozen=True)
class SolveResult:
    """Roots and per-element status codes (see :class:`SolveStatus`)."""

    root: np.ndarray
    status: np.ndarray

    @property
    def converged(self) -> np.ndarray:
        """Boolean mask of elements with a root."""
        return self.status == SolveStatus.CONVERGED


def solve(
    kernels: NumericKernels,
    params: Sequence[np.ndarray],
    x0: np.ndarray,
    domain: Domain,
    param_domains: Sequence[Domain],
    settings: SolverSettings,
) -> SolveResult:
    """Solve ``R(x, *params) = 0`` for every element of the flat arrays ``params``.

    Parameters
    ----------
    kernels
        The problem's numeric kernels.
    params
        One flat float64 array per parameter, all of the same length.
    x0
        Initial guesses, same length as the parameters.
    domain
        Where roots are searched (the unknown's domain, cut to the bracket if any).
    param_domains
        The domains parameter values must lie in.
    settings
        Tolerance, iteration limit and bracket.
    """
    compiled = kernels.compiled
    if compiled is not None:
        root, status = compiled.solve(
            x0, *params, *compiled_arguments(domain, tuple(param_domains), settings)
        )
        return SolveResult(root, status)
    size = x0.size
    root = np.full(size, np.nan)
    status = parameter_status(params, param_domains)
    todo = np.flatnonzero(status == PENDING)
    with np.errstate(all="ignore"):
        if settings.bracket is None:
            active = [p[todo] for p in params]
            iterations = _newton_iterations(settings)
            x, done = _newton(kernels, active, x0[todo], domain, settings.tol, iterations)
            root[todo[done]] = x[done]
            todo = todo[~done]
        # Newton alone is repelled by poles; bisection is not, so a phase 2 result must
        # also be smaller than the residual at the ends of the bracket it came from.
        ceiling = np.full(size, np.inf)
        if todo.size:
            active = [p[todo] for p in params]
            x, code, ends = _bracketed(kernels, active, x0[todo], domain, settings)
            root[todo], status[todo], ceiling[todo] = x, code, ends
        candidates = np.flatnonzero((status == PENDING) & np.isfinite(root))
        if candidates.size:
            status[candidates] = _accept(
                kernels, root[candidates], [p[candidates] for p in params], ceiling[candidates]
            )
    root[status != CONVERGED] = np.nan
    return SolveResult(root, status)


def _newton_iterations(settings: SolverSettings) -> int:
    """Phase 1's iteration count: none when a bracket is given."""
    return 0 if settings.bracket is not None else settings.newton_iterations


@lru_cache(maxsize=256)
def compiled_arguments(
    domain: Domain, param_domains: tuple[Domain, ...], settings: SolverSettings
) -> tuple:
    """The arguments after the parameters of the compiled ``solve`` kernel (cached)."""
    return (
        domain.lower,
        domain.upper,
        settings.tol,
        _newton_iterations(settings),
        settings.maxiter,
        *parameter_bounds(param_domains),
        scan_grid(domain),
    )


@lru_cache(maxsize=64)
def parameter_bounds(param_domains: tuple[Domain, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper bounds of the parameters, as two read-only arrays."""
    return read_only([d.lower for d in param_domains]), read_only([d.upper for d in param_domains])


def parameter_status(params: Sequence[np.ndarray], param_domains: Sequence[Domain]) -> np.ndarray:
    """Per-element status before solving: ``MAXITER`` (to be solved) or why not."""
    finite = np.logical_and.reduce([np.isfinite(p) for p in params])
    inside = np.logical_and.reduce(
        [(p >= d.lower) & (p <= d.upper) for p, d in zip(params, param_domains, strict=True)]
    )
    status = np.full(finite.shape, SolveStatus.MAXITER, dtype=np.int8)
    status[~finite] = SolveStatus.NONFINITE_PARAMETER
    status[finite & ~inside] = SolveStatus.PARAMETER_OUTSIDE_DOMAIN
    return status


def _evaluate(
    kernels: NumericKernels, x: np.ndarray, params: Sequence[np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    value, slope = kernels.residual_and_slope(x, *params)
    shape = np.shape(x)
    if np.shape(value) != shape:
        value = np.broadcast_to(value, shape)
    if np.shape(slope) != shape:
        slope = np.broadcast_to(slope, shape)
    return value, slope


def residual_error(
    kernels: NumericKernels, x: np.ndarray, params: Sequence[np.ndarray]
) -> np.ndarray:
    """``|R(x, params)|`` over the rounding error it may carry at a root.

    That rounding is the larger of :data:`RESIDUAL_RTOL` times the size of the
    residual's terms and the change of ``R`` within a few ulps of ``x``. A computed
    root gives at most 1; a point away from any root gives far more.
    """
    value, slope = _evaluate(kernels, x, params)
    scale = np.broadcast_to(kernels.scale(x, *params), np.shape(x))
    allowed = np.maximum(RESIDUAL_RTOL * scale, ULPS_OF_X * np.abs(x * slope))
    with np.errstate(all="ignore"):
        return np.where(value == 0, 0.0, np.abs(value) / allowed)


def _accept(
    kernels: NumericKernels, x: np.ndarray, params: Sequence[np.ndarray], ceiling: np.ndarray
) -> np.ndarray:
    """Status of candidate roots: converged if the residual is zero to rounding.

    ``ceiling`` bounds ``|R|`` from above (the residual at the ends of a bracket),
    which rules out poles that bisection may close in on.
    """
    value, _ = _evaluate(kernels, x, params)
    root = (residual_error(kernels, x, params) <= 1) & (np.abs(value) <= ceiling)
    return np.where(root, SolveStatus.CONVERGED, SolveStatus.NOT_A_ROOT).astype(np.int8)


def _midpoint(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Bisection point: geometric for wide same-signed brackets, else arithmetic."""
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    small, large = np.minimum(np.abs(lo), np.abs(hi)), np.maximum(np.abs(lo), np.abs(hi))
    wide = ((lo > 0) | (hi < 0)) & (large > 4 * small)
    geometric = np.sign(hi) * np.sqrt(small) * np.sqrt(large)
    return np.where(wide, geometric, lo / 2 + hi / 2)


def _retreat(x: np.ndarray, domain: Domain) -> np.ndarray:
    """Where to go when R overflows at the very first iterate: a tenth of the way to the
    domain's bound (lower first), or to zero in an unbounded domain."""
    if domain.is_bounded_below:
        return domain.lower + (x - domain.lower) * 0.1
    if domain.is_bounded_above:
        return domain.upper - (domain.upper - x) * 0.1
    return x * 0.1


def _newton(
    kernels: NumericKernels,
    params: list[np.ndarray],
    x0: np.ndarray,
    domain: Domain,
    tol: float,
    maxiter: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Phase 1: plain Newton with domain guard, overflow backtracking and retreat.

    Works on compacted arrays of the still-active elements. Returns the roots (NaN
    where phase 1 gave up) and a mask of elements that converged; the rest are for
    phase 2.
    """
    root = np.full_like(x0, np.nan)
    index = np.arange(x0.size)
    x, previous = x0.copy(), np.full_like(x0, np.nan)
    for _ in range(maxiter):
        value, slope = _evaluate(kernels, x, params)
        proposal = x - value / slope
        finite = np.isfinite(value) & np.isfinite(slope)
        back_off = ~finite & np.isfinite(previous)
        retreat = ~finite & ~back_off
        if back_off.any() or retreat.any():
            proposal = np.where(back_off, _midpoint(previous, x), proposal)
            proposal = np.where(retreat, _retreat(x, domain), proposal)
            retreat &= proposal != x
        if domain.is_bounded_below:
            below = proposal < domain.lower
            proposal = np.where(below, domain.lower + (x - domain.lower) * 0.1, proposal)
        if domain.is_bounded_above:
            above = proposal > domain.upper
            proposal = np.where(above, domain.upper - (domain.upper - x) * 0.1, proposal)
        root_here = value == 0
        usable = np.isfinite(proposal)
        small_step = finite & usable & (np.abs(proposal - x) <= tol * np.abs(proposal))
        converged = root_here | small_step
        keep_previous = back_off | retreat  # the last finite iterate stays the anchor
        leaving = converged | ~usable | (~finite & ~keep_previous)
        if leaving.any():
            root[index[converged]] = np.where(root_here, x, proposal)[converged]
            staying = ~leaving
            index, x, proposal = index[staying], x[staying], proposal[staying]
            previous, keep_previous = previous[staying], keep_previous[staying]
            params = [p[staying] for p in params]
            if index.size == 0:
                break
        previous = np.where(keep_previous, previous, x)
        x = proposal
    return root, ~np.isnan(root)


@lru_cache(maxsize=64)
def scan_grid(domain: Domain) -> np.ndarray:
    """Points at which to look for a sign change of the residual in ``domain`` (read-only)."""
    return read_only(_grid_points(domain.lower, domain.upper))


def _grid_points(lo: float, hi: float) -> np.ndarray:
    if np.isfinite(lo) and np.isfinite(hi):
        if lo > 0 and hi > 100 * lo:
            return np.geomspace(lo, hi, _BRACKET_SCAN_POINTS)
        if hi < 0 and lo < 100 * hi:
            return -np.geomspace(-lo, -hi, _BRACKET_SCAN_POINTS)
        return np.linspace(lo, hi, _BRACKET_SCAN_POINTS)
    magnitudes = 10.0**_DECADES
    grid = np.concatenate([-magnitudes[::-1], [0.0], magnitudes])
    grid = grid[(grid > lo) & (grid < hi)]
    ends = [v for v in (lo, hi) if np.isfinite(v)]
    return np.unique(np.concatenate([grid, ends]))


def _find_brackets(
    kernels: NumericKernels,
    params: list[np.ndarray],
    x0: np.ndarray,
    domain: Domain,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each element the sign-change interval of the scan grid nearest to ``x0``.

    Returns ``(a, b, found)``; ``a`` and ``b`` are NaN where nothing was found. A grid
    point where the residual is exactly zero is returned as ``a == b``.
    """
    grid = scan_grid(domain)
    target = np.searchsorted(grid, x0)
    size = x0.size
    a = np.full(size, np.nan)
    b = np.full(size, np.nan)
    best = np.full(size, np.inf)
    last_x = np.full(size, np.nan)
    last_sign = np.zeros(size)
    for index, point in enumerate(grid):
        value, _ = _evaluate(kernels, np.full(size, point), params)
        sign = np.sign(value)
        distance = np.abs(index - target)
        exact = (value == 0) & (distance < best)
        change = (sign * last_sign < 0) & (distance < best)
        a = np.where(change, last_x, np.where(exact, point, a))
        b = np.where(change | exact, point, b)
        best = np.where(change | exact, distance, best)
        known = ~np.isnan(value) & (sign != 0)
        last_x = np.where(known, point, last_x)
        last_sign = np.where(known, sign, last_sign)
    return a, b, np.isfinite(best)


def _bracketed(
    kernels: NumericKernels,
    params: list[np.ndarray],
    x0: np.ndarray,
    domain: Domain,
    settings: SolverSettings,
) -> tuple[np.ndarray, np.ndarray]:
    """Phase 2: find a sign change, then Newton safeguarded by bisection.

    Returns the roots (NaN where none was found), status codes (converged elements
    carry ``MAXITER`` until :func:`_accept` checks the residual) and the larger
    ``|R|`` at the ends of each bracket.
    """
    a, b, found = _find_brackets(kernels, params, x0, domain)
    code = np.where(found, SolveStatus.MAXITER, SolveStatus.NO_SIGN_CHANGE).astype(np.int8)
    x = np.where((x0 > np.minimum(a, b)) & (x0 < np.maximum(a, b)), x0, _midpoint(a, b))
    x = np.where(a == b, a, x)
    value_a, value_b = _evaluate(kernels, a, params)[0], _evaluate(kernels, b, params)[0]
    sign_a = np.sign(value_a)
    ends = np.where(a == b, np.inf, np.maximum(np.abs(value_a), np.abs(value_b)))
    size_a, size_b = np.abs(value_a), np.abs(value_b)
    # Newton is taken only while its steps shrink fast: the proposed step must be
    # less than half the step before last (as in Numerical Recipes' rtsafe).
    step_last = np.abs(b - a)
    step_before = step_last.copy()
    done = (a == b) | ~found
    result = np.where(done & found, x, np.nan)
    active = np.flatnonzero(~done)
    for _ in range(settings.maxiter):
        if active.size == 0:
            break
        xa = x[active]
        value, slope = _evaluate(kernels, xa, [p[active] for p in params])
        same_side = np.sign(value) == sign_a[active]
        a[active] = np.where(same_side, xa, a[active])
        b[active] = np.where(same_side, b[active], xa)
        size_a[active] = np.where(same_side, np.abs(value), size_a[active])
        size_b[active] = np.where(same_side, size_b[active], np.abs(value))
        lo, hi = np.minimum(a[active], b[active]), np.maximum(a[active], b[active])
        newton = xa - value / slope
        bisect = ~np.isfinite(newton) | (newton <= lo) | (newton >= hi)
        bisect |= 2 * np.abs(newton - xa) > step_before[active]
        proposal = np.where(bisect, _midpoint(lo, hi), newton)
        step_before[active] = step_last[active]
        step_last[active] = np.abs(proposal - xa)
        best_end = np.where(size_a[active] <= size_b[active], a[active], b[active])
        newton_done = ~bisect & (np.abs(newton - xa) <= settings.tol * np.abs(newton))
        closed = (hi - lo) <= ULPS_OF_X * np.maximum(np.abs(lo), np.abs(hi))
        root_here = value == 0
        finished = root_here | newton_done | closed
        x[active] = proposal
        outcome = np.where(root_here, xa, np.where(newton_done, newton, best_end))
        result[active] = np.where(finished, outcome, np.nan)
        active = active[~finished]
    return result, code, ends
