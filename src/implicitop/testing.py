"""Property tests for implicit ops: Hypothesis strategies and :func:`check_implicit_op`.

Use it from your own test suite::

    from implicitop.testing import check_implicit_op

    def test_my_op():
        check_implicit_op(op, ranges={"theta": (1e-5, 1e5)})

At every drawn parameter point it checks that the root exists, that the residual
there is zero to rounding, that the library's ``verify_grad`` passes
(:func:`pytensor.gradient.verify_grad`, or Theano's for the Theano op of
:mod:`implicitop.theano`) and that the gradient agrees with central finite
differences. This module imports neither library itself: it uses the op's.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import sympy as sp

from implicitop._extras import missing_extra
from implicitop._ranges import (
    DEFAULT_RANGES,
    Ranges,
    check_names,
    is_log_scaled,
    parameter_range,
)
from implicitop._solvers import SolveStatus
from implicitop._tensor_op import TensorImplicitOp, without_test_values

try:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st
except ModuleNotFoundError as error:
    raise missing_extra(error, "testing", "implicitop.testing") from None

__all__ = [
    "DEFAULT_RANGES",
    "check_implicit_op",
    "check_point",
    "parameter_points",
    "parameter_strategy",
]


def parameter_strategy(
    symbol: sp.Symbol, bounds: tuple[float, float] | None = None
) -> st.SearchStrategy[float]:
    """Floats for ``symbol``: log-uniform over wide same-signed ranges, else uniform.

    Parameters
    ----------
    symbol
        The parameter; its SymPy assumptions give the default range and are checked
        against ``bounds``.
    bounds
        ``(lo, hi)``; by default from :data:`DEFAULT_RANGES`.

    Returns
    -------
    hypothesis.strategies.SearchStrategy
        Finite floats in the range.

    Raises
    ------
    ValueError
        If ``bounds`` leave the symbol's domain (a negative bound for a positive symbol).

    Examples
    --------
    >>> import sympy as sp
    >>> from hypothesis import given
    >>> from implicitop.testing import parameter_strategy
    >>> @given(parameter_strategy(sp.Symbol("k", positive=True), (1e-3, 1e3)))
    ... def test_k(value):
    ...     assert 1e-3 <= value <= 1e3
    >>> test_k()
    """
    lo, hi = parameter_range(symbol, bounds)
    log_scaled = is_log_scaled(lo, hi)
    if log_scaled and lo > 0:
        exponents = st.floats(math.log(lo), math.log(hi))
        return exponents.map(lambda e: min(max(math.exp(e), lo), hi))
    if log_scaled:
        return parameter_strategy(sp.Symbol(symbol.name, positive=True), (-hi, -lo)).map(
            lambda v: -v
        )
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


def parameter_points(
    params: Sequence[sp.Symbol], ranges: Ranges | None = None
) -> st.SearchStrategy[tuple[float, ...]]:
    """Tuples with one value per parameter, each from :func:`parameter_strategy`.

    Parameters
    ----------
    params
        The parameters, in the op's order (``op.params``).
    ranges
        ``{parameter (Symbol or name): (lo, hi)}``; others from :data:`DEFAULT_RANGES`.

    Returns
    -------
    hypothesis.strategies.SearchStrategy
        Tuples of floats, one per parameter.

    Examples
    --------
    Draw points for your own property tests:

    >>> import sympy as sp
    >>> from hypothesis import given
    >>> from implicitop.testing import parameter_points
    >>> a, b = sp.symbols("a b", positive=True)
    >>> @given(parameter_points((a, b), {"a": (1.0, 2.0)}))
    ... def test_in_range(point):
    ...     assert 1.0 <= point[0] <= 2.0 and point[1] > 0
    >>> test_in_range()
    """
    check_names(params, ranges)
    return st.tuples(*(parameter_strategy(s, parameter_range(s, ranges)) for s in params))


def _outputs(op: TensorImplicitOp, *inputs: object) -> object:
    """The op's outputs stacked into one vector of length n."""
    outputs = op(*inputs)
    return op.tensor.stack(outputs if isinstance(outputs, list) else [outputs])


