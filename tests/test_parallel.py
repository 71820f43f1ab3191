"""Large batches run on several threads with the same results as one."""

import ctypes
import multiprocessing
import os
import threading
import time

import numba
import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest

from catalogue import SYSTEMS, build_seed, seed_root
from implicitop._solvers import helper_pool, parallel
from implicitop._solvers.threads import (
    JOB_LAYOUT,
    job,
    native_functions,
    solve_in_parts,
    wait_until_solved,
)


@pytest.mark.parametrize(
    ("size", "threads", "expected"),
    [
        (0, 8, 1),
        (4095, 8, 1),  # below THREADED_FROM: the caller alone
        (4096, 8, 2),  # two of MIN_PART
        (10_000, 1, 1),
        (10_000, 2, 2),
        (10_000, 8, 4),  # no thread with fewer than MIN_PART elements
        (65_537, 3, 3),
    ],
)
def test_threads_share_a_batch_only_with_enough_elements_each(size, threads, expected):
    assert parallel.sharing_threads(size, threads) == expected


def solve_with_threads(monkeypatch, threads: int, solve):
    monkeypatch.setenv("IMPLICITOP_NUM_THREADS", str(threads))
    return solve()


def test_results_do_not_depend_on_the_thread_count(monkeypatch):
    op = build_seed()
    rng = np.random.default_rng(5)
    # log-uniform thetas: both solver phases, plus elements that fail
    thetas = np.exp(rng.uniform(np.log(1e-3), np.log(1e3), 50_000))
    thetas[::997] = np.nan
    results = [
        solve_with_threads(monkeypatch, threads, lambda: op.solve(thetas)) for threads in (1, 2, 3)
    ]
    for other in results[1:]:
        np.testing.assert_array_equal(other.root, results[0].root)
        np.testing.assert_array_equal(other.status, results[0].status)
    sample = slice(1, None, 4999)
    np.testing.assert_allclose(
        results[1].root[sample], [seed_root(t) for t in thetas[sample]], rtol=1e-13
    )
    assert np.isnan(results[1].root[::997]).all()


def test_systems_solve_on_several_threads_alike(monkeypatch):
    op = SYSTEMS[0].build()
    rng = np.random.default_rng(6)
    radii, slopes = rng.uniform(0.5, 2.0, 20_000), rng.uniform(0.1, 10.0, 20_000)
    one = solve_with_threads(monkeypatch, 1, lambda: op.solve(radii, slopes))
    two = solve_with_threads(monkeypatch, 2, lambda: op.solve(radii, slopes))
    np.testing.assert_array_equal(one.root, two.root)
    np.testing.assert_allclose(one.root[:, 0], radii / np.sqrt(1 + slopes**2), rtol=1e-10)


def test_solves_from_several_caller_threads_at_once_agree():
    op = build_seed()
    thetas = np.geomspace(1e-3, 1e3, 20_000)
    expected = op.solve(thetas).root
    results = [None] * 4

    def work(i: int) -> None:
        results[i] = op.solve(thetas).root

    workers = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    for result in results:
        np.testing.assert_array_equal(result, expected)


def _post_and_release(words: np.ndarray) -> None:
    """The native functions that post a job to its helpers and claim its rows, then
    wait for them and take it back."""
    native = native_functions()
    prototype = ctypes.CFUNCTYPE(None, ctypes.c_void_p)
    prototype(native.post)(words.ctypes.data)
    prototype(native.release)(words.ctypes.data)


def test_a_batch_is_taken_back_from_helpers_that_are_busy_or_do_not_wake():
    # Two helper blocks no thread serves: one busy with another job, which is left
    # alone, and one idle, which is posted the job and never takes it; the caller
    # claims every row, takes the job back and returns with a one-thread solve's roots.
    op = build_seed()
    thetas = np.geomspace(1e-3, 1e3, 3 * parallel.THREADED_FROM)
    expected = op.solve(thetas)
    solver = op.solver
    rows = thetas.reshape(-1, 1).copy()
    root, code = np.full((rows.shape[0], 1), np.nan), np.zeros(rows.shape[0], np.int8)
    words = job(solver.kernels.entry_cell, rows, solver.record, root, code)
    busy, idle = (
        np.zeros(helper_pool.BLOCK_WORDS, np.int64),
        np.zeros(helper_pool.BLOCK_WORDS, np.int64),
    )
    busy[helper_pool.SLOT] = 1  # another job's address, plus one: busy with it
    table = np.array([busy.ctypes.data, idle.ctypes.data], dtype=np.int64)
    words[JOB_LAYOUT["HELPERS"]], words[JOB_LAYOUT["HELPER_COUNT"]] = table.ctypes.data, 2
    _post_and_release(words)
    np.testing.assert_array_equal(root[:, 0], expected.root)
    np.testing.assert_array_equal(code, expected.status)
    assert busy[helper_pool.SLOT] == 1 and idle[helper_pool.SLOT] == 0
    assert words[JOB_LAYOUT["SOLVED"]] == rows.shape[0]


