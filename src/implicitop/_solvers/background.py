"""Full solvers compiled in a worker process, one at a time, at a low priority.

A new problem is solved at once by the shared solver (see
:mod:`~implicitop._solvers.compiled`); its full solver, 1.5-2 times as fast but several
seconds to compile, is compiled here into numba's disk cache by a separate
Python process (``python -m implicitop._solvers.background <module>``) at a low
priority, so the compilation neither holds this process's interpreter nor slows its
work much. When it is done, the caller loads the machine code from the cache and
switches over; results are the same bit for bit.

Set ``IMPLICITOP_BACKGROUND_COMPILE=0`` to compile nothing in the background: the
shared solver is then used until the full one is asked for (``op.solver.kernels.c_address``
loads or compiles it).
``IMPLICITOP_BACKGROUND_NICENESS`` sets the worker's niceness (default :data:`NICENESS`;
0 for as soon as possible, beside work of the same priority).
"""

from __future__ import annotations

import atexit
import os
import queue
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

__all__ = ["NICENESS", "enabled", "finished_marker", "main", "niceness", "submit"]

_jobs: queue.Queue[tuple[Callable[[], Path], Callable[[str | None], None]]] = queue.Queue()
_worker: tuple[int, threading.Thread] | None = None
_running: subprocess.Popen | None = None
_stopping = False
_lock = threading.Lock()


def enabled() -> bool:
    """Whether full solvers are compiled in the background (``$IMPLICITOP_BACKGROUND_COMPILE``
    is not ``0``)."""
    return os.environ.get("IMPLICITOP_BACKGROUND_COMPILE", "1") != "0"


def finished_marker(path: Path) -> Path:
    """The file that says the full solver of the module at ``path`` is in the disk cache."""
    return path.with_suffix(".full")


def submit(module_file: Callable[[], Path], done: Callable[[str | None], None]) -> None:
    """Compile the full solver of the generated module ``module_file()`` (called when
    its turn comes: it writes the file again if it was evicted meanwhile) in a worker
    process, after those submitted before; then call ``done(None)``, or ``done(error)``
    with the worker's last words if it failed."""
    global _worker
    with _lock:
        if _worker is None or _worker[0] != os.getpid() or not _worker[1].is_alive():
            thread = threading.Thread(target=_work, name="implicitop-compile", daemon=True)
            _worker = (os.getpid(), thread)
            thread.start()
    _jobs.put((module_file, done))


#: The worker's niceness: below the caller's work, but not starved by it (at 19 a
#: sampler busy on every core would leave it almost no time).
NICENESS = 10


def _work() -> None:
    global _running
    while True:
        module_file, done = _jobs.get()
        try:
            path = module_file()
        except OSError as error:
            done(f"{type(error).__name__}: {error}")
            continue
        if finished_marker(path).exists():  # compiled meanwhile, here or elsewhere
            done(None)
            continue
        command = [sys.executable, "-m", "implicitop._solvers.background", str(path)]
        try:
            with _lock:
                _running = subprocess.Popen(
                    command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
                )
            _, errors = _running.communicate()
            status = _running.returncode
        except OSError as error:
            status, errors = None, str(error)
        with _lock:
            _running = None
            if _stopping:  # killed as this process ends: nothing to report
                return
        lines = errors.strip().splitlines()
        if status == 0:
            done(None)
        else:
            done(lines[-1] if lines else f"the worker process ended with status {status}")


@atexit.register
def _stop() -> None:
    """Stop a compilation under way when this process ends (its child would go on)."""
    global _stopping
    with _lock:
        _stopping = True
        mine = _worker is not None and _worker[0] == os.getpid()  # not a forked copy
        if mine and _running is not None and _running.poll() is None:
            _running.kill()


def niceness() -> int:
    """The worker's niceness: ``$IMPLICITOP_BACKGROUND_NICENESS``, by default :data:`NICENESS`.

    Raises
    ------
    ValueError
        Where the variable is not a whole number from 0 to 19.
    """
    setting = os.environ.get("IMPLICITOP_BACKGROUND_NICENESS", str(NICENESS))
    if not setting.strip().isdigit() or int(setting) > 19:
        raise ValueError(
            f"IMPLICITOP_BACKGROUND_NICENESS must be a whole number from 0 to 19, got {setting!r}"
        )
    return int(setting)


def main(path: Path) -> None:
    """Compile the full solver of the generated module at ``path`` into numba's disk
    cache (once, whichever processes ask at the same time) and leave
    :func:`finished_marker`."""
    if hasattr(os, "nice"):  # here, not in the parent between fork and exec
        os.nice(niceness())
    from implicitop._solvers.batch import C_SIGNATURE
    from implicitop._solvers.generated import c_function, import_module

    with open(path.with_suffix(".lock"), "w") as lock:
        try:
            import fcntl
        except ImportError:  # not a POSIX system: two processes may compile it twice
            pass
        else:
            fcntl.flock(lock, fcntl.LOCK_EX)
        if not finished_marker(path).exists():
            module = import_module(path)
            c_function(module.solve_from_pointers, C_SIGNATURE)
            finished_marker(path).touch()


if __name__ == "__main__":
    main(Path(sys.argv[1]))
