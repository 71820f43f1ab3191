"""Large batches over threads, for the compiled callers of a problem's solver.

The C op and Python spread a batch of :data:`~implicitop._solvers.parallel.THREADED_FROM`
elements or more over a pool of Python threads (:mod:`~implicitop._solvers.parallel`).
The compiled callers that run with no Python around them (the graph of PyTensor's
numba backend, the JAX foreign function) call :func:`solve_in_parts` instead: it cuts
the batch into the same parts, solves the first in the calling thread and each other
on a POSIX thread started for the call. Every thread is joined before it returns, so
none outlives a call (a process may fork afterwards, as PyMC's samplers do). Every
element takes the same steps whichever part it is in, so results are the same bit for
bit whatever the number of threads.

A part is a *task*: :data:`TASK` int64 words, the address of the solver's entry cell
(:attr:`~implicitop._solvers.compiled.ProblemKernels.entry_cell`) and the arguments of
:data:`~implicitop._solvers.batch.C_SIGNATURE` for the part's rows. Where POSIX threads
cannot be started (not a POSIX system, or the system refuses a thread), a part is
solved in the calling thread.
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

from implicitop._solvers import batch, held_entry, lockstep, parallel
from implicitop._solvers.held_entry import held_entry as held_entry_call
from implicitop._solvers.lockstep import BLOCK
from implicitop._solvers.parallel import THREADED_FROM, part_length

__all__ = ["CODE_VERSION", "TASK", "active_calls", "solve_in_parts"]

#: The words of a task: the entry cell's address, the part's number of rows, the
#: address of its parameter rows, the settings record's address and length, and the
#: addresses of the part's roots and status codes.
TASK = 7
_CELL, _SIZE, _ROWS, _RECORD, _LENGTH, _ROOT, _CODE = range(TASK)
#: Whether threads are started (elsewhere every part runs in the calling thread).
_POSIX = os.name == "posix"
#: The name of the thread function in each compiled module that starts threads.
_BODY = "implicitop_solve_task"
_WORD = ir.IntType(64)
_BYTES = ir.IntType(8).as_pointer()

_part_length = numba.njit(part_length)

#: A digest of the code a compiled caller of :func:`solve_in_parts` compiles into itself
#: from this package (numba's disk cache is keyed by the caller's own file alone).
CODE_VERSION = hashlib.sha256(
    b"".join(
        Path(str(module.__file__)).read_bytes()
        for module in (batch, held_entry, lockstep, parallel, sys.modules[__name__])
    )
).hexdigest()[:16]

#: How many calls of :func:`solve_in_parts` are under way in this process.
_ACTIVE = np.zeros(1, dtype=np.int64)


def active_calls() -> int:
    """The address of this process's count of :func:`solve_in_parts` calls under way,
    which its callers pass to it (compiled code, cached on disk, holds no address of a
    process)."""
    return _ACTIVE.ctypes.data


def _call_task(context: object, builder: ir.IRBuilder, task: ir.Value) -> None:
    """Emit the call that solves the task at ``task`` (an int64 pointer) with the tier
    its entry cell holds."""
    words = [builder.load(builder.gep(task, [ir.Constant(_WORD, i)])) for i in range(TASK)]
    entry = held_entry_call(context, builder, words[_CELL])
    kinds = entry.type.pointee.args
    arguments = [words[i] for i in (_SIZE, _ROWS, _RECORD, _LENGTH, _ROOT, _CODE)]
    builder.call(
        entry,
        [
            builder.inttoptr(value, kind) if isinstance(kind, ir.PointerType) else value
            for value, kind in zip(arguments, kinds, strict=True)
        ],
    )


@intrinsic
def _run_task(typingctx, task):
    """Solve the task at the address ``task`` in this thread."""

    def codegen(context, builder, signature, args):
        _call_task(context, builder, builder.inttoptr(args[0], _WORD.as_pointer()))
        return context.get_dummy_value()

    return types.void(types.int64), codegen


def _thread_function(context: object, module: ir.Module) -> ir.Function:
    """``void *implicitop_solve_task(void *task)``, defined once in ``module``."""
    try:
        return module.get_global(_BODY)
    except KeyError:
        pass
    body = ir.Function(module, ir.FunctionType(_BYTES, [_BYTES]), _BODY)
    body.linkage = "internal"
    builder = ir.IRBuilder(body.append_basic_block())
    _call_task(context, builder, builder.bitcast(body.args[0], _WORD.as_pointer()))
    builder.ret(ir.Constant(_BYTES, None))
    return body


@intrinsic
def _start_task(typingctx, task):
    """Start a thread that solves the task at the address ``task``: its handle (a
    ``pthread_t``), or 0 where no thread started."""

    def codegen(context, builder, signature, args):
        if not _POSIX:
            return ir.Constant(_WORD, 0)
        body = _thread_function(context, builder.module)
        create_type = ir.FunctionType(
            ir.IntType(32), [_WORD.as_pointer(), _BYTES, body.type, _BYTES]
        )
        create = cgutils.get_or_insert_function(builder.module, create_type, "pthread_create")
        handle = cgutils.alloca_once_value(builder, ir.Constant(_WORD, 0))
        argument = builder.inttoptr(args[0], _BYTES)
        status = builder.call(create, [handle, ir.Constant(_BYTES, None), body, argument])
        started = builder.icmp_signed("==", status, ir.Constant(ir.IntType(32), 0))
        return builder.select(started, builder.load(handle), ir.Constant(_WORD, 0))

    return types.int64(types.int64), codegen


@intrinsic
def _join(typingctx, handle):
    """Wait for the thread ``handle`` (from :func:`_start_task`) to end."""

    def codegen(context, builder, signature, args):
        if _POSIX:
            join_type = ir.FunctionType(ir.IntType(32), [_WORD, _BYTES.as_pointer()])
            join = cgutils.get_or_insert_function(builder.module, join_type, "pthread_join")
            builder.call(join, [args[0], ir.Constant(_BYTES.as_pointer(), None)])
        return context.get_dummy_value()

    return types.void(types.int64), codegen


@intrinsic
def _count(typingctx, counter, change):
    """Add ``change`` to the int64 at the address ``counter`` atomically; the sum."""

    def codegen(context, builder, signature, args):
        pointer = builder.inttoptr(args[0], _WORD.as_pointer())
        return builder.add(builder.atomic_rmw("add", pointer, args[1], "monotonic"), args[1])

    return types.int64(types.int64, types.int64), codegen


@numba.njit(nogil=True)
def solve_in_parts(
    cell: int,
    threads: int,
    active: int,
    size: int,
    rows: int,
    record: int,
    length: int,
    root: int,
    code: int,
    k: int,
    n: int,
) -> None:
    """Solve ``size`` parameter rows with the tier the entry cell at ``cell`` holds, on
    up to ``threads`` threads where there are
    :data:`~implicitop._solvers.parallel.THREADED_FROM` rows or more, shared with the
    calls under way at the same time (counted at :func:`active_calls`, the address
    ``active``): a sampler that runs its chains on threads, as nutpie does, does not
    start more threads than ``threads`` in all.

    Every argument is an integer; ``rows``, ``record``, ``root`` and ``code`` are the
    addresses of the C-contiguous parameter rows (``size``, ``k``), the settings record
    (``length``), the roots (``size``, ``n``) and the status codes (``size``, int8).
    """
    # addresses as int64 (an unsigned one plus an int64 would be a float)
    first_row, first_root, first_code = np.int64(rows), np.int64(root), np.int64(code)
    share = max(1, threads // _count(active, 1))
    count, step = 1, size
    if size >= THREADED_FROM and share > 1:
        step = _part_length(size, share, BLOCK)
        count = -(-size // step)
    tasks = np.empty((count, TASK), dtype=np.int64)
    for i in range(count):
        start = i * step
        task = tasks[i]
        task[_CELL], task[_SIZE] = cell, min(step, size - start)
        task[_ROWS], task[_ROOT] = first_row + 8 * k * start, first_root + 8 * n * start
        task[_RECORD], task[_LENGTH], task[_CODE] = record, length, first_code + start
    handles = np.zeros(count, dtype=np.int64)
    for i in range(1, count):
        handles[i] = _start_task(tasks[i].ctypes.data)
    _run_task(tasks[0].ctypes.data)
    # the loop may read ``tasks``: it lives until every thread has ended
    for i in range(1, count):
        if handles[i] == 0:
            _run_task(tasks[i].ctypes.data)
        else:
            _join(handles[i])
    _count(active, -1)
