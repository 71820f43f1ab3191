"""Native helper threads that share a large batch with the thread that calls for it.

Each helper is a POSIX thread started once per process (never a Python thread: it
needs no GIL to wake). It has a *block* of :data:`BLOCK_WORDS` int64 words: a slot,
a flag that says it sleeps, a count of the jobs it took, and a mutex and a condition
variable to sleep on. A
caller *posts* a job (:mod:`~implicitop._solvers.threads`) by writing its address
into the slots of the job's helpers that are idle, then claims the job's rows itself;
a helper takes a posted job (marking its slot busy), claims rows of it until none is
left and empties its slot. After waiting for the job's rows the caller *releases* it:
it takes the job back from every slot where no helper has taken it, and waits for
the helpers that did to let go (they have no rows left to solve), so no helper
touches a job after its call.

Waking a sleeping thread costs tens of microseconds on a virtual machine (more than
a tenth of a large batch's time on two threads), so a helper that has finished a
job looks for the next for :data:`SPIN_NANOSECONDS`, letting other threads run
between looks (``sched_yield``), before it sleeps: a model's next logp+dlogp call
comes within that, and a thread that needs the CPU gets it. Elsewhere than POSIX
systems there are no helpers, and the calling thread claims every row.

Compiled callers (the numba graph, the JAX foreign function), which run with no
Python around them, find the helpers at each call through two words whose address
they are given (:func:`caller_words`): the calls under way that share the threads, and
the address of the helpers' *table* (their number, then their blocks' addresses), 0
where the process has none, as in a forked child until it starts its own. The address
is stored after the table with release ordering (:func:`publish_function`) and read
with acquire ordering, so a caller that finds it finds the table's contents.
"""

from __future__ import annotations

import ctypes
import os
import sys
import threading
import time
from collections.abc import Callable

import numpy as np
from llvmlite import ir
from numba.core import cgutils

__all__ = [
    "BLOCK_WORDS",
    "CALLS",
    "POSIX",
    "SLEEPING",
    "SLOT",
    "SPIN_NANOSECONDS",
    "TABLE",
    "TAKEN",
    "caller_words",
    "helper_table",
    "job_function",
    "libc_function",
    "post_function",
    "publish_function",
    "release_function",
    "serve_function",
    "word",
]

#: Whether helper threads can be started (POSIX threads).
POSIX = os.name == "posix" and hasattr(time, "CLOCK_MONOTONIC")
#: The words of a helper's block: its slot (0 when idle, a job's address when one is
#: posted to it, that address plus one while it works on it), whether it sleeps, how
#: many jobs it has taken, and 128 bytes each for its mutex and condition variable
#: (``pthread_mutex_t`` and ``pthread_cond_t`` take 40-64 bytes on the systems numba
#: runs on).
SLOT, SLEEPING, TAKEN, _MUTEX, _CONDITION = 0, 1, 2, 3, 19
BLOCK_WORDS = 35
#: How long a helper looks for the next job after one before it sleeps.
SPIN_NANOSECONDS = 200_000
#: The words compiled callers read (:func:`caller_words`): the calls under way, and the
#: address of the helpers' table.
CALLS, TABLE = 0, 1

_WORD = ir.IntType(64)
_INT = ir.IntType(32)
_BYTES = ir.IntType(8).as_pointer()
_JOB_FUNCTION = ir.FunctionType(ir.VoidType(), [_WORD.as_pointer()])


def libc_function(
    module: ir.Module, name: str, returns: ir.Type, *arguments: ir.Type
) -> ir.Function:
    """The C library's function ``name`` of that signature, declared in ``module``."""
    return cgutils.get_or_insert_function(module, ir.FunctionType(returns, arguments), name)


def word(builder: ir.IRBuilder, words: ir.Value, index: int | ir.Value) -> ir.Value:
    """The address of word ``index`` of the int64 array at ``words``."""
    offset = ir.Constant(_WORD, index) if isinstance(index, int) else index
    return builder.gep(words, [offset])


def _area(builder: ir.IRBuilder, block: ir.Value, index: int) -> ir.Value:
    """The address of the mutex or condition variable at word ``index`` of a block."""
    return builder.bitcast(word(builder, block, index), _BYTES)


