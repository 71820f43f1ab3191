"""Large batches over threads, in compiled code.

The C op and Python share a batch of :data:`~implicitop._solvers.parallel.THREADED_FROM`
elements or more with native helper threads (:mod:`~implicitop._solvers.helper_pool`,
:func:`share_job`): the calling thread posts the batch to them and claims
:data:`CHUNK` rows at a time until none is left (:func:`solve_claimed`), so it starts
at once and each helper joins as it wakes; the caller then waits for the chunks the
others are solving and takes the batch back from them (:func:`wait_until_solved`). The
compiled callers that run with no Python around them (the graph of PyTensor's numba
backend, the JAX foreign function) call :func:`solve_in_parts`, which posts to the same
helpers, found through words whose address they are given
(:func:`~implicitop._solvers.helper_pool.caller_words`; :func:`start_helpers` starts
them when such a caller is built). A forked child has none of its parent's helpers
until it starts its own: there the call claims chunks in the calling thread and in
POSIX threads started for the call, and joins them before it returns. Every element
takes the same steps whichever thread solves it, so results are the same bit for bit
whatever the number of threads.

A batch is a *job* (:data:`JOB` int64 words); each chunk claimed from it is solved as
a *task*: :data:`TASK` int64 words, the address of the solver's entry cell
(:attr:`~implicitop._solvers.compiled.ProblemKernels.entry_cell`) and the arguments
of :data:`~implicitop._solvers.batch.C_SIGNATURE` for its rows. Where POSIX threads
cannot be started (not a POSIX system, or the system refuses a thread), the calling
thread claims every chunk.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import sys
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import NamedTuple

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.core.compiler_lock import global_compiler_lock
from numba.core.registry import cpu_target
from numba.extending import intrinsic

from implicitop._solvers import batch, held_entry, helper_pool, lockstep, parallel
from implicitop._solvers.held_entry import held_entry as held_entry_call
from implicitop._solvers.helper_pool import CALLS, TABLE, job_function, libc_function, word
from implicitop._solvers.lockstep import BLOCK
from implicitop._solvers.parallel import sharing_threads

__all__ = [
    "CHUNK",
    "CODE_VERSION",
    "JOB",
    "JOB_LAYOUT",
    "LONGEST_NAP_NANOSECONDS",
    "NAP_NANOSECONDS",
    "TASK",
    "YIELDS",
    "NativeFunctions",
    "job",
    "native_functions",
    "share_job",
    "solve_claimed",
    "solve_in_parts",
    "solve_shared",
    "start_helpers",
    "wait_until_solved",
]

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
_INT = ir.IntType(32)
_BYTES = ir.IntType(8).as_pointer()

_sharing_threads = numba.njit(sharing_threads)

#: A digest of the code a compiled caller of :func:`solve_in_parts` compiles into itself
#: from this package (numba's disk cache is keyed by the caller's own file alone).
CODE_VERSION = hashlib.sha256(
    b"".join(
        Path(str(module.__file__)).read_bytes()
        for module in (batch, held_entry, helper_pool, lockstep, parallel, sys.modules[__name__])
    )
).hexdigest()[:16]


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


def _thread_function(context: object, module: ir.Module) -> ir.Function:
    """``void *implicitop_solve_task(void *job)``: :func:`solve_claimed` on a thread,
    defined once in ``module``."""
    try:
        return module.get_global(_BODY)
    except KeyError:
        pass
    claim = _claiming_function(context, module, "internal")
    body = ir.Function(module, ir.FunctionType(_BYTES, [_BYTES]), _BODY)
    body.linkage = "internal"
    builder = ir.IRBuilder(body.append_basic_block())
    builder.call(claim, [builder.bitcast(body.args[0], _WORD.as_pointer())])
    builder.ret(ir.Constant(_BYTES, None))
    return body


def _job_call(function_of: Callable[[object, ir.Module], ir.Function]) -> Callable:
    """A compiled ``call(job)``: the function ``function_of(context, module)``, defined
    once in the caller's module, called with the job at the address ``job``."""

    @intrinsic
    def call(typingctx, job):
        def codegen(context, builder, signature, args):
            function = function_of(context, builder.module)
            builder.call(function, [builder.inttoptr(args[0], _WORD.as_pointer())])
            return context.get_dummy_value()

        return types.void(types.int64), codegen

    return call


