"""Long steps are announced on the ``implicitop`` logger; quick ones are not."""

import logging
import subprocess
import sys
import time

import pytest

from implicitop import _progress
from implicitop._solvers import compiled


def test_a_long_step_is_announced_when_slow_and_when_done(caplog):
    caplog.set_level(logging.INFO, logger="implicitop")
    with _progress.announced("implicitop: sorting socks", "once a week", after=0.05):
        time.sleep(0.3)
    messages = [record.getMessage() for record in caplog.records]
    assert messages[0] == "implicitop: sorting socks (once a week) ..."
    seconds = float(messages[1].removeprefix("implicitop: sorting socks: done in ").split()[0])
    assert seconds == pytest.approx(0.3, abs=0.1)
    assert len(messages) == 2


def test_a_quick_step_says_nothing(caplog):
    caplog.set_level(logging.INFO, logger="implicitop")
    with _progress.announced("implicitop: sorting socks", "once a week", after=5.0):
        time.sleep(0.01)
    time.sleep(0.05)
    assert caplog.records == []


def test_the_shared_solver_is_announced_where_it_is_slow(caplog, monkeypatch):
    compiled._shared_solver(1)  # compiled or loaded once in this process
    monkeypatch.setattr(_progress, "SLOW_AFTER", 0.0)
    caplog.set_level(logging.INFO, logger="implicitop")
    # a second copy, from numba's disk cache, announced as at once (the first stays in use)
    compiled._shared_solver.__wrapped__(1)
    messages = [record.getMessage() for record in caplog.records]
    assert messages[0] == (
        "implicitop: compiling the shared solver of one equation (once per kernel "
        "folder; every later problem starts from it) ..."
    )
    assert messages[1].startswith("implicitop: compiling the shared solver of one equation: done")


def test_the_package_logs_its_notes_to_stderr_where_logging_is_not_configured():
    # in a new process, as a script or a notebook starts (pytest configures logging here)
    code = (
        "import time, implicitop\n"
        "from implicitop._progress import announced\n"
        "with announced('implicitop: a step', 'a reason', after=0.0):\n"
        "    time.sleep(0.2)\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    lines = completed.stderr.splitlines()
    assert lines[0] == "implicitop: a step (a reason) ..."
    assert lines[1].startswith("implicitop: a step: done in 0.")
    assert completed.stdout == ""
