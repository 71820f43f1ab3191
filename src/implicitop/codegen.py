"""Code generation: SymPy expressions to numeric callables and to PyTensor graphs.

Numeric kernels are generated once per problem with :func:`sympy.lambdify` (common
subexpressions shared through ``cse=True``) and work on whole arrays at once.
Graphs are printed with sympytensor's printer, bound to the op's own variables.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pytensor.tensor as pt
import sympy as sp
from pytensor.graph.basic import Variable
from sympytensor.pytensor import PytensorPrinter

from implicitop.numba_kernels import CompiledKernels, compiled_kernels
from implicitop.numba_systems import CompiledSystemKernels, compiled_system_kernels
from implicitop.problem import ImplicitProblem, residual_scale

__all__ = [
    "NumericKernels",
    "SystemKernels",
    "numeric_kernels",
    "system_kernels",
    "to_pytensor",
]

_LAMBDIFY_MODULES = ("scipy", "numpy")

ArrayFunction = Callable[..., np.ndarray]


def lambdify(args: list[sp.Symbol], expr: sp.Expr | list[sp.Expr]) -> ArrayFunction:
    """Vectorised numeric function of ``args`` (SciPy for special functions)."""
    return sp.lambdify(args, expr, modules=list(_LAMBDIFY_MODULES), cse=True)


@dataclass(frozen=True)
class NumericKernels:
    """Array functions generated for one problem.

    Attributes
    ----------
    residual_and_slope
        ``(mu, *params) -> (R, dR/dmu)``.
    scale
        ``(mu, *params) -> sum of |terms of R|``.
    compiled
        The numba-compiled solver phases (see :mod:`implicitop.numba_kernels`), or
        ``None`` where numba cannot compile the residual.
    """

    residual_and_slope: ArrayFunction
    scale: ArrayFunction
    compiled: CompiledKernels | None = None


@lru_cache(maxsize=256)
def numeric_kernels(problem: ImplicitProblem) -> NumericKernels:
    """Generate (once per problem) the kernels the scalar solver calls."""
    args = [*problem.unknowns, *problem.params]
    (residual,) = problem.residuals
    return NumericKernels(
        residual_and_slope=lambdify(args, [residual, problem.jacobian[0, 0]]),
        scale=lambdify(args, residual_scale(residual)),
        compiled=compiled_kernels(problem),
    )


@dataclass(frozen=True)
class SystemKernels:
    """Array functions generated for a system of n equations.

    Every function takes ``(u_1, ..., u_n, *params)`` as flat arrays of one length m.

    Attributes
    ----------
    residuals_and_jacobian
        Returns ``(R, J)`` with ``R`` of shape (m, n) and ``J = dR/du`` of shape
        (m, n, n).
    scales
        Returns the size of each residual's terms, shape (m, n).
    compiled
        The numba-compiled solver (see :mod:`implicitop.numba_systems`), or ``None``
        where numba cannot compile the expressions.
    """

    residuals_and_jacobian: ArrayFunction
    scales: ArrayFunction
    compiled: CompiledSystemKernels | None = None


def _stacked(function: ArrayFunction, shape: tuple[int, ...]) -> ArrayFunction:
    """Wrap ``function`` (nested lists of arrays or numbers) to return one array.

    The lists' nesting becomes the trailing axes, after the broadcast element axis.
    """

    def stacked(*args: np.ndarray) -> np.ndarray:
        length = np.shape(args[0])
        columns = [np.broadcast_to(v, length) for v in _flatten(function(*args))]
        return np.stack(columns, axis=-1).reshape(*length, *shape)

    return stacked


def _flatten(nested: object) -> Iterator[object]:
    if isinstance(nested, list | tuple):
        for item in nested:
            yield from _flatten(item)
    else:
        yield nested


@lru_cache(maxsize=256)
def system_kernels(problem: ImplicitProblem) -> SystemKernels:
    """Generate (once per problem) the kernels the system solver calls."""
    args = [*problem.unknowns, *problem.params]
    n = problem.size
    residuals = _stacked(lambdify(args, list(problem.residuals)), (n,))
    jacobian = _stacked(lambdify(args, problem.jacobian.tolist()), (n, n))
    scales = _stacked(lambdify(args, [residual_scale(r) for r in problem.residuals]), (n,))

    def residuals_and_jacobian(*values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return residuals(*values), jacobian(*values)

    return SystemKernels(residuals_and_jacobian, scales, compiled_system_kernels(problem))


_EXTRA_PYTENSOR_FUNCTIONS: Mapping[type, Callable[..., Variable]] = {
    sp.erfc: pt.erfc,
    sp.erfinv: pt.erfinv,
    sp.erfcinv: pt.erfcinv,
    sp.digamma: pt.psi,
    sp.polygamma: pt.polygamma,
    sp.besselj: pt.jv,
    sp.besseli: pt.iv,
    sp.cot: lambda x: 1 / pt.tan(x),
    sp.sec: lambda x: 1 / pt.cos(x),
    sp.csc: lambda x: 1 / pt.sin(x),
    sp.sign: pt.sign,
}


class _BoundPrinter(PytensorPrinter):
    """sympytensor's printer with symbols bound to given PyTensor variables."""

    def __init__(self, bindings: Mapping[sp.Symbol, Variable]):
        super().__init__(cache={}, settings={})
        self._bindings = bindings

    def _print_Symbol(self, symbol: sp.Symbol, **kwargs) -> Variable:
        return self._bindings[symbol]

    def _print_Basic(self, expr: sp.Basic, **kwargs) -> Variable:
        function = _EXTRA_PYTENSOR_FUNCTIONS.get(type(expr))
        if function is None:
            return super()._print_Basic(expr, **kwargs)
        return function(*(self._print(arg, **kwargs) for arg in expr.args))


def to_pytensor(expr: sp.Expr, bindings: Mapping[sp.Symbol, Variable]) -> Variable:
    """Print ``expr`` as a PyTensor graph whose symbols are the bound variables.

    Raises
    ------
    NotImplementedError
        If the expression uses a function PyTensor has no counterpart for.
    """
    return pt.as_tensor_variable(_BoundPrinter(bindings).doprint(expr))
