"""PyTensor's numba backend runs :class:`~implicitop.ImplicitOp` natively.

``pytensor.function(..., mode="NUMBA")`` and samplers that compile through it, such
as nutpie, call the op's compiled solver (:mod:`implicitop._solvers.compiled`) from
inside the numba-compiled graph, with no object-mode fallback and no Python in the
loop. Results are the same numbers as the default backend's: both run the same
kernel with the same settings. With ``on_failure="raise"`` the error is built in
object mode, only once a failure has happened. Ops whose residual numba cannot
compile keep PyTensor's object-mode fallback, which warns that it is used.

The graph calls the solver through a symbol name bound in each process to where the
solver's tier in use and its settings are, so PyTensor caches compiled graphs with
the op on disk (except with ``on_failure="raise"``, whose error is built from the op
itself). As in the C op, a new residual runs at once on the shared tier and the full
tier takes over in the running graph when its background compile ends; the solver
is called by address, so LLVM never inlines it into a graph compiled with fast-math
flags, where an approximate ``exp`` would turn overflow into NaN.

What every graph shares (reading the parameter rows, the solve) is compiled once per
process, for all ops, and kept in PyTensor's numba cache: a graph compiled later, for
another residual or another numeric ``x0``, compiles only its own small function
around them. PyTensor does not bound that cache; a process's first graph removes what
this module left there that serves neither this version nor a kernel still in the
kernel folder (:func:`prune_cached_functions`).
"""

from __future__ import annotations

import hashlib
import math
import os
import re
import time
from collections.abc import Callable
from functools import cache, lru_cache
from pathlib import Path

import numpy as np
from llvmlite import binding as llvm
from llvmlite import ir
from numba import literal_unroll, njit, objmode, types
from numba.core import cgutils
from numba.extending import intrinsic
from pytensor.configdefaults import config
from pytensor.graph.basic import Apply
from pytensor.link.numba.cache import CACHED_SRC_FUNCTIONS, NUMBA_CACHE_PATH
from pytensor.link.numba.dispatch.basic import (
    generate_fallback_impl,
    register_funcify_and_cache_key,
)

from implicitop._pytensor.op import ImplicitOp
from implicitop._solvers.compiled import ProblemKernels
from implicitop._solvers.generated import FULL
from implicitop._solvers.helper_pool import caller_words
from implicitop._solvers.kernel_cache import STALE_SECONDS, kernel_folder
from implicitop._solvers.parallel import THREADED_FROM, thread_count
from implicitop._solvers.status import CONVERGED
from implicitop._solvers.threads import CODE_VERSION, solve_in_parts, start_helpers

__all__ = ["numba_funcify_implicit_op", "prune_cached_functions"]


#: Part of every cache key: graphs cached by another version of this module (or of the
#: code compiled into them from others, :data:`~implicitop._solvers.threads.CODE_VERSION`)
#: are not used.
_CODE_VERSION = hashlib.sha256(Path(__file__).read_bytes() + CODE_VERSION.encode()).hexdigest()[:16]


def _cached_njit(function: Callable) -> Callable:
    """``function`` compiled by numba once per process for all graphs, and kept in
    PyTensor's numba cache under this module's :data:`_CODE_VERSION` where PyTensor
    caches (``numba__cache``): a process's first graph loads it instead of compiling it
    (about a second less in a new process)."""
    if not config.numba__cache:
        return njit(function)
    CACHED_SRC_FUNCTIONS[function] = f"implicitop_{function.__name__}_{_CODE_VERSION}"
    return njit(cache=True)(function)


def prune_cached_functions(folder: Path, kernels: Path, now: float) -> list[str]:
    """Remove from PyTensor's numba cache ``folder`` the files this module keeps there
    that were not written for :data:`~implicitop._solvers.kernel_cache.STALE_SECONDS`
    (``now`` is the time) and serve no kernel of the folder ``kernels``: those of code
    versions other than this one's (:data:`_CODE_VERSION`: the shared functions of
    :func:`_cached_njit` and each op's function), and an op's function whose kernel
    the kernel folder has evicted. Return their names.

    PyTensor does not bound that folder, and a user who tries many residuals in the
    numba backend leaves a function for each there. One still in use elsewhere
    (another environment or kernel folder on the machine) is written again by its next
    compile."""
    current = f"_{_CODE_VERSION}."
    removed: list[str] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:  # no such folder, or not readable
        return removed
    for entry in entries:
        name = entry.name
        if "-implicitop_" not in name:
            continue
        kernel = _KERNEL_NAME.search(name)
        if current in name and (kernel is None or (kernels / f"{kernel[1]}.py").exists()):
            continue
        try:
            if now - entry.stat().st_mtime > STALE_SECONDS:
                os.unlink(entry.path)
                removed.append(name)
        except OSError:  # removed meanwhile, or read-only
            continue
    return removed