@dataclass(frozen=True)
class _CompiledOp:
    """The op's roots and their gradients as one compiled function of scalar inputs."""

    op: TensorImplicitOp
    function: Callable[..., list[np.ndarray]]

    @classmethod
    def build(cls, op: TensorImplicitOp) -> _CompiledOp:
        with without_test_values(op.tensor):
            inputs = [op.tensor.dscalar(p.name) for p in op.params]
            roots = _outputs(op, *inputs)
            jacobians = op.framework.gradient.jacobian(roots, inputs)
            return cls(op, op.framework.function(inputs, [roots, *jacobians]))

    def value_and_gradient(self, point: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
        """Roots (n,) and ``du/dtheta`` (n, k) at ``point``."""
        roots, *jacobians = self.function(*point)
        return roots, np.stack(jacobians, axis=1)


def _roots(op: TensorImplicitOp, point: Sequence[float]) -> tuple[np.ndarray, SolveStatus]:
    result = op.solve(*point)
    return np.atleast_1d(result.root), SolveStatus(int(result.status))


def _root_noise(jacobian: np.ndarray, scales: np.ndarray, root: np.ndarray) -> np.ndarray:
    """How far rounding can move each root: ``eps * (|u| + |J^-1| |terms|)`` + a subnormal."""
    with np.errstate(all="ignore"):
        try:
            conditioning = np.abs(np.linalg.inv(jacobian)) @ scales
        except np.linalg.LinAlgError:
            conditioning = np.full_like(root, np.inf)
    relative = np.finfo(float).eps * (np.abs(root) + np.nan_to_num(conditioning, nan=np.inf))
    return relative + np.finfo(float).smallest_subnormal  # subnormal roots are coarse


def _central_differences(
    op: TensorImplicitOp, point: Sequence[float], noise: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Central differences of the roots (n, k), with their rounding bound (n, k)."""
    gradient, tolerance = [], []
    for i, value in enumerate(point):
        step = 1e-6 * max(abs(value), 1e-8)
        up, down = (_roots(op, [*point[:i], value + s, *point[i + 1 :]])[0] for s in (step, -step))
        gradient.append((up - down) / (2 * step))
        tolerance.append(100 * noise / step)
    return np.stack(gradient, axis=1), np.stack(tolerance, axis=1)


def _verify_grad_relative(op: TensorImplicitOp, point: Sequence[float]) -> None:
    """The library's ``verify_grad`` in coordinates scaled to the point.

    ``verify_grad`` perturbs its inputs by one absolute step; checking the op through
    ``theta = theta0 + |theta0| * u`` at ``u = 0`` makes that step relative, so one
    check is meaningful from 1e-5 to 1e5. The point is baked into the graph, so it is
    run in Python mode, which compiles nothing, and without graph rewrites: the
    gradient's graph as the op builds it is checked (the compiled, rewritten one is
    checked against central differences in :func:`check_point`), and rewriting it
    took three quarters of the harness's time (0.3 of 0.4 s a point for a 2x2 system).
    """
    library = op.framework
    origin = [op.tensor.constant(float(v)) for v in point]
    scales = [op.tensor.constant(abs(float(v)) or 1.0) for v in point]

    def scaled_op(*u: object) -> object:
        return _outputs(op, *(o + s * du for o, s, du in zip(origin, scales, u, strict=True)))

    with without_test_values(op.tensor):
        library.gradient.verify_grad(
            scaled_op,
            [np.zeros(()) for _ in point],
            rng=np.random.RandomState(0),  # Theano's takes no Generator
            mode=library.compile.mode.Mode(linker="py", optimizer=None),
        )


def check_point(
    op: TensorImplicitOp,
    point: Sequence[float],
    *,
    rtol: float = 1e-5,
    compiled: _CompiledOp | None = None,
) -> None:
    """Check the op at one parameter point; raise ``AssertionError`` on any defect.

    Parameters
    ----------
    op
        The op under test.
    point
        One value per parameter.
    rtol
        Relative tolerance of the gradient against central finite differences.
    compiled
        A compiled value/gradient function to reuse (built when omitted).

    Raises
    ------
    AssertionError
        Saying what failed there: no root, a residual larger than its rounding, the
        compiled op disagreeing with the solver, the gradient disagreeing with finite
        differences, or ``verify_grad``.

    Examples
    --------
    >>> import sympy as sp
    >>> from implicitop import make_implicit_op
    >>> mu, theta = sp.symbols("mu theta", positive=True)
    >>> op = make_implicit_op(mu + mu * sp.exp(theta * mu) - 1, mu, theta)
    >>> from implicitop.testing import check_point
    >>> check_point(op, (0.5,))  # passes silently
    """
    compiled = compiled or _CompiledOp.build(op)
    names = ", ".join(f"{p}={v!r}" for p, v in zip(op.params, point, strict=True))
    root, status = _roots(op, point)
    assert status == SolveStatus.CONVERGED, f"no root at {names}: {status.reason}"
    error, jacobian, scales = op.solver.measure_root(root, point)
    assert error <= 1, (
        f"residual at the root {root} for {names} is {error:.3g} times "
        "the rounding error it may carry"
    )
    value, gradient = compiled.value_and_gradient(point)
    assert np.array_equal(value, root), f"compiled op gives {value}, solver {root} at {names}"
    finite_differences, rounding = _central_differences(
        op, point, _root_noise(jacobian, scales, root)
    )
    agrees = np.abs(gradient - finite_differences) <= rtol * np.abs(finite_differences) + rounding
    assert agrees.all(), (
        f"gradient {gradient.tolist()} disagrees with central differences "
        f"{finite_differences.tolist()} at {names}"
    )
    _verify_grad_relative(op, point)


def check_implicit_op(
    op: TensorImplicitOp,
    ranges: Ranges | None = None,
    *,
    max_examples: int | None = None,
    rtol: float = 1e-5,
) -> None:
    """Property-test ``op`` over parameter ranges with Hypothesis.

    At every drawn point: the root exists, the residual there is zero to rounding,
    the compiled op returns it, the gradient matches central finite differences to
    ``rtol`` and the library's ``verify_grad`` passes.

    Parameters
    ----------
    op
        The op under test.
    ranges
        ``{parameter (Symbol or name): (lo, hi)}``; parameters left out use
        :data:`DEFAULT_RANGES` for their assumptions. Wide positive ranges are drawn
        log-uniformly.
    max_examples
        Points to draw; by default the active Hypothesis profile's setting.
    rtol
        Relative tolerance of the gradient against finite differences.

    Raises
    ------
    AssertionError
        With the (shrunk) failing parameter point and what failed there.

    Examples
    --------
    Call it from a test in your own suite (pytest collects it like any test):

    >>> import sympy as sp
    >>> from implicitop import make_implicit_op
    >>> mu, theta = sp.symbols("mu theta", positive=True)
    >>> op = make_implicit_op(mu + mu * sp.exp(theta * mu) - 1, mu, theta)
    >>> from implicitop.testing import check_implicit_op
    >>> check_implicit_op(op, {"theta": (1e-3, 1e3)}, max_examples=5)  # passes silently
    """
    compiled = _CompiledOp.build(op)
    points = parameter_points(op.params, ranges)

    def at_every_point(point: tuple[float, ...]) -> None:
        check_point(op, point, rtol=rtol, compiled=compiled)

    # Timings vary with compilation and machine load, so no per-example deadline.
    chosen = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None)
    if max_examples is not None:
        chosen = settings(chosen, max_examples=max_examples)
    chosen(given(points)(at_every_point))()
