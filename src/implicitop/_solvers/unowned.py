"""Views of arrays that skip reference counting, for the system solver's inner loops.

numba counts references to every array it passes to a function, with an atomic
instruction at each function's entry and exit: for the few unknowns of an element's
system, most of the solver's time went to counting references to its small work
arrays. :func:`borrowed` returns views of them without an owner (as
:func:`numba.carray` gives over a pointer), whose counting is a test for a null
pointer. The owner must outlive the views: pass it in as an argument of the function
that makes them (a caller holds its arguments until the call returns).
"""

from typing import TypeVar

__all__ = ["borrowed"]

Arrays = TypeVar("Arrays")


def borrowed(arrays: Arrays) -> Arrays:
    """Views of ``arrays`` (an array, or a tuple of arrays and such tuples) without an
    owner in compiled code (:mod:`~implicitop._solvers.unowned_numba`); in plain Python,
    ``arrays`` themselves."""
    return arrays
