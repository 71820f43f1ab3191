"""The compiled solver as an XLA foreign function, for JAX on the CPU.

JAX traces :mod:`~implicitop._jax.scalar` or :mod:`~implicitop._jax.system` into
thousands of lines of XLA per problem and input shape, which take seconds to
compile. On the CPU, where the problem's compiled solver runs, :func:`foreign_solve`
calls that solver instead, through XLA's typed foreign function interface: nothing of
the algorithm is compiled by XLA, and the roots and statuses are the C backend's, bit
for bit.

One handler serves every problem (``handler``, :func:`_handle` as a numba C function
compiled once and cached on disk). Its operands are the parameter rows (..., k), the solver's
settings record and three int64 numbers: the address of the problem's entry cell
(:attr:`~implicitop._solvers.compiled.ProblemKernels.entry_cell`), from which it reads
the tier in use at each call, as the C op does, the number of threads a large batch is
spread over, as the C op's are, and the address of the process's words for compiled
callers: the calls that share the threads, and the helper threads' table
(:func:`~implicitop._solvers.helper_pool.caller_words`,
:func:`~implicitop._solvers.threads.solve_in_parts`). Leading batch dimensions
(``jax.vmap``) are rows too.

The handler reads XLA's call frame by the byte offsets of ``xla/ffi/api/c_api.h``
(x86-64 and aarch64 layouts are the same: 8-byte pointers and sizes, 4-byte enums).

XLA's CPU threads compute with subnormal numbers flushed to zero (MXCSR's
flush-to-zero and denormals-are-zero bits), where the C op and the solver's own threads
keep them: an allowance of 1e-11 times terms of 1e-300 is subnormal, and the absorption
time of a fraction 1e-300 of a dose came out 8.6e-12 off, not the C backend's root. On
x86-64 the handler clears both bits while it solves and restores XLA's mode after
(:func:`_subnormals_kept`); elsewhere it leaves the mode as it is.
"""

from __future__ import annotations

import ctypes
import functools
import platform
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

from implicitop._solvers import Solver
from implicitop._solvers.helper_pool import caller_words
from implicitop._solvers.parallel import THREADED_FROM, thread_count
from implicitop._solvers.threads import CODE_VERSION, solve_in_parts, start_helpers

__all__ = ["TARGET", "foreign_available", "foreign_solve", "handler", "register"]

#: The name the handler is registered under with XLA.
TARGET = "implicitop_solve"

# Offsets (bytes) into the structs of xla/ffi/api/c_api.h.
_EXTENSION_START, _EXTENSION_TYPE = 8, 8  # XLA_FFI_CallFrame / XLA_FFI_Extension_Base
_METADATA = 24  # XLA_FFI_Metadata_Extension.metadata
_MAJOR, _MINOR, _TRAITS = 24, 28, 32  # XLA_FFI_Metadata.api_version.*, .traits
_STAGE, _ARGUMENTS, _RESULTS = 32, 72, 112  # XLA_FFI_CallFrame.stage, .args.args, .rets.rets
_DATA, _RANK, _DIMENSIONS = 24, 32, 40  # XLA_FFI_Buffer
_METADATA_EXTENSION, _EXECUTE = 1, 3  # XLA_FFI_Extension_Metadata, XLA_FFI_ExecutionStage_EXECUTE
#: The FFI API version the handler implements (XLA_FFI_API_MAJOR, XLA_FFI_API_MINOR).
API_VERSION = (0, 1)


@intrinsic
def _word(typingctx, address, offset):
    """The int64 at ``address + offset``."""

    def codegen(context, builder, signature, args):
        word = ir.IntType(64)
        pointer = builder.inttoptr(builder.add(args[0], args[1]), word.as_pointer())
        return builder.load(pointer)

    return types.int64(types.int64, types.int64), codegen


@intrinsic
def _half(typingctx, address, offset):
    """The int32 at ``address + offset`` (a C enum), as int64."""

    def codegen(context, builder, signature, args):
        half = ir.IntType(32)
        pointer = builder.inttoptr(builder.add(args[0], args[1]), half.as_pointer())
        return builder.sext(builder.load(pointer), ir.IntType(64))

    return types.int64(types.int64, types.int64), codegen


