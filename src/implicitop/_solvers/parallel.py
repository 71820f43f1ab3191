"""Large batches of elements solved on every core, by threads that share them.

The compiled solver releases the GIL, so threads of one process run it side by
side. Elements are independent and every element takes the same steps whichever
thread solves it, so results are identical, bit for bit, whatever the number of
threads. The number of threads is ``$IMPLICITOP_NUM_THREADS`` or, by default, the
CPUs this process may use; with several sampler processes on a small machine, set it
to 1.

The C op and Python's callers (:meth:`~implicitop._solvers.solver.Solver.solve_flat`)
hand a batch to :func:`run_beside`'s helper threads, which live as long as the
process and wait for work on a queue; the compiled callers start threads of their own
(:mod:`~implicitop._solvers.threads`).
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Callable

__all__ = [
    "MIN_PART",
    "THREADED_FROM",
    "helpers",
    "raise_helper_errors",
    "run_beside",
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


class _Helpers:
    """Threads that run the functions put on their queue, for the life of the process
    (a forked child starts its own): a waiting thread takes a function off a queue in
    a few microseconds, where starting a thread or a pool's future costs tens."""

    def __init__(self) -> None:
        self.process = os.getpid()
        self.tasks: queue.SimpleQueue = queue.SimpleQueue()
        self.errors: list[BaseException] = []
        self.threads: list[threading.Thread] = []
        self.lock = threading.Lock()

    def at_least(self, count: int) -> None:
        """Start threads until there are ``count``."""
        with self.lock:
            while len(self.threads) < count:
                thread = threading.Thread(
                    target=self._serve, name=f"implicitop-{len(self.threads)}", daemon=True
                )
                thread.start()
                self.threads.append(thread)

    def _serve(self) -> None:
        while True:
            function, arguments = self.tasks.get()
            try:
                function(*arguments)
            except BaseException as error:  # raised in the caller (raise_helper_errors)
                self.errors.append(error)


_helpers: _Helpers | None = None
_creating = threading.Lock()


def _new_lock_in_child() -> None:
    """A forked child's own lock: the parent's may have been held by a thread the child
    does not have."""
    global _creating
    _creating = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_new_lock_in_child)


def _this_process_helpers() -> _Helpers:
    """This process's helpers, made by the first caller (a forked child makes its own)."""
    global _helpers
    helping = _helpers
    if helping is not None and helping.process == os.getpid():
        return helping
    with _creating:
        if _helpers is None or _helpers.process != os.getpid():
            _helpers = _Helpers()
        return _helpers


def run_beside(function: Callable[..., None], arguments: tuple, count: int) -> None:
    """Have ``count`` helper threads call ``function(*arguments)`` (each as soon as it
    is free); :func:`raise_helper_errors` reports what they raise."""
    helping = _this_process_helpers()
    helping.at_least(count)
    for _ in range(count):
        helping.tasks.put((function, arguments))


def raise_helper_errors() -> None:
    """Raise the first error a helper thread met in a function :func:`run_beside`
    handed it (a defect of implicitop: the caller's work is complete without it)."""
    helping = _this_process_helpers()
    if helping.errors:
        error = helping.errors.pop(0)
        helping.errors.clear()
        raise RuntimeError(f"a helper thread failed: {type(error).__name__}: {error}") from error