def _claiming(context: object, module: ir.Module) -> ir.Function:
    return _claiming_function(context, module, "internal")


#: Claim and solve rows of a job in this thread until none is left (:func:`solve_claimed`).
_solve_job = _job_call(_claiming)
#: Wait until every row of a job is solved (:func:`wait_until_solved`).
_wait_for_job = _job_call(lambda context, module: _waiting_function(module, "internal"))
#: Post a job to the helpers it names, then claim rows of it
#: (:func:`~implicitop._solvers.helper_pool.post_function`).
_post_job = _job_call(
    lambda context, module: helper_pool.post_function(
        module, _claiming(context, module), _NAMING, "internal"
    )
)
#: Wait for a job's rows, then take it back from its helpers
#: (:func:`~implicitop._solvers.helper_pool.release_function`).
_release_job = _job_call(
    lambda context, module: helper_pool.release_function(
        module, _waiting_function(module, "internal"), _NAMING, "internal"
    )
)


@intrinsic
def _read(typingctx, address):
    """The int64 at ``address``, read atomically (another thread may write it)."""

    def codegen(context, builder, signature, args):
        pointer = builder.inttoptr(args[0], _WORD.as_pointer())
        return builder.load_atomic(pointer, "acquire", 8)

    return types.int64(types.int64), codegen