#: The kernel module's name in the name of an op's function's cache file.
_KERNEL_NAME = re.compile(rf"-({FULL}_[0-9a-f]+)_")


@cache
def _cached_functions_pruned() -> None:
    """:func:`prune_cached_functions` of PyTensor's numba cache, once per process, when
    a first graph with an implicit op is compiled there."""
    if config.numba__cache:
        prune_cached_functions(Path(NUMBA_CACHE_PATH), kernel_folder(), time.time())


@_cached_njit
def _parameter_rows(inputs: tuple) -> np.ndarray:
    """The inputs (broadcast arrays of any layout and float dtype) as rows (m, k)."""
    size = inputs[0].size
    rows = np.empty((size, len(inputs)))
    j = 0
    for values in literal_unroll(inputs):
        # element by element, in the array's order whatever its layout: a slice
        # assignment here takes seconds to compile, np.ravel twice as long as .flat
        i = 0
        for value in values.flat:
            rows[i, j] = value
            i += 1
        j += 1
    return rows


@lru_cache(maxsize=64)
def _layout(n: int, dtype: np.dtype) -> tuple[Callable, Callable]:
    """Compiled ``(shape, m) -> root_shape`` and ``(root, shape) -> u`` (one equation)
    or ``(u_1, ..., u_n)``, each of the inputs' ``shape`` and ``dtype``: one equation's
    roots are solved into an array of the inputs' shape, a system's into rows (m, n)
    whose columns are the outputs. One pair per number of unknowns and dtype in a
    process, compiled with the first graph that needs it and called by the later ones."""

    if dtype == np.float64:  # the roots' own dtype: no copy to make
        as_dtype = njit(lambda values: values)
    else:
        as_dtype = njit(lambda values: values.astype(dtype))

    def column(j: int) -> Callable:
        return njit(lambda root, shape: as_dtype(np.ascontiguousarray(root[:, j]).reshape(shape)))

    def append(first: Callable, j: int) -> Callable:
        last = column(j)
        return njit(lambda root, shape: (*first(root, shape), last(root, shape)))

    if n == 1:
        return njit(lambda shape, m: shape), njit(lambda root, shape: as_dtype(root))
    outputs = njit(lambda root, shape: ())
    for j in range(n):
        outputs = append(outputs, j)
    return njit(lambda shape, m: (m, n)), outputs


def _failure_check(op: ImplicitOp) -> Callable:
    """A compiled ``(codes, rows)`` that raises the op's
    :class:`~implicitop.ImplicitSolveError` in object mode if any code is a
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


#: A graph's symbol names five int64 numbers in each process (``_bind``): the address
#: of the cell holding the entry point of the solver's tier in use, the address and
#: length of the solver's settings record, the number of threads for large batches and
#: the address of the process's words for compiled callers (the calls that share the
#: threads, the helper threads' table: :func:`~implicitop._solvers.helper_pool.caller_words`).
_WORDS = 5

#: What the symbols of this process are bound to, with the kernels and the record the
#: numbers point into, kept alive for as long as the process runs (compiled graphs
#: hold the addresses, and the kernels the machine code the cell points to).
_BOUND: dict[str, tuple[np.ndarray, ProblemKernels, np.ndarray]] = {}


def _bind(symbol: str, kernels: ProblemKernels, record: np.ndarray) -> None:
    """Bind ``symbol`` in this process to the solver's entry cell and settings record
    (once: graphs compiled earlier keep the addresses they were linked with)."""
    if symbol in _BOUND:
        return
    cell = kernels.entry_cell
    where = np.array(
        [cell.ctypes.data, record.ctypes.data, record.shape[0], thread_count(), caller_words()],
        dtype=np.int64,
    )
    _BOUND[symbol] = (where, kernels, record)
    llvm.add_symbol(symbol, where.ctypes.data)


def _bound_words(symbol: str) -> Callable:
    """A compiled ``() -> words``: the :data:`_WORDS` numbers ``symbol`` names in this
    process (see :func:`_bind`), read at each call.

    The graph holds only the symbol's name, so numba (and PyTensor) can cache graphs
    that call it, and a later process binds the name again before loading them. The
    tier's address is read at each call, as the C op does, so the faster tier takes
    over in a running graph when its background compile ends.
    """

    @intrinsic
    def bound(typingctx):
        def codegen(context, builder, signature, args):
            word = ir.IntType(64)
            try:
                where = builder.module.get_global(symbol)
            except KeyError:
                where = ir.GlobalVariable(builder.module, ir.ArrayType(word, _WORDS), symbol)
                where.linkage = "external"
            numbers = [
                builder.load(cgutils.gep_inbounds(builder, where, 0, i)) for i in range(_WORDS)
            ]
            return cgutils.pack_array(builder, numbers)

        return types.UniTuple(types.int64, _WORDS)(), codegen

    return bound


@intrinsic
def _address(typingctx, array):
    """The address of ``array``'s data, as an int64."""

    def codegen(context, builder, signature, args):
        data = context.make_array(signature.args[0])(context, builder, args[0]).data
        return builder.ptrtoint(data, ir.IntType(64))

    return types.int64(array), codegen


