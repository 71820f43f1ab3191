"""PyTensor's numba backend runs :class:`~implicitop.pytensor.op.ImplicitOp` natively.

``pytensor.function(..., mode="NUMBA")`` and samplers that compile through it, such
as nutpie, call the op's compiled solver (:mod:`implicitop.solvers.compiled`) from
inside the numba-compiled graph, with no object-mode fallback and no Python in the
loop. Results are the same numbers as the default backend's: both run the same
kernel with the same settings. With ``on_failure="raise"`` the error is built in
object mode, only once a failure has happened. Ops whose residual numba cannot
compile keep PyTensor's object-mode fallback, which warns that it is used.

The graph calls the solver by a symbol name bound to its address in each process, so
PyTensor caches compiled graphs with the op on disk (except with
``on_failure="raise"``, whose error is built from the op itself).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import numpy as np
from llvmlite import binding as llvm
from numba import literal_unroll, njit, objmode, types
from numba.core import sigutils
from pytensor.graph.basic import Apply
from pytensor.link.numba.dispatch.basic import (
    generate_fallback_impl,
    register_funcify_and_cache_key,
)

from implicitop.pytensor.op import ImplicitOp
from implicitop.solvers.batch import C_SIGNATURE
from implicitop.solvers.compiled import ProblemKernels
from implicitop.solvers.status import CONVERGED

__all__ = ["numba_funcify_implicit_op"]


@njit
def _parameter_rows(inputs: tuple) -> np.ndarray:
    """The inputs (broadcast arrays of any layout and float dtype) as rows (m, k)."""
    size = inputs[0].size
    rows = np.empty((size, len(inputs)))
    j = 0
    for values in literal_unroll(inputs):
        # element by element: a slice assignment here takes seconds to compile
        flat = np.ravel(values)
        for i in range(size):
            rows[i, j] = flat[i]
        j += 1
    return rows


def _outputs(n: int, dtype: np.dtype) -> Callable:
    """A compiled ``(root (m, n), shape) -> u`` (one equation) or ``(u_1, ..., u_n)``,
    each of ``shape`` and ``dtype``."""

    def column(j: int) -> Callable:
        return njit(
            lambda root, shape: np.ascontiguousarray(root[:, j]).reshape(shape).astype(dtype)
        )

    def append(first: Callable, j: int) -> Callable:
        last = column(j)
        return njit(lambda root, shape: (*first(root, shape), last(root, shape)))

    if n == 1:
        return njit(lambda root, shape: root.reshape(shape).astype(dtype))
    outputs = njit(lambda root, shape: ())
    for j in range(n):
        outputs = append(outputs, j)
    return outputs


def _failure_check(op: ImplicitOp) -> Callable:
    """A compiled ``(codes, rows)`` that raises the op's
    :class:`~implicitop.solvers.ImplicitSolveError` in object mode if any code is a
    failure (object mode is entered only then)."""

    def report(code: np.ndarray, rows: np.ndarray) -> None:
        op.solver.raise_for_failures(list(rows.T), code)

    @njit
    def check(code: np.ndarray, rows: np.ndarray) -> None:
        for status in code:
            if status != CONVERGED:
                with objmode():
                    report(code, rows)

    return check


def _kernel_function(kernels: ProblemKernels) -> types.ExternalFunction:
    """The kernel's C entry point as an external function that compiled code calls by
    symbol name. The symbol is bound to the kernel's address in this process; the code
    holds only the name, so numba (and PyTensor) can cache graphs that call it, and a
    later process binds the name again before loading them.
    """
    symbol = f"implicitop_solve_{kernels.module.__name__}"
    llvm.add_symbol(symbol, kernels.c_address)
    return types.ExternalFunction(symbol, _C_SIGNATURE)


def _settings_digest(record: np.ndarray, dtype: np.dtype) -> str:
    """A digest of the solver's settings record and the output dtype, exact to the bit
    (the repr of an array rounds to 8 digits)."""
    return hashlib.sha256(dtype.str.encode() + record.tobytes()).hexdigest()


_ARGUMENTS, _RETURNS = sigutils.normalize_signature(C_SIGNATURE)
_C_SIGNATURE = _RETURNS(*_ARGUMENTS)


@register_funcify_and_cache_key(ImplicitOp)
def numba_funcify_implicit_op(
    op: ImplicitOp, node: Apply | None = None, **kwargs: object
) -> tuple[Callable, str | None]:
    """The numba implementation of ``op`` at ``node``, and PyTensor's cache key for it
    (none for ``on_failure="raise"``, whose error is built from the op itself)."""
    kernels = op.solver.kernels
    if not kernels.compiled:
        return generate_fallback_impl(op, node, **kwargs), None
    solve = _kernel_function(kernels)
    n = op.problem.size
    record = op.solver.settings.record
    raise_on_failure = op.options.on_failure == "raise"
    check = _failure_check(op)
    dtype = np.dtype(node.outputs[0].dtype)
    outputs = _outputs(n, dtype)

    @njit
    def implicit_op(*inputs):
        shape = inputs[0].shape
        rows = _parameter_rows(inputs)
        size = rows.shape[0]
        root = np.empty((size, n))
        code = np.empty(size, dtype=np.int8)
        solve(size, rows.ctypes, record.ctypes, record.shape[0], root.ctypes, code.ctypes)
        if raise_on_failure:
            check(code, rows)
        return outputs(root, shape)

    if raise_on_failure:
        return implicit_op, None
    return implicit_op, f"{kernels.module.__name__}_{_settings_digest(record, dtype)}"
