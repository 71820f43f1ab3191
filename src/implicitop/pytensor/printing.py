"""SymPy expressions printed as PyTensor graphs bound to given variables.

Built on sympytensor's printer, with the functions it lacks that PyTensor has
(``erfc``, Bessel functions, ``Heaviside``, ``Max`` of several arguments, ...; see
:mod:`implicitop.tensor_printing`).
"""

from collections.abc import Mapping

import pytensor.tensor as pt
import sympy as sp
from pytensor.graph.basic import Variable
from sympytensor.pytensor import PytensorPrinter, mapping

from implicitop.tensor_printing import BoundPrinter, extra_functions

__all__ = ["printable_functions", "to_pytensor"]

_EXTRA_FUNCTIONS = extra_functions(pt)


class _BoundPytensorPrinter(BoundPrinter, PytensorPrinter):
    """sympytensor's printer with symbols bound to given PyTensor variables."""


def to_pytensor(expr: sp.Expr, bindings: Mapping[sp.Symbol, Variable]) -> Variable:
    """Print ``expr`` as a PyTensor graph whose symbols are the bound variables.

    Raises
    ------
    NotImplementedError
        If the expression uses a function PyTensor has no counterpart for.
    """
    return pt.as_tensor_variable(_BoundPytensorPrinter(bindings, _EXTRA_FUNCTIONS).doprint(expr))


def printable_functions() -> list[str]:
    """Names of the SymPy functions that print to PyTensor."""
    classes = [*mapping, *_EXTRA_FUNCTIONS]
    methods = [name.removeprefix("_print_") for name in dir(_BoundPytensorPrinter)]
    return sorted({c.__name__ for c in classes if isinstance(c, type)} | set(methods))
