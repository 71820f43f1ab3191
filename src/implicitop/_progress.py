"""Word of long work: a note on the ``implicitop`` logger when a step takes a while.

Most of what implicitop compiles takes well under a second, or is loaded from numba's
disk cache. A few steps take longer, once per kernel folder: the shared solvers
(about 10 s for one equation, 20 s for systems, on a 2-core machine), which every
later problem starts from. :func:`announced` says so when such a step is still
running after :data:`SLOW_AFTER` seconds, and how long it took when it ends; a step
that ends sooner says nothing. ``implicitop`` logs at ``INFO`` to standard error
where the application configures no logging (as PyMC does); configure the
``"implicitop"`` logger to change that.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["LOGGER", "SLOW_AFTER", "announced"]

#: The library's logger.
LOGGER = logging.getLogger("implicitop")
#: Seconds after which a step is announced.
SLOW_AFTER = 2.0


@contextmanager
def announced(doing: str, why: str, after: float | None = None) -> Iterator[None]:
    """Within this block, log ``"<doing> (<why>) ..."`` at ``INFO`` once it has run
    for ``after`` seconds (:data:`SLOW_AFTER` if not given), and ``"<doing>: done in
    <t> s"`` when it ends; nothing for a block that ends sooner."""
    lock = threading.Lock()
    state = {"shown": False, "over": False}

    def note() -> None:
        with lock:
            if not state["over"]:
                state["shown"] = True
                LOGGER.info("%s (%s) ...", doing, why)

    timer = threading.Timer(SLOW_AFTER if after is None else after, note)
    timer.daemon = True
    start = time.perf_counter()
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
        with lock:
            state["over"] = True
            if state["shown"]:
                LOGGER.info("%s: done in %.1f s", doing, time.perf_counter() - start)
