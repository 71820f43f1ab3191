"""SymPy expressions printed as tensor graphs bound to given variables, for any
Theano-like tensor library (PyTensor, Theano).

SymPy's Theano printer and sympytensor's PyTensor printer share one design: a
``mapping`` from SymPy classes to tensor functions, and ``_print_Symbol`` creating a
new input variable. :class:`BoundPrinter` changes both for every such printer: symbols
print as the variables they are bound to (an op's own inputs and outputs), and the
functions the printers lack are added (:func:`extra_functions`). This module imports
neither library; the tensor module is passed in.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import reduce
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import sympy as sp
else:
    from implicitop._lazy import sympy as sp


__all__ = ["BoundPrinter", "TensorPrinting", "extra_functions"]

#: SymPy functions and the names their counterparts may have in a tensor module.
_NAMED: Mapping[str, tuple[str, ...]] = {
    "erfc": ("erfc",),
    "erfinv": ("erfinv",),
    "erfcinv": ("erfcinv",),
    "digamma": ("psi",),
    "polygamma": ("polygamma",),
    "besselj": ("jv",),
    "besseli": ("iv",),
    "besselk": ("kv",),
    "sign": ("sign", "sgn"),
}


def extra_functions(tensor: ModuleType) -> dict[type, Callable[..., object]]:
    """SymPy classes mapped to functions of ``tensor`` (``pytensor.tensor`` or
    ``theano.tensor``) that its SymPy printer lacks or takes fewer arguments of."""

    def heaviside(x: object, at_zero: object = 0.5) -> object:
        return tensor.switch(tensor.gt(x, 0), 1.0, tensor.switch(tensor.lt(x, 0), 0.0, at_zero))

    functions: dict[type, Callable[..., object]] = {
        sp.cot: lambda x: 1 / tensor.tan(x),
        sp.sec: lambda x: 1 / tensor.cos(x),
        sp.csc: lambda x: 1 / tensor.sin(x),
        sp.Heaviside: heaviside,
        sp.DiracDelta: lambda *args: tensor.zeros_like(args[0]),  # zero away from the jump
        sp.Max: lambda *args: reduce(tensor.maximum, args),
        sp.Min: lambda *args: reduce(tensor.minimum, args),
    }
    for kind, names in _NAMED.items():
        found = [getattr(tensor, name) for name in names if hasattr(tensor, name)]
        if found:
            functions[getattr(sp, kind)] = found[0]
    # what the printed sums are rewritten into (implicitop._cancellation)
    from sympy.codegen.cfunctions import expm1, log1p

    functions[expm1], functions[log1p] = tensor.expm1, tensor.log1p
    return functions


class BoundPrinter:
    """Mixin for a SymPy tensor printer: symbols print as the variables bound to them,
    and the functions of :func:`extra_functions` are added.

    Put it first among the bases, before the library's printer class.

    Parameters
    ----------
    bindings
        The variable each symbol stands for.
    functions
        Extra SymPy classes and the tensor functions they print as.
    """

    def __init__(self, bindings: Mapping[sp.Symbol, object], functions: Mapping[type, Callable]):
        super().__init__(cache={}, settings={})
        self._bindings = bindings
        self._functions = functions

    def _print_Symbol(self, symbol: sp.Symbol, **kwargs: object) -> object:
        return self._bindings[symbol]

    def _print_Basic(self, expr: sp.Basic, **kwargs: object) -> object:
        function = self._functions.get(type(expr))
        if function is not None:
            return function(*(self._print(arg, **kwargs) for arg in expr.args))
        try:
            return super()._print_Basic(expr, **kwargs)
        except KeyError:  # SymPy's Theano printer: not in its mapping
            raise NotImplementedError(f"no tensor function for {type(expr).__name__}") from None


class TensorPrinting:
    """Printing SymPy expressions with one library's SymPy printer, bound and extended.

    Parameters
    ----------
    printer
        The library's SymPy printer class (sympytensor's ``PytensorPrinter``, SymPy's
        ``TheanoPrinter``).
    tensor
        The library's tensor module.
    mapping
        The printer's own SymPy-class-to-function table.
    """

    def __init__(self, printer: type, tensor: ModuleType, mapping: Mapping[type, Callable]):
        self._printer = type(f"Bound{printer.__name__}", (BoundPrinter, printer), {})
        self._tensor = tensor
        self._mapping = mapping
        self._functions = extra_functions(tensor)

    def to_graphs(
        self, exprs: Sequence[sp.Expr], bindings: Mapping[sp.Symbol, object]
    ) -> list[object]:
        """Print ``exprs`` as graphs whose symbols are the bound variables, each
        subexpression they share (:func:`sympy.cse`) printed once, sums that cancel
        rewritten (:func:`~implicitop._cancellation.accurate_cse`).

        Raises
        ------
        NotImplementedError
            If an expression uses a function the library has no counterpart for.
        """
        from implicitop._cancellation import accurate_cse  # SymPy: not at import

        shared, reduced = accurate_cse(list(exprs), symbols=sp.numbered_symbols("_shared"))
        bound = dict(bindings)
        printer = self._printer(bound, self._functions)
        for symbol, expr in shared:
            bound[symbol] = self._tensor.as_tensor_variable(printer.doprint(expr))
        return [self._tensor.as_tensor_variable(printer.doprint(expr)) for expr in reduced]

    def printable_functions(self) -> list[str]:
        """Names of the SymPy functions that print to the library."""
        classes = [*self._mapping, *self._functions]
        methods = [name.removeprefix("_print_") for name in dir(self._printer)]
        return sorted({c.__name__ for c in classes if isinstance(c, type)} | set(methods))