@intrinsic
def _start_task(typingctx, task):
    """Start a thread that claims and solves rows of the job at the address ``task``
    (:func:`solve_claimed`): its handle (a ``pthread_t``), or 0 where no thread started."""

    def codegen(context, builder, signature, args):
        if not _POSIX:
            return ir.Constant(_WORD, 0)
        body = _thread_function(context, builder.module)
        create = libc_function(
            builder.module, "pthread_create", _INT, _WORD.as_pointer(), _BYTES, body.type, _BYTES
        )
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
            join = libc_function(builder.module, "pthread_join", _INT, _WORD, _BYTES.as_pointer())
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
    shared: int,
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
    :data:`~implicitop._solvers.parallel.THREADED_FROM` rows or more: this one and the
    process's helper threads, as the C op does (:func:`share_job`), or, where the
    process has none (a forked child that has not started its own), threads started for
    the call, which claim chunks of rows as :func:`solve_claimed` does. ``shared`` is
    the address of the process's words for compiled callers
    (:func:`~implicitop._solvers.helper_pool.caller_words`): the calls under way at the
    same time share the threads (a sampler that runs its chains on threads, as nutpie
    does, does not use more than ``threads`` in all), and the helpers' table.

    Every argument is an integer; ``rows``, ``record``, ``root`` and ``code`` are the
    addresses of the C-contiguous parameter rows (``size``, ``k``), the settings record
    (``length``), the roots (``size``, ``n``) and the status codes (``size``, int8).
    """
    calls = shared + 8 * CALLS
    share = max(1, threads // _count(calls, 1))
    count = _sharing_threads(size, share)
    words = np.zeros(JOB, dtype=np.int64)
    words[_CELL], words[_SIZE], words[_ROWS], words[_RECORD] = cell, size, rows, record
    words[_LENGTH], words[_ROOT], words[_CODE] = length, root, code
    words[_N], words[_K] = n, k
    table = _read(shared + 8 * TABLE) if count > 1 else 0
    if table != 0:
        words[_HELPERS], words[_HELPER_COUNT] = table + 8, min(count - 1, _read(table))
        _post_job(words.ctypes.data)
        _release_job(words.ctypes.data)
    else:
        handles = np.zeros(count, dtype=np.int64)
        for i in range(1, count):
            handles[i] = _start_task(words.ctypes.data)
        _solve_job(words.ctypes.data)
        _wait_for_job(words.ctypes.data)
        for i in range(1, count):
            if handles[i] != 0:
                _join(handles[i])
    # the threads read ``words`` until they end (to find nothing left to claim), and numba
    # frees an array after its last use: this one is after they let go of it
    words[_CLAIMED] = size
    _count(calls, -1)


#: Rows a thread claims at a time from a batch it shares (:func:`solve_claimed`): few
#: enough that the threads finish within microseconds of each other, enough that
#: claiming them costs nothing beside solving them.
CHUNK = 4 * BLOCK
#: How often a thread waiting for the others' chunks looks again at once (letting other
#: threads run between looks) before it sleeps :data:`NAP_NANOSECONDS` between looks:
#: a chunk takes 10-30 microseconds, a look a fraction of one.
YIELDS = 256
NAP_NANOSECONDS = 20_000
#: Each nap is twice the one before, up to this: a long wait costs little CPU, and ends
#: at most a nap after the others finish.
LONGEST_NAP_NANOSECONDS = 1_000_000
#: The words of a shared batch (a *job*): a task for all its rows (:data:`TASK` words),
#: the number of unknowns and of parameters, the address of an int64 array of the
#: blocks of the helpers it may be posted to and how many of them
#: (:mod:`~implicitop._solvers.helper_pool`; none where both are 0), the address of a
#: function ``void after(int64 data, int64 *task, int64 start)`` called on each part
#: once it is solved, by the thread that solved it (none where 0; the C op's implicit
#: derivatives, ``implicit_fused.c``) and its ``data``, the first row not yet claimed
#: and the number of rows solved.
JOB = TASK + 8
_N, _K, _HELPERS, _HELPER_COUNT, _AFTER, _AFTER_DATA, _CLAIMED, _SOLVED = range(TASK, JOB)
#: The words of a job that name its helpers.
_NAMING: tuple[int, int] = (_HELPERS, _HELPER_COUNT)
#: Where each word of a job is, by name (the C op builds its jobs itself:
#: ``implicit_op.c``, :func:`share_job`).
JOB_LAYOUT = {
    "CELL": _CELL, "SIZE": _SIZE, "ROWS": _ROWS, "RECORD": _RECORD, "LENGTH": _LENGTH,
    "ROOT": _ROOT, "CODE": _CODE, "N": _N, "K": _K, "HELPERS": _HELPERS,
    "HELPER_COUNT": _HELPER_COUNT, "AFTER": _AFTER, "AFTER_DATA": _AFTER_DATA,
    "CLAIMED": _CLAIMED, "SOLVED": _SOLVED,
}  # fmt: skip


def job(
    cell: np.ndarray, rows: np.ndarray, record: np.ndarray, root: np.ndarray, code: np.ndarray
) -> np.ndarray:
    """The job (:data:`JOB` int64 words) of solving the C-contiguous parameter rows
    ``rows`` (m, k) into ``root`` (m, n) and ``code`` (m,) with the settings record
    ``record`` and the tier the entry cell ``cell`` holds, none of it claimed yet.
    Whoever holds it must hold the arrays too."""
    words = np.zeros(JOB, dtype=np.int64)
    words[_CELL], words[_SIZE], words[_ROWS] = cell.ctypes.data, rows.shape[0], rows.ctypes.data
    words[_RECORD], words[_LENGTH] = record.ctypes.data, record.shape[0]
    words[_ROOT], words[_CODE] = root.ctypes.data, code.ctypes.data
    words[_N], words[_K] = root.shape[1], rows.shape[1]
    return words


def _claiming_function(context: object, module: ir.Module, linkage: str) -> ir.Function:
    """``void implicitop_solve_claimed(int64 *job)``, defined once in ``module``: claim
    :data:`CHUNK` rows of the job at a time and solve them (then call the job's function
    of each part, if it has one), until none is left."""
    function, new = job_function(module, _CLAIM, linkage)
    if not new:
        return function
    words = function.args[0]
    builder = ir.IRBuilder(function.append_basic_block("start"))
    task = builder.alloca(_WORD, TASK)
    loop, work, done = (function.append_basic_block(name) for name in ("loop", "work", "done"))
    builder.branch(loop)
    builder.position_at_end(loop)
    size = builder.load(word(builder, words, _SIZE))
    chunk = ir.Constant(_WORD, CHUNK)
    start = builder.atomic_rmw("add", word(builder, words, _CLAIMED), chunk, "monotonic")
    builder.cbranch(builder.icmp_signed("<", start, size), work, done)
    builder.position_at_end(work)
    rest = builder.sub(size, start)
    count = builder.select(builder.icmp_signed("<", rest, chunk), rest, chunk)
    k, n = (builder.load(word(builder, words, i)) for i in (_K, _N))
    eight = ir.Constant(_WORD, 8)
    offsets = {
        _ROWS: builder.mul(builder.mul(start, k), eight),
        _ROOT: builder.mul(builder.mul(start, n), eight),
        _CODE: start,
    }
    for i in range(TASK):
        value = builder.load(word(builder, words, i))
        value = count if i == _SIZE else builder.add(value, offsets[i]) if i in offsets else value
        builder.store(value, word(builder, task, i))
    _call_task(context, builder, task)
    after = builder.load(word(builder, words, _AFTER))
    with builder.if_then(builder.icmp_signed("!=", after, ir.Constant(_WORD, 0))):
        kind = ir.FunctionType(ir.VoidType(), [_WORD, _WORD.as_pointer(), _WORD])
        data = builder.load(word(builder, words, _AFTER_DATA))
        builder.call(builder.inttoptr(after, kind.as_pointer()), [data, task, start])
    builder.atomic_rmw("add", word(builder, words, _SOLVED), count, "release")
    builder.branch(loop)
    builder.position_at_end(done)
    builder.ret_void()
    return function


def _waiting_function(module: ir.Module, linkage: str) -> ir.Function:
    """``void implicitop_wait_until_solved(int64 *job)``, defined once in ``module``:
    return once every row of the job is solved. It looks again after letting other
    threads run (``sched_yield``) the first :data:`YIELDS` times, then every
    :data:`NAP_NANOSECONDS` asleep, each nap twice the one before up to
    :data:`LONGEST_NAP_NANOSECONDS`: a thread that waits long waits for a thread the
    system has not run (more threads than CPUs), and should not take a CPU from it."""
    function, new = job_function(module, _WAIT, linkage)
    if not new:
        return function
    words = function.args[0]
    builder = ir.IRBuilder(function.append_basic_block("start"))
    looks = cgutils.alloca_once_value(builder, ir.Constant(_WORD, 0))
    nap = builder.alloca(_WORD, 2)  # struct timespec: seconds, nanoseconds
    builder.store(ir.Constant(_WORD, 0), word(builder, nap, 0))
    builder.store(ir.Constant(_WORD, NAP_NANOSECONDS), word(builder, nap, 1))
    blocks = ("loop", "again", "yield", "sleep", "done")
    loop, again, yielding, sleeping, done = map(function.append_basic_block, blocks)
    builder.branch(loop)
    builder.position_at_end(loop)
    size = builder.load(word(builder, words, _SIZE))
    solved = builder.load_atomic(word(builder, words, _SOLVED), "acquire", 8)
    builder.cbranch(builder.icmp_signed("<", solved, size), again, done)
    builder.position_at_end(again)
    count = builder.load(looks)
    builder.store(builder.add(count, ir.Constant(_WORD, 1)), looks)
    early = builder.icmp_signed("<", count, ir.Constant(_WORD, YIELDS))
    builder.cbranch(builder.and_(early, ir.Constant(ir.IntType(1), _POSIX)), yielding, sleeping)
    builder.position_at_end(yielding)
    if _POSIX:
        builder.call(libc_function(module, "sched_yield", _INT), [])
    builder.branch(loop)
    builder.position_at_end(sleeping)
    if _POSIX:
        sleep = libc_function(module, "nanosleep", _INT, _WORD.as_pointer(), _WORD.as_pointer())
        builder.call(sleep, [nap, ir.Constant(_WORD.as_pointer(), None)])
        slept = builder.load(word(builder, nap, 1))
        longer = builder.add(slept, slept)
        longest = ir.Constant(_WORD, LONGEST_NAP_NANOSECONDS)
        below = builder.icmp_signed("<", longer, longest)
        builder.store(builder.select(below, longer, longest), word(builder, nap, 1))
    builder.branch(loop)
    builder.position_at_end(done)
    builder.ret_void()
    return function


_CLAIM, _WAIT = "implicitop_solve_claimed", "implicitop_wait_until_solved"


class NativeFunctions(NamedTuple):
    """The addresses of this process's compiled functions of a job's address
    (``void f(int64 *job)``, but ``serve``: ``void *f(void *block)``, and ``publish``:
    ``void f(int64 *word, int64 value)``)."""

    #: Claim :data:`CHUNK` rows at a time and solve them, until none is left.
    claim: int
    #: Wait until every row is solved (:func:`wait_until_solved`).
    wait: int
    #: A helper thread's body (:func:`~implicitop._solvers.helper_pool.serve_function`).
    serve: int
    #: Post the job to its helpers, then claim rows of it.
    post: int
    #: Wait for its rows, then take it back from the helpers.
    release: int
    #: Publish the helpers' table to compiled callers
    #: (:func:`~implicitop._solvers.helper_pool.publish_function`).
    publish: int


@cache
def native_functions() -> NativeFunctions:
    """This process's functions that solve, share and wait for jobs, compiled once per
    process from LLVM IR (tens of milliseconds, where numba would take a few tenths of a
    second to compile them or to load them from its cache)."""
    context = cpu_target.target_context
    module = ir.Module(name="implicitop_claims")
    claim = _claiming_function(context, module, "external")
    wait = _waiting_function(module, "external")
    functions = (
        claim,
        wait,
        helper_pool.serve_function(module, claim),
        helper_pool.post_function(module, claim, _NAMING),
        helper_pool.release_function(module, wait, _NAMING),
        helper_pool.publish_function(module),
    )
    with global_compiler_lock:
        library = context.codegen().create_library("implicitop_claims")
        library.add_ir_module(module)
        library.finalize()
    _libraries.append(library)  # the machine code lives as long as the library
    return NativeFunctions(*(library.get_pointer_to_function(f.name) for f in functions))


@cache
def _call(name: str) -> Callable[[int], None]:
    """The function ``name`` of :func:`native_functions` (not ``serve``) as a ctypes
    function of a job's address."""
    return ctypes.CFUNCTYPE(None, ctypes.c_void_p)(getattr(native_functions(), name))