def _sleep_until_posted(builder: ir.IRBuilder, block: ir.Value, woken: ir.Block) -> None:
    """Emit: with the block's mutex held and its flag raised, wait on its condition
    variable while its slot is empty; then lower the flag, let go of the mutex and go
    on at ``woken``. A poster reads the flag after writing the slot, both in sequential
    consistency with the flag's raising and the slot's reading here, so either it sees
    the flag (and signals, under the mutex) or this thread sees the job."""
    module, function = builder.module, builder.function
    mutex, condition = _area(builder, block, _MUTEX), _area(builder, block, _CONDITION)
    builder.call(libc_function(module, "pthread_mutex_lock", _INT, _BYTES), [mutex])
    builder.store_atomic(ir.Constant(_WORD, 1), word(builder, block, SLEEPING), "seq_cst", 8)
    check, wait, up = (function.append_basic_block(name) for name in ("check", "wait", "up"))
    builder.branch(check)
    builder.position_at_end(check)
    slot = builder.load_atomic(word(builder, block, SLOT), "seq_cst", 8)
    builder.cbranch(builder.icmp_signed("==", slot, ir.Constant(_WORD, 0)), wait, up)
    builder.position_at_end(wait)
    condition_wait = libc_function(module, "pthread_cond_wait", _INT, _BYTES, _BYTES)
    builder.call(condition_wait, [condition, mutex])
    builder.branch(check)
    builder.position_at_end(up)
    builder.store_atomic(ir.Constant(_WORD, 0), word(builder, block, SLEEPING), "seq_cst", 8)
    builder.call(libc_function(module, "pthread_mutex_unlock", _INT, _BYTES), [mutex])
    builder.branch(woken)


def _nanoseconds(builder: ir.IRBuilder, clock: ir.Value) -> ir.Value:
    """Emit: the monotonic clock in nanoseconds (``clock``: two words for a timespec)."""
    gettime = libc_function(builder.module, "clock_gettime", _INT, _INT, _WORD.as_pointer())
    builder.call(gettime, [ir.Constant(_INT, time.CLOCK_MONOTONIC), clock])
    seconds, nanoseconds = (builder.load(word(builder, clock, i)) for i in (0, 1))
    return builder.add(builder.mul(seconds, ir.Constant(_WORD, 10**9)), nanoseconds)


def serve_function(module: ir.Module, claim: ir.Function) -> ir.Function:
    """``void *implicitop_serve(void *block)``, a helper thread's body: take each job
    posted to the block's slot (counting it) and ``claim`` its rows; look for the next for
    :data:`SPIN_NANOSECONDS` after each (and after starting), then sleep until one is
    posted. It never returns."""
    function = ir.Function(module, ir.FunctionType(_BYTES, [_BYTES]), "implicitop_serve")
    builder = ir.IRBuilder(function.append_basic_block("start"))
    block = builder.bitcast(function.args[0], _WORD.as_pointer())
    clock = builder.alloca(_WORD, 2)
    since = builder.alloca(_WORD)
    names = ("spin", "look", "take", "work", "idle", "yield", "sleep")
    spin, look, take, work, idle, yielding, sleep = map(function.append_basic_block, names)
    builder.branch(spin)
    builder.position_at_end(spin)
    builder.store(_nanoseconds(builder, clock), since)
    builder.branch(look)
    builder.position_at_end(look)
    posted = builder.load_atomic(word(builder, block, SLOT), "acquire", 8)
    one = ir.Constant(_WORD, 1)
    empty = builder.icmp_signed("==", posted, ir.Constant(_WORD, 0))
    busy = builder.icmp_signed("!=", builder.and_(posted, one), ir.Constant(_WORD, 0))
    builder.cbranch(builder.or_(empty, busy), idle, take)
    builder.position_at_end(take)
    swap = builder.cmpxchg(
        word(builder, block, SLOT), posted, builder.or_(posted, one), "acq_rel", "acquire"
    )
    builder.cbranch(builder.extract_value(swap, 1), work, look)
    builder.position_at_end(work)
    taken = word(builder, block, TAKEN)
    builder.store(builder.add(builder.load(taken), one), taken)
    builder.call(claim, [builder.inttoptr(posted, _WORD.as_pointer())])
    builder.store_atomic(ir.Constant(_WORD, 0), word(builder, block, SLOT), "release", 8)
    builder.branch(spin)
    builder.position_at_end(idle)
    waited = builder.sub(_nanoseconds(builder, clock), builder.load(since))
    soon = builder.icmp_signed("<", waited, ir.Constant(_WORD, SPIN_NANOSECONDS))
    builder.cbranch(soon, yielding, sleep)
    builder.position_at_end(yielding)
    builder.call(libc_function(module, "sched_yield", _INT), [])
    builder.branch(look)
    builder.position_at_end(sleep)
    _sleep_until_posted(builder, block, spin)
    return function


