"""SymPy expressions printed as Theano graphs bound to given variables.

Built on SymPy's own Theano printer (``sympy.printing.theanocode``, deprecated by
SymPy but still shipped), with the functions it lacks that Theano has (see
:mod:`implicitop._tensor_printing`). ``to_theano(exprs, bindings)`` prints;
``printable_functions()`` names what can be printed.
"""

import theano.tensor as tt
from sympy.printing.theanocode import TheanoPrinter, mapping

from implicitop._tensor_printing import TensorPrinting

__all__ = ["printable_functions", "to_theano"]

_PRINTING = TensorPrinting(TheanoPrinter, tt, mapping)
to_theano = _PRINTING.to_graphs
printable_functions = _PRINTING.printable_functions
