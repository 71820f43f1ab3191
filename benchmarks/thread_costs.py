"""What a second thread adds on the data-sized model's batch: one thread against two.

Run ``python benchmarks/thread_costs.py [rounds]``. The data-sized model's 10,000 rows
(theta = 1.3, the full solver) are solved by the compiled solver directly, with no
Python between the threads' starts: one thread on the whole batch; two threads, each
on its own half; two threads sharing the batch the way the op's large batches are
shared (:func:`~implicitop._solvers.threads.solve_claimed`); and two threads each on a
whole batch of its own. The two threads live for the whole run and start each round
together (a barrier). It prints, in microseconds, the median wall time of a round,
the threads' times from start to end and their CPU times (each summed over the
threads): where the two threads' CPU exceeds the one thread's, they slow each other;
where their times exceed their CPU, they waited for a CPU. It fails if any setting's roots
differ in a bit from one thread's.
"""

from __future__ import annotations

import statistics
import sys
import threading
import time
from collections.abc import Callable

import numpy as np
import run

from implicitop._solvers import threads

ROWS = 10_000


def batch(
    full_solver: bool,
) -> tuple[Callable[..., None], np.ndarray, Callable[..., np.ndarray]]:
    """The solve of parameter rows into roots and codes with the data-sized model's
    solver (the full one if ``full_solver``, else the tier in use), the model's rows
    (``ROWS``, 2) at theta = 1.3, and the job of solving rows into roots and codes
    (:func:`~implicitop._solvers.threads.job`)."""
    op = run.data_op()
    if full_solver:
        run.measured(op)
    solver = op.solver
    kernels, record = solver.kernels, solver.record
    rows = np.stack([np.full(ROWS, 1.3), np.linspace(0.5, 5.0, ROWS)], axis=1)

    def solve(part: np.ndarray, root: np.ndarray, code: np.ndarray) -> None:
        kernels.solve(part, record, root, code)

    def entry(part: np.ndarray, root: np.ndarray, code: np.ndarray) -> np.ndarray:
        return threads.job(kernels.entry_cell, part, record, root, code)

    return solve, rows, entry


def timed_rounds(
    work: list[Callable[[], None]], rounds: int, before: Callable[[], None] = lambda: None
) -> tuple[float, float, float]:
    """Median wall time of a round in which each of ``work`` runs on a thread of its
    own, all started together (after ``before``), and the medians of the threads' times
    from start to end and of their CPU times, each summed over the threads (seconds):
    where the first sum exceeds the second, a thread waited for a CPU."""
    count = len(work)
    start, end = threading.Barrier(count + 1), threading.Barrier(count + 1)
    used: list[list[float]] = [[] for _ in work]
    marks: list[list[tuple[float, float]]] = [[] for _ in work]

    def serve(index: int) -> None:
        for _ in range(rounds):
            start.wait()
            begin, cpu = time.perf_counter(), time.thread_time()
            work[index]()
            used[index].append(time.thread_time() - cpu)
            marks[index].append((begin, time.perf_counter()))
            end.wait()

    workers = [threading.Thread(target=serve, args=(i,)) for i in range(count)]
    for worker in workers:
        worker.start()
    for _ in range(rounds):
        before()
        start.wait()
        end.wait()  # the round is over before the next is prepared
    for worker in workers:
        worker.join()
    walls = [
        max(marks[i][r][1] for i in range(count)) - min(marks[i][r][0] for i in range(count))
        for r in range(rounds)
    ]
    spent = [sum(marks[i][r][1] - marks[i][r][0] for i in range(count)) for r in range(rounds)]
    cpu = [sum(used[i][r] for i in range(count)) for r in range(rounds)]
    return statistics.median(walls), statistics.median(spent), statistics.median(cpu)


def outputs() -> tuple[np.ndarray, np.ndarray]:
    """Roots and status codes for ``ROWS`` rows."""
    return np.empty((ROWS, 1)), np.empty(ROWS, dtype=np.int8)


def main(rounds: int = 300, full_solver: bool = True) -> None:
    """Print the table, each setting timed over ``rounds`` rounds (on the full solver,
    unless ``full_solver`` is false: a smoke run). Raises ``AssertionError`` where a
    setting's roots differ in a bit from one thread's."""
    solve, rows, entry = batch(full_solver)
    alone, halved, shared_out = outputs(), outputs(), outputs()
    own = [outputs(), outputs()]
    halves = [slice(0, ROWS // 2), slice(ROWS // 2, ROWS)]
    job = [entry(rows, *shared_out)]

    def new_job() -> None:  # a job's rows are claimed once: a new one for each round
        job[0] = entry(rows, *shared_out)

    def shared() -> None:
        threads.solve_claimed(job[0])
        threads.wait_until_solved(job[0])

    def half_of(half: slice) -> Callable[[], None]:
        return lambda: solve(rows[half], halved[0][half], halved[1][half])

    settings = {
        "one thread, the whole batch": ([lambda: solve(rows, *alone)], lambda: None),
        "two threads, each its own half": ([half_of(h) for h in halves], lambda: None),
        "two threads sharing the batch (solve_claimed)": ([shared, shared], new_job),
        "two threads, each a whole batch of its own": (
            [lambda i=i: solve(rows, *own[i]) for i in range(2)],
            lambda: None,
        ),
    }
    print("| setting | wall (us) | the threads' times (us) | their CPU (us) |")
    print("|---|---|---|---|")
    for name, (work, before) in settings.items():
        wall, spent, cpu = timed_rounds(work, rounds, before)
        print(f"| {name} | {wall * 1e6:.0f} | {spent * 1e6:.0f} | {cpu * 1e6:.0f} |")
    for root, _ in (halved, shared_out, *own):
        assert root.tobytes() == alone[0].tobytes(), "a setting's roots differ from one thread's"


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 300)
