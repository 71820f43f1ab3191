"""SymPy expressions printed as PyTensor graphs bound to given variables.

Built on sympytensor's printer, with the functions it lacks that PyTensor has
(``erfc``, Bessel functions, ``Heaviside``, ``Max`` of several arguments, ...; see
:mod:`implicitop._tensor_printing`). ``to_pytensor(exprs, bindings)`` prints;
``printable_functions()`` names what can be printed. sympytensor (which imports
PyMC) is imported when something is first printed, not with the op: PyTensor
imports the op's module whenever it reads a compiled op's cache key.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

import pytensor.tensor as pt

from implicitop._tensor_printing import TensorPrinting

if TYPE_CHECKING:
    import sympy as sp
else:
    from implicitop._lazy import sympy as sp

__all__ = ["printable_functions", "to_pytensor"]


@lru_cache(maxsize=1)
def _printing() -> TensorPrinting:
    from sympytensor.pytensor import PytensorPrinter, mapping

    return TensorPrinting(PytensorPrinter, pt, mapping)


def to_pytensor(exprs: Sequence[sp.Expr], bindings: Mapping[sp.Symbol, object]) -> list[object]:
    """Print ``exprs`` as PyTensor graphs whose symbols are the bound variables (see
    :meth:`implicitop._tensor_printing.TensorPrinting.to_graphs`)."""
    return _printing().to_graphs(exprs, bindings)


def printable_functions() -> list[str]:
    """Names of the SymPy functions that print to PyTensor."""
    return _printing().printable_functions()
