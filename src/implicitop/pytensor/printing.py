"""SymPy expressions printed as PyTensor graphs bound to given variables.

Built on sympytensor's printer, with the functions it lacks that PyTensor has
(``erfc``, Bessel functions, ``Heaviside``, ``Max`` of several arguments, ...).
"""

from collections.abc import Callable, Mapping
from functools import reduce

import pytensor.tensor as pt
import sympy as sp
from pytensor.graph.basic import Variable
from sympytensor.pytensor import PytensorPrinter, mapping

__all__ = ["printable_functions", "to_pytensor"]


def _heaviside(x: Variable, at_zero: Variable | float = 0.5) -> Variable:
    return pt.switch(pt.gt(x, 0), 1.0, pt.switch(pt.lt(x, 0), 0.0, at_zero))


_EXTRA_PYTENSOR_FUNCTIONS: Mapping[type, Callable[..., Variable]] = {
    sp.erfc: pt.erfc,
    sp.erfinv: pt.erfinv,
    sp.erfcinv: pt.erfcinv,
    sp.digamma: pt.psi,
    sp.polygamma: pt.polygamma,
    sp.besselj: pt.jv,
    sp.besseli: pt.iv,
    sp.besselk: pt.kv,
    sp.cot: lambda x: 1 / pt.tan(x),
    sp.sec: lambda x: 1 / pt.cos(x),
    sp.csc: lambda x: 1 / pt.sin(x),
    sp.sign: pt.sign,
    sp.Heaviside: _heaviside,
    sp.DiracDelta: lambda *args: pt.zeros_like(args[0]),  # zero away from the jump
    sp.Max: lambda *args: reduce(pt.maximum, args),
    sp.Min: lambda *args: reduce(pt.minimum, args),
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


def printable_functions() -> list[str]:
    """Names of the SymPy functions that print to PyTensor."""
    classes = [*mapping, *_EXTRA_PYTENSOR_FUNCTIONS]
    methods = [name.removeprefix("_print_") for name in dir(_BoundPrinter)]
    return sorted({c.__name__ for c in classes if isinstance(c, type)} | set(methods))
