"""Cold start: how long a user waits for the first number, in fresh processes.

- A residual no process has solved before: ``make_implicit_op``, ``pytensor.function``
  of its value and gradient, first call (imports not counted, PyMC's included, as in a
  notebook; PyTensor's compiledir
  and implicitop's shared solver warm, as on any machine after the first problem),
  beside the same steps for the seed page's hand-written Op.
- The same op again with another numeric ``x0`` (a run-time setting), and another
  residual in the same process: a notebook's edit, PyTensor's start-up paid before.
- Another new residual in the same process, one root per observation of a data vector
  (the data-sized model's residual), beside the hand-written vectorised-Newton Op's
  same steps after the seed Op's (PyTensor's start-up paid before in both).
- The first of these in a PyTensor compiledir holding only what such graphs need (as
  on a machine that has compiled a few models), beside the machine's own: PyTensor's
  start-up in a new process unpickles every cached module's key, and hashing the keys
  of its fused scalar code takes longer the more a user has compiled, with or without
  implicit ops.
- The same two in PyTensor's numba backend (nutpie's), whose graph runs the seed
  page's Op in object mode.
- ``pytensor.function`` of a trivial graph in a new process whose PyTensor compiledir
  holds 0 or ``cached`` implicit ops: what every compile pays for the ops cached
  before (PyTensor unpickles every cached op's key when it refreshes its cache).
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

FOLDER = str(Path(__file__).resolve().parent)

NEW_RESIDUAL = """
import time
import numpy as np, pymc, pytensor, pytensor.tensor as pt, sympy as sp
from implicitop import make_implicit_op

def first_value_and_gradient(constant={constant!r}, **options):
    start = time.perf_counter()
    mu, theta = sp.symbols("mu theta", positive=True)
    op = make_implicit_op(mu + mu * sp.exp(theta * mu) - constant, mu, theta, **options)
    t = pt.dscalar("theta")
    value = op(t)
    function = pytensor.function([t], [value, pytensor.grad(value, t)], mode={mode!r})
    function(1.0)
    return time.perf_counter() - start

def data_sized(constant, size):
    start = time.perf_counter()
    mu, theta, x = sp.symbols("mu theta x", positive=True)
    op = make_implicit_op(mu + mu * sp.exp(theta * mu * x) - constant, mu, [theta, x])
    t = pt.dscalar("theta")
    total = op(t, np.linspace(0.5, 5.0, size)).sum()
    function = pytensor.function([t], [total, pytensor.grad(total, t)], mode={mode!r})
    function(1.0)
    return time.perf_counter() - start

print(
    first_value_and_gradient(),
    first_value_and_gradient(x0=0.7),
    first_value_and_gradient(constant={constant!r} + 0.5),
    data_sized({constant!r} + 0.25, {size}) if {size} else 0.0,
)
"""

HAND_WRITTEN = """
import sys, time
sys.path.insert(0, {folder!r})
import numpy as np, pymc, pytensor, pytensor.tensor as pt
from seed_op import MuFromTheta
from data_model import VectorNewtonOp
start = time.perf_counter()
t = pt.dscalar("theta")
value = MuFromTheta()(t)
function = pytensor.function([t], [value, pytensor.grad(value, t)], mode={mode!r})
function(1.0)
seed = time.perf_counter() - start

def data_sized(size):
    start = time.perf_counter()
    total = VectorNewtonOp()(t, np.linspace(0.5, 5.0, size)).sum()
    function = pytensor.function([t], [total, pytensor.grad(total, t)], mode={mode!r})
    function(1.0)
    return time.perf_counter() - start

print(seed, data_sized({size}) if {size} else 0.0)
"""

FILL_COMPILEDIR = """
import pytensor, pytensor.tensor as pt, sympy as sp
from implicitop import make_implicit_op
x = pt.dscalar("x")
pytensor.function([x], x + 1)(1.0)
mu, theta = sp.symbols("mu theta", positive=True)
for i in range({first}, {cached}):
    op = make_implicit_op(mu + mu * sp.exp(theta * mu) - (1 + i / 64), mu, theta)
    pytensor.function([x], op(x))(1.0)
"""

TRIVIAL = """
import time
import pytensor, pytensor.tensor as pt
start = time.perf_counter()
x = pt.dscalar("x")
pytensor.function([x], x + 1)(1.0)
print(time.perf_counter() - start)
"""


def run_values(script: str, environment: dict[str, str] | None = None) -> list[float]:
    """The numbers ``script`` prints, run in a new process with ``environment`` added."""
    completed = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", script],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **(environment or {})},
    )
    return [float(value) for value in completed.stdout.split()]


def new_residual_seconds(
    repeats: int = 3,
    mode: str | None = None,
    warm_up: bool = True,
    environment: dict[str, str] | None = None,
    size: int = 0,
) -> tuple[float, float, float, float]:
    """The best of ``repeats`` fresh processes, each with a residual never solved
    before: seconds to the first value and gradient, then again with a numeric x0,
    then for another new residual in the same process, then (``size`` > 0) for a new
    residual with a root for each of ``size`` observations (else 0), compiled in
    PyTensor's ``mode`` (its default if None; ``"NUMBA"`` is nutpie's), with
    ``environment`` added (a compiledir, say). ``warm_up``: a process first fills the
    caches (the shared solver, PyTensor's compiled code for the rest of the graph), as
    on any machine after the first problem; without it (a smoke run) the first process
    may pay for them."""
    if warm_up:
        run_values(NEW_RESIDUAL.format(constant=1.0, mode=mode, size=size), environment)
    runs = [
        run_values(
            NEW_RESIDUAL.format(constant=1 + uuid.uuid4().int % 10**6 / 1e7, mode=mode, size=size),
            environment,
        )
        for _ in range(repeats)
    ]
    first, another_x0, edited, data_sized = (min(column) for column in zip(*runs, strict=True))
    return first, another_x0, edited, data_sized


def hand_written_seconds(
    repeats: int = 3,
    mode: str | None = None,
    warm_up: bool = True,
    environment: dict[str, str] | None = None,
    size: int = 0,
) -> tuple[float, float]:
    """The same steps for the seed page's hand-written Op (its C glue, or its numba
    graph, cached by a first process if ``warm_up``), then (``size`` > 0) in the same
    process for the hand-written vectorised-Newton Op over ``size`` observations (else 0)."""
    script = HAND_WRITTEN.format(folder=FOLDER, mode=mode, size=size)
    if warm_up:
        run_values(script, environment)
    runs = [run_values(script, environment) for _ in range(repeats)]
    seed, data_sized = (min(column) for column in zip(*runs, strict=True))
    return seed, data_sized


def compiledir_flags(folder: str) -> dict[str, str]:
    """The environment that gives PyTensor the compiledir ``folder``."""
    return {"PYTENSOR_FLAGS": f"compiledir={folder}"}


def trivial_compile_seconds(counts: list[int], folder: str, repeats: int = 3) -> list[float]:
    """``pytensor.function`` of ``x + 1`` in new processes whose own compiledir
    ``folder`` (empty at first) holds each of ``counts`` (ascending) implicit ops in
    turn: one compiledir, filled with more ops between the measurements."""
    seconds, filled = [], 0
    for count in counts:
        run_values(FILL_COMPILEDIR.format(first=filled, cached=count), compiledir_flags(folder))
        filled = count
        seconds.append(
            min(run_values(TRIVIAL, compiledir_flags(folder))[0] for _ in range(repeats))
        )
    return seconds