@_cached_njit
def _solve(words, rows, shape, n):
    """The roots, in an array of ``shape`` (m values of ``n`` unknowns), and status
    codes (m,) of the parameter rows ``rows`` (m, k), solved with the tier of the solver
    in use now, found through ``words`` (:func:`_bound_words`), large batches over
    threads (:func:`~implicitop._solvers.threads.solve_in_parts`)."""
    size = rows.shape[0]
    root = np.empty(shape)
    code = np.empty(size, dtype=np.int8)
    cell, record, length, threads, active = words
    solve_in_parts(
        cell, threads, active, size, _address(rows), record, length, _address(root),
        _address(code), rows.shape[1], n,
    )  # fmt: skip
    return root, code


def _may_be_shared(node: Apply) -> bool:
    """Whether the node's batches may be large enough to be shared with helper threads
    (:data:`~implicitop._solvers.parallel.THREADED_FROM` elements or more, or a shape
    not known before the call): only then are the helpers started (compiling their
    code takes about 50 ms in a process that has not yet shared a batch)."""
    shape = node.outputs[0].type.shape
    return None in shape or math.prod(shape) >= THREADED_FROM


def _settings_digest(record: np.ndarray, dtype: np.dtype) -> str:
    """A digest of the solver's settings record and the output dtype, exact to the bit
    (the repr of an array rounds to 8 digits)."""
    return hashlib.sha256(dtype.str.encode() + record.tobytes()).hexdigest()


@register_funcify_and_cache_key(ImplicitOp)
def numba_funcify_implicit_op(
    op: ImplicitOp, node: Apply | None = None, **kwargs: object
) -> tuple[Callable, str | None]:
    """The numba implementation of ``op`` at ``node``, and PyTensor's cache key for it
    (none for ``on_failure="raise"``, whose error is built from the op itself)."""
    if node is None:
        raise TypeError("the op's numba implementation is made for a node of a graph")
    kernels = op.solver.kernels
    if not kernels.compiled:
        return generate_fallback_impl(op, node, **kwargs), None
    _cached_functions_pruned()
    n = op.problem.size
    record = op.solver.settings.record
    dtype = np.dtype(node.outputs[0].type.dtype)
    key = f"{kernels.module.__name__}_{_settings_digest(record, dtype)}_{_CODE_VERSION}"
    symbol = f"implicitop_solver_{key}"
    _bind(symbol, kernels, op.solver.record)
    if _may_be_shared(node):
        start_helpers(thread_count())
    words = _bound_words(symbol)
    raise_on_failure = op.options.on_failure == "raise"
    check = _failure_check(op)
    root_shape, outputs = _layout(n, dtype)

    @njit
    def implicit_op(*inputs):
        shape = inputs[0].shape
        rows = _parameter_rows(inputs)
        root, code = _solve(words(), rows, root_shape(shape, rows.shape[0]), n)
        if raise_on_failure:
            check(code, rows)
        return outputs(root, shape)

    if raise_on_failure:
        return implicit_op, None
    return implicit_op, key
