"""SymPy expressions printed as PyTensor graphs bound to given variables.

Built on sympytensor's printer, with the functions it lacks that PyTensor has
(``erfc``, Bessel functions, ``Heaviside``, ``Max`` of several arguments, ...; see
:mod:`implicitop.tensor_printing`). ``to_pytensor(exprs, bindings)`` prints;
``printable_functions()`` names what can be printed.
"""

import pytensor.tensor as pt
from sympytensor.pytensor import PytensorPrinter, mapping

from implicitop.tensor_printing import TensorPrinting

__all__ = ["printable_functions", "to_pytensor"]

_PRINTING = TensorPrinting(PytensorPrinter, pt, mapping)
to_pytensor = _PRINTING.to_graphs
printable_functions = _PRINTING.printable_functions