def _for_each_helper(
    builder: ir.IRBuilder, job: ir.Value, naming: tuple[int, int], body: Callable
) -> None:
    """Emit a loop over the blocks of the helpers the job names (``naming``: the job's
    words that hold the address of an int64 array of their blocks' addresses and how
    many of them it is posted to), calling ``body(builder, block, next)`` with the
    builder in the loop's body (``next``: the basic block that goes on to the next
    helper, which ``body`` must branch to)."""
    function = builder.function
    table = builder.inttoptr(builder.load(word(builder, job, naming[0])), _WORD.as_pointer())
    count = builder.load(word(builder, job, naming[1]))
    index = cgutils.alloca_once_value(builder, ir.Constant(_WORD, 0))
    test, run, advance, done = map(function.append_basic_block, ("test", "run", "next", "done"))
    builder.branch(test)
    builder.position_at_end(test)
    i = builder.load(index)
    builder.cbranch(builder.icmp_signed("<", i, count), run, done)
    builder.position_at_end(run)
    block = builder.inttoptr(builder.load(word(builder, table, i)), _WORD.as_pointer())
    body(builder, block, advance)
    builder.position_at_end(advance)
    builder.store(builder.add(i, ir.Constant(_WORD, 1)), index)
    builder.branch(test)
    builder.position_at_end(done)


def job_function(module: ir.Module, name: str, linkage: str) -> tuple[ir.Function, bool]:
    """The function ``void name(int64 *job)`` of ``module``, and whether it is new (its
    body still to be written)."""
    try:
        return module.get_global(name), False
    except KeyError:
        function = ir.Function(module, _JOB_FUNCTION, name)
        function.linkage = linkage
        return function, True


def publish_function(module: ir.Module) -> ir.Function:
    """``void implicitop_publish(int64 *word, int64 value)``: store ``value`` at ``word``
    with release ordering. A thread that reads the word with acquire ordering, as
    compiled callers read the address of the helpers' table, then sees every write made
    before it (the table's contents) on weakly ordered processors (aarch64) too, where
    two plain stores may be seen in either order."""
    signature = ir.FunctionType(ir.VoidType(), [_WORD.as_pointer(), _WORD])
    function = ir.Function(module, signature, "implicitop_publish")
    builder = ir.IRBuilder(function.append_basic_block("start"))
    builder.store_atomic(function.args[1], function.args[0], "release", 8)
    builder.ret_void()
    return function


def post_function(
    module: ir.Module, claim: ir.Function, naming: tuple[int, int], linkage: str = "external"
) -> ir.Function:
    """``void implicitop_post_and_claim(int64 *job)``, defined once in ``module``: post
    the job to each of its helpers (``naming``: see :func:`_for_each_helper`) that is
    idle, waking it if it sleeps, then ``claim`` rows of it."""
    function, new = job_function(module, "implicitop_post_and_claim", linkage)
    if not new:
        return function
    job = function.args[0]
    builder = ir.IRBuilder(function.append_basic_block("start"))
    address = builder.ptrtoint(job, _WORD)

    def post(builder: ir.IRBuilder, block: ir.Value, advance: ir.Block) -> None:
        slot = word(builder, block, SLOT)
        swap = builder.cmpxchg(slot, ir.Constant(_WORD, 0), address, "seq_cst", "seq_cst")
        check, wake = (builder.function.append_basic_block(n) for n in ("asleep", "wake"))
        builder.cbranch(builder.extract_value(swap, 1), check, advance)
        builder.position_at_end(check)
        asleep = builder.load_atomic(word(builder, block, SLEEPING), "seq_cst", 8)
        builder.cbranch(builder.icmp_signed("!=", asleep, ir.Constant(_WORD, 0)), wake, advance)
        builder.position_at_end(wake)
        mutex = _area(builder, block, _MUTEX)
        builder.call(libc_function(module, "pthread_mutex_lock", _INT, _BYTES), [mutex])
        signal = libc_function(module, "pthread_cond_signal", _INT, _BYTES)
        builder.call(signal, [_area(builder, block, _CONDITION)])
        builder.call(libc_function(module, "pthread_mutex_unlock", _INT, _BYTES), [mutex])
        builder.branch(advance)

    _for_each_helper(builder, job, naming, post)
    builder.call(claim, [job])
    builder.ret_void()
    return function


