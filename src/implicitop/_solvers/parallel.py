"""Large batches of elements solved on every core, by threads that share them.

The compiled solver releases the GIL, so threads of one process run it side by
side. Elements are independent and every element takes the same steps whichever
thread solves it, so results are identical, bit for bit, whatever the number of
threads. The number of threads is ``$IMPLICITOP_NUM_THREADS`` or, by default, the
CPUs this process may use; with several sampler processes on a small machine, set it
to 1.

The C op, Python's callers (:meth:`~implicitop._solvers.solver.Solver.solve_flat`)
and the compiled callers (the numba graph, the JAX foreign function) share a batch
with native helper threads that live as long as the process
(:mod:`~implicitop._solvers.helper_pool`); a forked child's compiled callers start
threads for each call until the child has helpers of its own
(:mod:`~implicitop._solvers.threads`).
"""

from __future__ import annotations

import os

__all__ = [
    "MIN_PART",
    "THREADED_FROM",
    "helpers",
    "sharing_threads",
    "thread_count",
]

#: Fewest elements per thread that shares a batch (waking a thread costs tens of
#: microseconds).
MIN_PART = 2048
#: Fewest elements shared by threads: two threads' worth.
THREADED_FROM = 2 * MIN_PART


def thread_count() -> int:
    """``$IMPLICITOP_NUM_THREADS`` if set, else the CPUs this process may use."""
    setting = os.environ.get("IMPLICITOP_NUM_THREADS")
    if setting is not None:
        try:
            count = int(setting)
        except ValueError:
            raise ValueError(
                f"IMPLICITOP_NUM_THREADS must be a positive integer, got {setting!r}"
            ) from None
        if count < 1:
            raise ValueError(f"IMPLICITOP_NUM_THREADS must be a positive integer, got {count}")
        return count
    return (
        len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    )


def sharing_threads(size: int, threads: int) -> int:
    """How many of ``threads`` threads share a batch of ``size`` elements: each has
    :data:`MIN_PART` elements at least, and a batch below :data:`THREADED_FROM` has
    one (plain arithmetic: compiled callers use it too, see
    :mod:`~implicitop._solvers.threads`)."""
    if size < THREADED_FROM:
        return 1
    return max(1, min(threads, size // MIN_PART))


def helpers(size: int) -> int:
    """How many helper threads share a batch of ``size`` elements with the calling
    thread (:func:`sharing_threads` of :func:`thread_count`, less the caller)."""
    return sharing_threads(size, thread_count()) - 1
