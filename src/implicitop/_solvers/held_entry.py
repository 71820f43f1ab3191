"""Machine code that calls the solver tier an entry cell holds.

:attr:`~implicitop._solvers.compiled.ProblemKernels.entry_cell` holds the address of
the entry point of the tier in use (:data:`~implicitop._solvers.batch.C_SIGNATURE`),
which changes once, when the full solver takes over. Compiled callers other than the
C op (the numba graph, the JAX foreign function) read it at each call: their parts of
a batch (:mod:`~implicitop._solvers.threads`) call :func:`held_entry` in their code
generation.
"""

from __future__ import annotations

from llvmlite import ir
from numba.core import sigutils

from implicitop._solvers.batch import C_SIGNATURE

__all__ = ["held_entry"]


def held_entry(context: object, builder: ir.IRBuilder, cell: ir.Value) -> ir.Value:
    """The entry point held at the address ``cell`` (an int64), loaded with acquire
    ordering, as a pointer to a function of :data:`~implicitop._solvers.batch.C_SIGNATURE`
    (its argument types: ``.type.pointee.args``)."""
    arguments, returns = sigutils.normalize_signature(C_SIGNATURE)
    entry_type = ir.FunctionType(
        context.get_value_type(returns),  # type: ignore[attr-defined]
        [context.get_value_type(a) for a in arguments],  # type: ignore[attr-defined]
    )
    word = ir.IntType(64)
    held = builder.load_atomic(builder.inttoptr(cell, word.as_pointer()), "acquire", 8)
    return builder.inttoptr(held, entry_type.as_pointer())