def release_function(
    module: ir.Module, wait: ir.Function, naming: tuple[int, int], linkage: str = "external"
) -> ir.Function:
    """``void implicitop_wait_and_release(int64 *job)``, defined once in ``module``:
    ``wait`` until the job's rows are solved, then take it back from each of its helpers
    (``naming``: see :func:`_for_each_helper`) that has not taken it, and wait for each
    that has to let go of it."""
    function, new = job_function(module, "implicitop_wait_and_release", linkage)
    if not new:
        return function
    job = function.args[0]
    builder = ir.IRBuilder(function.append_basic_block("start"))
    builder.call(wait, [job])
    address = builder.ptrtoint(job, _WORD)
    working = builder.or_(address, ir.Constant(_WORD, 1))

    def release(builder: ir.IRBuilder, block: ir.Value, advance: ir.Block) -> None:
        slot = word(builder, block, SLOT)
        swap = builder.cmpxchg(slot, address, ir.Constant(_WORD, 0), "acq_rel", "acquire")
        holding, letting_go = (builder.function.append_basic_block(n) for n in ("held", "yield"))
        builder.cbranch(builder.extract_value(swap, 1), advance, holding)
        builder.position_at_end(holding)
        now = builder.load_atomic(slot, "acquire", 8)
        builder.cbranch(builder.icmp_signed("==", now, working), letting_go, advance)
        builder.position_at_end(letting_go)
        builder.call(libc_function(module, "sched_yield", _INT), [])
        builder.branch(holding)

    _for_each_helper(builder, job, naming, release)
    builder.ret_void()
    return function


class _Pool:
    """This process's helpers: their blocks (each an int64 array that lives as long as
    the process) and their table (their number, then the blocks' addresses)."""

    def __init__(self) -> None:
        self.process = os.getpid()
        self.blocks: list[np.ndarray] = []
        self.tables = [np.zeros(1, dtype=np.int64)]  # a job may still point to an older one
        #: The address of the newest table and the number of helpers it names.
        self.published = (self.tables[0].ctypes.data, 0)
        self.lock = threading.Lock()
        #: The most helpers this process has: fewer once the system refused a thread.
        self.most = sys.maxsize

    def grow(self, count: int, serve: int, publish: int) -> None:
        """Start helpers, each running the function at the address ``serve`` on a block
        of its own, until there are ``count`` (or the system refuses a thread: then no
        more are asked for), and publish their table to compiled callers with the
        function at the address ``publish`` (:func:`publish_function`)."""
        libc = ctypes.CDLL(None)
        with self.lock:
            count = min(count, self.most)
            if len(self.blocks) >= count:
                return
            while len(self.blocks) < count:
                block = np.zeros(BLOCK_WORDS, dtype=np.int64)
                libc.pthread_mutex_init(ctypes.c_void_p(block[_MUTEX:].ctypes.data), None)
                libc.pthread_cond_init(ctypes.c_void_p(block[_CONDITION:].ctypes.data), None)
                handle = ctypes.c_uint64(0)  # pthread_t: an integer or a pointer
                body, argument = ctypes.c_void_p(serve), ctypes.c_void_p(block.ctypes.data)
                started = libc.pthread_create(ctypes.byref(handle), None, body, argument)
                if started != 0:
                    self.most = len(self.blocks)
                    break
                libc.pthread_detach(handle)
                self.blocks.append(block)
            addresses = [block.ctypes.data for block in self.blocks]
            table = np.array([len(addresses), *addresses], dtype=np.int64)
            self.tables.append(table)
            self.published = (table.ctypes.data, len(addresses))
            store = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_int64)(publish)
            store(_caller_words[TABLE:].ctypes.data, table.ctypes.data)


_pool: _Pool | None = None
_creating = threading.Lock()
#: This process's words for compiled callers (see :func:`caller_words`).
_caller_words = np.zeros(2, dtype=np.int64)


def _forget_in_child() -> None:
    """What a forked child must not take from its parent: the parent's lock (a thread
    the child does not have may have held it), its helpers' table (the child has none
    of their threads, and their mutexes may have been held) and its count of calls
    under way."""
    global _creating
    _creating = threading.Lock()
    _caller_words[:] = 0


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_in_child)


def caller_words() -> int:
    """The address of this process's two words for compiled callers, which they read
    at each call: at :data:`CALLS` the number of calls under way that share its threads
    (each call adds itself), at :data:`TABLE` the address of its helpers' table (their
    number, then their blocks' addresses; 0 where it has none). Compiled code, cached
    on disk, holds no address of a process: it is given this one."""
    return _caller_words.ctypes.data


def helper_table(count: int, serve: int, publish: int) -> tuple[int, int]:
    """The address of this process's table of helpers (their number, then their
    blocks' addresses) and their number, ``count`` at least where they can be started
    (the function at ``serve`` is their body, see :func:`serve_function`; the one at
    ``publish`` publishes their table, see :func:`publish_function`); a forked child
    starts its own (it has none of its parent's threads)."""
    global _pool
    pool = _pool
    if pool is None or pool.process != os.getpid():
        with _creating:
            if _pool is None or _pool.process != os.getpid():
                _pool = _Pool()
            pool = _pool
    if POSIX and len(pool.blocks) < min(count, pool.most):
        pool.grow(count, serve, publish)
    return pool.published