_libraries: list[object] = []


def share_job(words: np.ndarray) -> tuple[int, int]:
    """Name in the job ``words`` (:func:`job`) as many helper threads as its size calls
    for (:func:`~implicitop._solvers.parallel.helpers`; started where this process has
    fewer), and return the addresses of ``void post(int64 *job)`` and ``void
    release(int64 *job)``, which the caller calls (without the GIL): the first posts the
    job to the helpers that are idle and solves rows of it until none is left, the
    second waits for the rows the helpers claimed and takes the job back from them
    (:data:`NativeFunctions`). No helper touches the job after ``release``.

    The C op builds its large batches' jobs itself and calls this alone of Python."""
    native = native_functions()
    count = parallel.helpers(int(words[_SIZE]))
    table, helpers = helper_pool.helper_table(count, native.serve, native.publish)
    words[_HELPERS], words[_HELPER_COUNT] = table + 8, min(count, helpers)
    return native.post, native.release


def start_helpers(threads: int) -> None:
    """Start this process's helper threads for compiled callers that share large
    batches over ``threads`` threads (``threads - 1`` helpers; see
    :func:`solve_in_parts`), where it has fewer."""
    native = native_functions()
    helper_pool.helper_table(threads - 1, native.serve, native.publish)


def solve_shared(words: np.ndarray) -> None:
    """Solve the job ``words`` (:func:`job`) with as many helper threads as its size
    calls for (:func:`share_job`); it releases the GIL."""
    share_job(words)
    _call("post")(words.ctypes.data)
    _call("release")(words.ctypes.data)


def solve_claimed(words: np.ndarray) -> None:
    """Solve the rows of the job ``words`` (:func:`job`), :data:`CHUNK` at a time, each
    claimed from the job, until none is left. Threads that call it with the same job
    share the batch: whichever runs longest solves the most, and one that starts after
    every row is claimed returns at once. The caller waits for the rows the others
    claimed with :func:`wait_until_solved`. It releases the GIL."""
    _call("claim")(words.ctypes.data)


def wait_until_solved(words: np.ndarray) -> None:
    """Wait until every row of the job ``words`` is solved (:func:`solve_claimed`):
    at most the time the other threads take for the chunks they are solving."""
    _call("wait")(words.ctypes.data)