def test_helper_threads_sleep_once_no_batch_comes(monkeypatch):
    # A helper looks for the next batch for a fraction of a millisecond after one (a
    # model's next call comes within that), then sleeps: the process then uses no CPU.
    monkeypatch.setenv("IMPLICITOP_NUM_THREADS", "3")
    op = build_seed()
    thetas = np.geomspace(1e-3, 1e3, 3 * parallel.THREADED_FROM)
    op.solve(thetas)
    time.sleep(0.05)
    wall, cpu = time.perf_counter(), time.process_time()
    time.sleep(0.3)
    used = time.process_time() - cpu
    assert used < 0.03, f"{used:.3f} CPU seconds in {time.perf_counter() - wall:.3f} s asleep"


def test_a_long_wait_for_other_threads_sleeps():
    # A thread waiting for chunks another thread has claimed looks again at once for a
    # while, then sleeps between looks, longer each time: waiting 0.2 s costs a tenth of
    # that in CPU at most.
    size = 10
    rows, root = np.ones((size, 1)), np.empty((size, 1))
    words = job(np.zeros(1, np.int64), rows, np.ones(3), root, np.empty(size, np.int8))
    solved = JOB_LAYOUT["SOLVED"]
    words[solved] = size
    wait_until_solved(words)  # built once per process: not part of the wait
    words[solved] = size - 1  # one row still being solved elsewhere

    def finish() -> None:
        time.sleep(0.2)
        words[solved] = size

    finisher = threading.Thread(target=finish)
    start, cpu = time.perf_counter(), time.thread_time()
    finisher.start()
    wait_until_solved(words)
    waited, used = time.perf_counter() - start, time.thread_time() - cpu
    finisher.join()
    assert waited >= 0.2
    assert used < 0.02, f"{used:.3f} CPU seconds of {waited:.3f} waiting"


def _large_solve_in_a_child(op, numba_roots, thetas, queue) -> None:
    inherited = helper_pool._caller_words.copy()
    roots = [numba_roots(thetas)]  # no helpers yet: threads started for the call
    roots.append(op.solve(thetas).root)  # the C op's path starts the child's helpers
    roots.append(numba_roots(thetas))  # which the numba graph then posts to
    pool = helper_pool._pool
    published = helper_pool._caller_words[helper_pool.TABLE] == pool.published[0]
    queue.put((roots, len(pool.blocks), pool.process == os.getpid(), inherited, published))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork here")
def test_a_forked_child_shares_large_batches_with_helpers_of_its_own(monkeypatch):
    # PyMC's samplers may fork a process whose helper threads are already running: the
    # child has none of them, and starts its own. The op is built and compiled before
    # the fork, so the child only solves. Compiled callers in the child (a numba graph
    # compiled before the fork) do not see the parent's helpers (nor its calls under
    # way), and see the child's once it has them.
    monkeypatch.setenv("IMPLICITOP_NUM_THREADS", "2")
    op = build_seed()
    thetas = np.geomspace(1e-3, 1e3, 3 * parallel.THREADED_FROM)
    expected = op.solve(thetas).root  # the parent's helpers are running
    values = pt.dvector("values")
    numba_roots = pytensor.function([values], op(values), mode="NUMBA")
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_large_solve_in_a_child, args=(op, numba_roots, thetas, queue))
    child.start()
    try:
        roots, helpers, its_own, inherited, published = queue.get(timeout=120)
        child.join(timeout=60)
    finally:
        child.kill()
    assert child.exitcode == 0
    for root in roots:
        np.testing.assert_array_equal(root.reshape(expected.shape), expected)
    assert helpers == 1 and its_own  # its own helper, not the parent's (which it lacks)
    assert helper_pool._caller_words[helper_pool.TABLE] != 0  # the parent's, published
    assert list(inherited) == [0, 0] and published


@pytest.mark.parametrize("setting", ["0", "two", "-1"])
def test_a_bad_thread_setting_gets_a_clear_error(monkeypatch, setting):
    monkeypatch.setenv("IMPLICITOP_NUM_THREADS", setting)
    with pytest.raises(ValueError, match="IMPLICITOP_NUM_THREADS must be a positive integer"):
        build_seed().solve(np.ones(10_000))


