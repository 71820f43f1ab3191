"""Large batches of elements solved on every core, by threads over contiguous parts.

The compiled solver releases the GIL, so threads of one process run it side by
side. Elements are independent and every element takes the same steps whichever
part it is in, so results are identical, bit for bit, whatever the number of
threads. The number of threads is ``$IMPLICITOP_NUM_THREADS`` or, by default, the
CPUs this process may use; with several sampler processes on a small machine, set it
to 1.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

__all__ = ["MIN_PART", "THREADED_FROM", "part_length", "parts", "run_in_parts", "thread_count"]

#: Fewest elements worth a thread of their own (a thread costs tens of microseconds).
MIN_PART = 2048
#: Fewest elements split over threads: two parts.
THREADED_FROM = 2 * MIN_PART

_executor: tuple[tuple[int, int], ThreadPoolExecutor] | None = None


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


def part_length(size: int, threads: int, align: int) -> int:
    """The length of the parts :func:`parts` cuts ``range(size)`` (``size`` > 0) into,
    the last one excepted (plain arithmetic: compiled callers use it too, see
    :mod:`~implicitop._solvers.threads`)."""
    count = max(1, min(threads, size // MIN_PART))
    step = -(-size // count)
    return -(-step // align) * align


def parts(size: int, threads: int, align: int) -> list[tuple[int, int]]:
    """``[start, stop)`` ranges covering ``range(size)`` (``size`` > 0): at most
    ``threads`` of them, none shorter than :data:`MIN_PART` unless there is one,
    boundaries multiples of ``align``."""
    step = part_length(size, threads, align)
    return [(start, min(start + step, size)) for start in range(0, size, step)]


def _pool(threads: int) -> ThreadPoolExecutor:
    """This process's pool of ``threads`` threads (a forked child makes its own)."""
    global _executor
    key = (os.getpid(), threads)
    if _executor is None or _executor[0] != key:
        _executor = (key, ThreadPoolExecutor(threads, "implicitop"))
    return _executor[1]


def run_in_parts(function: Callable[[int, int], None], size: int, align: int) -> None:
    """Call ``function(start, stop)`` over :func:`parts` of ``range(size)``: the first
    part in this thread, the others in the pool, side by side."""
    threads = thread_count()
    first, *others = parts(size, threads, align)
    futures = [_pool(threads).submit(function, *bounds) for bounds in others]
    function(*first)
    for future in futures:
        future.result()