@intrinsic
def _set_half(typingctx, address, offset, value):
    """Store ``value`` as the int32 at ``address + offset``."""

    def codegen(context, builder, signature, args):
        half = ir.IntType(32)
        pointer = builder.inttoptr(builder.add(args[0], args[1]), half.as_pointer())
        builder.store(builder.trunc(args[2], half), pointer)
        return context.get_dummy_value()

    return types.void(types.int64, types.int64, types.int64), codegen


#: MXCSR's flush-to-zero (bit 15) and denormals-are-zero (bit 6) bits.
_FLUSHING = (1 << 15) | (1 << 6)
#: Whether this machine's floating-point mode is MXCSR's (x86-64).
_MXCSR = platform.machine().lower() in ("x86_64", "amd64")


@intrinsic
def _subnormals_kept(typingctx):
    """Clear MXCSR's :data:`_FLUSHING` bits (on x86-64; elsewhere nothing); the mode
    before, for :func:`_mode_restored`."""

    def codegen(context, builder, signature, args):
        if not _MXCSR:
            return ir.Constant(ir.IntType(64), 0)
        slot = builder.alloca(ir.IntType(32))
        _mxcsr_call(builder, "llvm.x86.sse.stmxcsr", slot)
        before = builder.load(slot)
        builder.store(builder.and_(before, ir.Constant(ir.IntType(32), ~_FLUSHING)), slot)
        _mxcsr_call(builder, "llvm.x86.sse.ldmxcsr", slot)
        return builder.zext(before, ir.IntType(64))

    return types.int64(), codegen


@intrinsic
def _mode_restored(typingctx, before):
    """Set MXCSR back to ``before`` (:func:`_subnormals_kept`'s; on x86-64 only)."""

    def codegen(context, builder, signature, args):
        if _MXCSR:
            slot = builder.alloca(ir.IntType(32))
            builder.store(builder.trunc(args[0], ir.IntType(32)), slot)
            _mxcsr_call(builder, "llvm.x86.sse.ldmxcsr", slot)
        return context.get_dummy_value()

    return types.void(types.int64), codegen


def _mxcsr_call(builder: ir.IRBuilder, name: str, slot: ir.Value) -> None:
    """Call LLVM's intrinsic ``name`` (``stmxcsr``/``ldmxcsr``) on the int32 at ``slot``."""
    pointer = ir.IntType(8).as_pointer()
    function_type = ir.FunctionType(ir.VoidType(), [pointer])
    module = builder.module
    function = module.globals.get(name) or ir.Function(module, function_type, name=name)
    builder.call(function, [builder.bitcast(slot, pointer)])


@numba.njit(inline="always")
def _buffer_dimension(buffer: int, axis: int) -> int:
    """The length of axis ``axis`` of the XLA_FFI_Buffer at ``buffer``."""
    return _word(_word(buffer, _DIMENSIONS), 8 * axis)


@numba.njit(inline="always")
def _last_dimension(buffer: int) -> int:
    """The length of the last axis of the XLA_FFI_Buffer at ``buffer``."""
    return _buffer_dimension(buffer, _word(buffer, _RANK) - 1)