@numba.njit(nogil=True)
def solve_rows_in_parts(cell, threads, shared, rows, record, root, code):
    """:func:`~implicitop._solvers.threads.solve_in_parts` on arrays, as compiled callers
    call it."""
    solve_in_parts(
        cell, threads, shared, rows.shape[0], rows.ctypes.data, record.ctypes.data, record.shape[0],
        root.ctypes.data, code.ctypes.data, rows.shape[1], root.shape[1],
    )  # fmt: skip


def test_the_helpers_table_is_published_to_compiled_callers_by_a_release_store():
    native = native_functions()
    word = np.zeros(3, dtype=np.int64)
    store = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_int64)(native.publish)
    store(word[1:].ctypes.data, -(2**62) - 5)
    np.testing.assert_array_equal(word, [0, -(2**62) - 5, 0])  # that word alone, all 64 bits
    table, count = helper_pool.helper_table(2, native.serve, native.publish)
    words = np.ctypeslib.as_array((ctypes.c_int64 * 2).from_address(helper_pool.caller_words()))
    assert words[helper_pool.TABLE] == table
    listed = np.ctypeslib.as_array((ctypes.c_int64 * (1 + count)).from_address(table))
    assert listed[0] == count >= 2


def _pool_words(helpers: bool) -> np.ndarray:
    """Words for compiled callers (:func:`~implicitop._solvers.helper_pool.caller_words`)
    with no call under way, and this process's helpers (two at least) or none (as a
    forked child's before it starts its own: then threads are started for each call)."""
    if not helpers:
        return np.zeros(2, dtype=np.int64)
    native = native_functions()
    table, _ = helper_pool.helper_table(2, native.serve, native.publish)
    return np.array([0, table], np.int64)


@pytest.mark.parametrize("helpers", [True, False], ids=["helper threads", "threads per call"])
@pytest.mark.parametrize("problem", ["seed", "circle and line"])
def test_compiled_callers_spread_large_batches_over_threads_alike(problem, helpers):
    """The numba graph and the JAX foreign function cut a batch into the parts Python
    does and solve them with the process's helper threads, or threads they start where
    it has none: the same roots and statuses, bit for bit, as Python's solve, for any
    number of threads and a size no part divides."""
    rng = np.random.default_rng(7)
    size = 3 * parallel.THREADED_FROM + 17
    if problem == "seed":
        op = build_seed()
        rows = np.exp(rng.uniform(np.log(1e-3), np.log(1e3), (size, 1)))
        rows[::997] = np.nan
    else:
        op = SYSTEMS[0].build()
        rows = np.column_stack([rng.uniform(0.5, 2.0, size), rng.uniform(0.1, 10.0, size)])
    expected = op.solve(*rows.T)
    kernels, record = op.solver.kernels, op.solver.record
    shared = _pool_words(helpers)  # with calls under way (others' are simulated)
    for threads, others in [(1, 0), (2, 0), (3, 0), (8, 0), (8, 1), (8, 7)]:
        root = np.full((size, op.problem.size), -1.0)
        code = np.full(size, -1, dtype=np.int8)
        shared[helper_pool.CALLS] = others
        cell = kernels.entry_cell.ctypes.data
        solve_rows_in_parts(cell, threads, shared.ctypes.data, rows, record, root, code)
        np.testing.assert_array_equal(root.reshape(expected.root.shape), expected.root)
        np.testing.assert_array_equal(code, expected.status)
        assert shared[helper_pool.CALLS] == others  # the call counted itself in and out


@pytest.mark.parametrize("helpers", [True, False], ids=["helper threads", "threads per call"])
def test_compiled_callers_on_several_threads_at_once_agree(helpers):
    """Calls under way at the same time (nutpie's chains, without the interpreter lock)
    share the threads: each gets the roots it gets alone, and the count of calls under
    way is back at 0 after them."""
    op = build_seed()
    thetas = np.geomspace(1e-3, 1e3, 3 * parallel.THREADED_FROM + 5).reshape(-1, 1)
    expected = op.solve(thetas[:, 0])
    kernels, record = op.solver.kernels, op.solver.record
    shared = _pool_words(helpers)
    roots = [np.empty((thetas.shape[0], 1)) for _ in range(4)]
    codes = [np.empty(thetas.shape[0], dtype=np.int8) for _ in range(4)]

    def work(i: int) -> None:
        for _ in range(5):
            solve_rows_in_parts(
                kernels.entry_cell.ctypes.data, 2, shared.ctypes.data, thetas, record,
                roots[i], codes[i],
            )  # fmt: skip

    workers = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    for root, code in zip(roots, codes, strict=True):
        np.testing.assert_array_equal(root[:, 0], expected.root)
        np.testing.assert_array_equal(code, expected.status)
    assert shared[helper_pool.CALLS] == 0