def _handle(frame: int) -> int:
    """The XLA FFI handler (``XLA_FFI_Error* handler(XLA_FFI_CallFrame*)``; 0 is
    success): answers XLA's query of its API version, and at the execution stage
    solves every row of the operands (see the module's description)."""
    extension = _word(frame, _EXTENSION_START)
    if extension != 0 and _half(extension, _EXTENSION_TYPE) == _METADATA_EXTENSION:
        metadata = _word(extension, _METADATA)
        _set_half(metadata, _MAJOR, API_VERSION[0])
        _set_half(metadata, _MINOR, API_VERSION[1])
        _set_half(metadata, _TRAITS, 0)
        return 0
    if _half(frame, _STAGE) != _EXECUTE:
        return 0
    arguments, results = _word(frame, _ARGUMENTS), _word(frame, _RESULTS)
    rows, record, runtime = _word(arguments, 0), _word(arguments, 8), _word(arguments, 16)
    count = 1
    for axis in range(_word(rows, _RANK) - 1):
        count *= _buffer_dimension(rows, axis)
    root, code = _word(results, 0), _word(results, 8)
    numbers = _word(runtime, _DATA)
    cell, threads, active = _word(numbers, 0), _word(numbers, 8), _word(numbers, 16)
    mode = _subnormals_kept()  # as the C op and the solver's own threads compute
    solve_in_parts(
        cell, threads, active, count, _word(rows, _DATA), _word(record, _DATA),
        _last_dimension(record), _word(root, _DATA), _word(code, _DATA), _last_dimension(rows),
        _last_dimension(root),
    )  # fmt: skip
    _mode_restored(mode)
    return 0


# numba's disk cache is keyed by this module's file alone: the handler's name, and so
# its cache's, carries the version of the code compiled into it from other modules,
# so a change there is never loaded stale
_handle.__qualname__ = f"handler_{CODE_VERSION}"
#: :func:`_handle` compiled, once for every problem (and cached on disk).
handler = numba.cfunc(types.int64(types.int64), cache=True, nogil=True)(_handle)


@functools.cache
def register() -> None:
    """Register :func:`handler` with XLA's CPU platform (once per process)."""
    new_capsule = ctypes.pythonapi.PyCapsule_New
    new_capsule.restype = ctypes.py_object
    new_capsule.argtypes = (ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p)
    jax.ffi.register_ffi_target(TARGET, new_capsule(handler.address, None, None), platform="cpu")


def foreign_available() -> bool:
    """Whether JAX computes on the CPU with 64-bit numbers (``jax_enable_x64``), as the
    compiled solver needs (its operands are float64 and int64)."""
    return (
        jax.default_backend() == "cpu"
        and jax.dtypes.canonicalize_dtype(np.float64) == np.float64
        and jax.dtypes.canonicalize_dtype(np.int64) == np.int64
    )


def _check_available() -> None:
    if not foreign_available():
        raise RuntimeError("the compiled solver runs in JAX on the CPU with jax_enable_x64 only")


def foreign_solve(solver: Solver) -> Callable[..., tuple[jax.Array, jax.Array]]:
    """``(*flat params, each (m,)) -> (roots (m, n), status codes (m,))`` as
    :func:`~implicitop._jax.solve_function`, computed by ``solver``'s compiled solver
    through :func:`handler`.

    Raises
    ------
    RuntimeError
        Where JAX does not compute on the CPU in 64 bits (:func:`foreign_available`)
        or numba did not compile the problem.
    """
    _check_available()
    if not solver.kernels.compiled:
        raise RuntimeError(f"numba did not compile {solver.problem}: trace the solver instead")
    register()
    kernels = solver.kernels
    record = np.array(solver.record)
    n = solver.problem.size

    def solve(*flat: jax.Array) -> tuple[jax.Array, jax.Array]:
        _check_available()  # when traced, which may be later
        rows = jnp.stack([jnp.asarray(v, dtype=jnp.float64) for v in flat], axis=-1)
        size = rows.shape[0]
        call = jax.ffi.ffi_call(
            TARGET,
            (
                jax.ShapeDtypeStruct((size, n), jnp.float64),
                jax.ShapeDtypeStruct((size,), jnp.int8),
            ),
            vmap_method="expand_dims",
        )
        # the address of the kernels' cell (this closure keeps the kernels alive), the
        # number of threads for large batches and the process's words for compiled
        # callers (the calls sharing the threads, the helper threads' table)
        threads = thread_count()
        if size >= THREADED_FROM:  # helpers for a batch that is shared (where vmap makes
            # a batch large, its threads are started for the call while there are none)
            start_helpers(threads)
        runtime = np.array(
            [kernels.entry_cell.ctypes.data, threads, caller_words()], dtype=np.int64
        )
        root, code = call(rows, record, runtime)
        return root, code

    return solve
