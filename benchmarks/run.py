"""Side-by-side benchmarks of implicitop against its baselines, all in one run.

Run ``python benchmarks/run.py`` (``--quick`` for a smoke run with smaller sizes).
Every row times implicitop and a baseline in the same process, one after the other,
and reports their ratio; machines here are noisy, so compare ratios, not seconds.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import subprocess
import sys
import tempfile
import time
import uuid
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

import arviz as az
import numpy as np
import pymc as pm
import pytensor
import sympy as sp
from scipy import optimize
from scipy.optimize import elementwise

sys.path.insert(0, str(Path(__file__).resolve().parent))

import closed_form
import cold_start
import data_model
import laplace

import pytensor_root_scalar
import scipy_newton
from implicitop import make_implicit_op
from seed_op import MuFromTheta

OBSERVED = [0.2, 0.21, 0.3]


@dataclass
class Row:
    """One measurement: implicitop against one baseline (higher is better if a rate)."""

    task: str
    unit: str
    ours: float
    baseline: str
    theirs: float | None
    higher_is_better: bool = False

    @property
    def ratio(self) -> str:
        if self.theirs is None:
            return "n/a"
        speedup = self.ours / self.theirs if self.higher_is_better else self.theirs / self.ours
        return f"{speedup:.1f}x"


def best_time(function: Callable[[], object], repeats: int = 5, number: int = 1) -> float:
    """Seconds per call: the best of ``repeats`` rounds of ``number`` calls."""
    function()
    rounds = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(number):
            function()
        rounds.append((time.perf_counter() - start) / number)
    return min(rounds)


#: Whether the speed rows measure each op with its full solver from the first call
#: (:func:`measured`); a smoke run (``--quick``) takes the tier in use and compiles less.
FULL_SOLVERS = {"measured": True}


def measured(op: Any) -> Any:
    """``op`` with its full solver in use, as a user's op has once the worker process
    has compiled it (a call does not wait for it; a benchmark does, to time that tier
    from the first call); in a smoke run, ``op`` as it is."""
    if FULL_SOLVERS["measured"]:
        op.solver.kernels.c_address  # noqa: B018 (compiled or loaded now)
    return op


def seed_op() -> object:
    mu, theta = sp.symbols("mu theta", positive=True)
    return make_implicit_op(mu + mu * sp.exp(theta * mu) - 1, mu, theta)


def seed_model(mu_of_theta: Callable) -> pm.Model:
    with pm.Model() as model:
        theta = pm.HalfNormal("theta", sigma=1)
        mu = pm.Deterministic("mu", mu_of_theta(theta))
        pm.Normal("y", mu=mu, sigma=0.1, observed=OBSERVED)
    return model


MU_OF_THETA = {
    "seed_op": MuFromTheta(),
    "closed_form": closed_form.mu_from_theta,
    "pytensor_root_scalar": pytensor_root_scalar.mu_from_theta,
}


def logp_dlogp_call(
    model: pm.Model, mode: str | None = None, point: tuple[float, ...] = (np.log(0.8),)
) -> Callable[[], object]:
    """A call of the model's compiled logp and gradient at ``point`` (its free
    variables' transformed values; by default theta = 0.8)."""
    function = model.logp_dlogp_function(ravel_inputs=True, mode=mode)
    function.set_extra_values({})
    values = np.array(point)
    return lambda: function(values)


def logp_dlogp_seconds(
    model: pm.Model,
    mode: str | None = None,
    number: int = 200,
    repeats: int = 5,
    point: tuple[float, ...] = (np.log(0.8),),
) -> float:
    """Seconds per call of the model's compiled logp and gradient at ``point`` (see
    :func:`logp_dlogp_call`)."""
    return best_time(logp_dlogp_call(model, mode, point), repeats=repeats, number=number)


def alternating_best(calls: list[Callable[[], object]], rounds: int, number: int) -> list[float]:
    """Seconds per call of each of ``calls``, timed in turn ``rounds`` times (the best of
    each): on a noisy machine a slow spell then falls on every call alike."""
    best = [math.inf] * len(calls)
    for _ in range(rounds):
        for i, call in enumerate(calls):
            best[i] = min(best[i], best_time(call, repeats=1, number=number))
    return best


def logp_dlogp_rows(mode: str | None) -> list[Row]:
    def per_call(mu_of_theta) -> float:
        return logp_dlogp_seconds(seed_model(mu_of_theta), mode)

    ours = per_call(measured(seed_op()))
    label = f"seed logp+dlogp per call ({mode or 'default'} backend)"
    return [
        Row(label, "us", ours * 1e6, name, per_call(baseline) * 1e6)
        for name, baseline in MU_OF_THETA.items()
    ]


def data_op(constant: float = 1.0) -> object:
    """The data-sized model's op: one root per observation x."""
    mu, theta, x = sp.symbols("mu theta x", positive=True)
    return make_implicit_op(mu + mu * sp.exp(theta * mu * x) - constant, mu, [theta, x])


def on_the_shared_solver() -> object:
    """The data-sized model's op, its residual's constant moved by at most a part in
    1e6 so that no process has its full solver, and none compiled in the background: it
    solves on the shared solver, as a new residual does until its full solver is ready."""
    op = data_op(1.0 + (uuid.uuid4().int % 10**6 + 1) * 1e-12)
    with mock.patch.dict(os.environ, {"IMPLICITOP_BACKGROUND_COMPILE": "0"}):
        op.solver.kernels  # noqa: B018 (the kernels, built now)
    return op


def data_model_rows(size: int, draws: int) -> list[Row]:
    """logp+dlogp per call and a NUTS run of the model with ``size`` observations (and
    the logp+dlogp on the shared solver, and in the numba backend, nutpie's: the
    hand-written Op has no numba implementation, so its baseline is the default
    backend's)."""
    ours_op, by_hand = measured(data_op()), data_model.VectorNewtonOp()
    ops = (ours_op, by_hand, on_the_shared_solver())
    calls = [logp_dlogp_call(data_model.data_model(mu_of, size)) for mu_of in ops]
    calls.append(logp_dlogp_call(data_model.data_model(ours_op, size), mode="NUMBA"))
    ours, theirs, shared, numba_backend = (
        seconds * 1e3 for seconds in alternating_best(calls, rounds=10, number=20)
    )

    def sampling(mu_of) -> float:
        with data_model.data_model(mu_of, size):
            start = time.perf_counter()
            pm.sample(draws=draws, tune=draws, chains=2, cores=1, random_seed=1, progressbar=False)
            return time.perf_counter() - start

    blockwise = data_model.data_model(data_model.root_scalar_over_data, size)
    label = f"{size} observations, a root each: logp+dlogp per call"
    sample_label = f"{size} observations: pm.sample 2 x ({draws} tune + {draws} draws)"
    return [
        Row(label, "ms", ours, "hand-written Op, vectorised scipy newton", theirs),
        Row(
            label,
            "ms",
            ours,
            "root_scalar vectorised (Blockwise)",
            logp_dlogp_seconds(blockwise, number=1, repeats=1) * 1e3,
        ),
        Row(sample_label, "s", sampling(ours_op), "hand-written Op", sampling(by_hand)),
        Row(
            f"{size} observations: logp+dlogp per call, shared solver (a new residual's first)",
            "ms",
            shared,
            "hand-written Op, vectorised scipy newton",
            theirs,
        ),
        Row(
            f"{size} observations: logp+dlogp per call, numba backend (nutpie's)",
            "ms",
            numba_backend,
            "hand-written Op, default backend",
            theirs,
        ),
    ]


def sampling_rows(draws: int) -> list[Row]:
    def seconds(mu_of_theta) -> float:
        with seed_model(mu_of_theta):
            start = time.perf_counter()
            pm.sample(draws=draws, tune=draws, chains=2, cores=1, random_seed=1, progressbar=False)
            return time.perf_counter() - start

    ours = seconds(measured(seed_op()))
    label = f"seed pm.sample NUTS 2 x ({draws} tune + {draws} draws)"
    return [Row(label, "s", ours, "seed_op", seconds(MU_OF_THETA["seed_op"]))]


def _timed_or_none(function: Callable[[], float]) -> float | None:
    """The baseline's time, or ``None`` where the baseline cannot run at all."""
    try:
        return function()
    except Exception as error:  # the table says n/a; stderr says why
        print(f"    baseline failed: {type(error).__name__}: {error}"[:200], file=sys.stderr)
        return None


def fast_sampler_rows(draws: int) -> list[Row]:
    """nutpie (numba) and numpyro (JAX), where installed: compile + sample, in seconds."""
    rows = []
    label = f"2 x ({draws} tune + {draws} draws), compile included"
    try:
        import nutpie
    except ImportError:
        nutpie = None
    if nutpie is not None:

        def nutpie_seconds(mu_of_theta) -> float:
            start = time.perf_counter()
            compiled = nutpie.compile_pymc_model(seed_model(mu_of_theta))
            nutpie.sample(
                compiled, chains=2, tune=draws, draws=draws, cores=1, seed=1, progress_bar=False
            )
            return time.perf_counter() - start

        ours = nutpie_seconds(seed_op())
        theirs = _timed_or_none(lambda: nutpie_seconds(MU_OF_THETA["seed_op"]))
        rows.append(Row(f"seed nutpie {label}", "s", ours, "seed_op (object mode)", theirs))
        closed = nutpie_seconds(MU_OF_THETA["closed_form"])
        rows.append(Row(f"seed nutpie {label}", "s", ours, "closed form (unrolled Newton)", closed))
    try:
        import numpyro  # noqa: F401
    except ImportError:
        return rows

    def numpyro_seconds(mu_of_theta) -> float:
        with seed_model(mu_of_theta):
            start = time.perf_counter()
            pm.sample(
                draws=draws, tune=draws, chains=2, nuts_sampler="numpyro", random_seed=1,
                progressbar=False, nuts_sampler_kwargs={"chain_method": "sequential"},
            )  # fmt: skip
            return time.perf_counter() - start

    ours = numpyro_seconds(seed_op())
    theirs = _timed_or_none(lambda: numpyro_seconds(MU_OF_THETA["seed_op"]))
    rows.append(Row(f"seed numpyro {label}", "s", ours, "seed_op (no JAX conversion)", theirs))
    closed = numpyro_seconds(MU_OF_THETA["closed_form"])
    rows.append(Row(f"seed numpyro {label}", "s", ours, "closed form (unrolled Newton)", closed))
    return rows


def effective_samples_per_second(model: pm.Model, draws: int) -> float:
    """The smaller effective sample size of ``mu`` and ``sigma`` per second of
    ``pm.sample`` (compile included), 2 chains of ``draws`` tuning and ``draws`` draws."""
    with model:
        start = time.perf_counter()
        idata = pm.sample(
            draws=draws, tune=draws, chains=2, cores=1, random_seed=1, progressbar=False,
            compute_convergence_checks=False,
        )  # fmt: skip
        seconds = time.perf_counter() - start
    ess = az.ess(idata, var_names=["mu", "sigma"])
    return float(min(ess["mu"], ess["sigma"])) / seconds


def minima_rows(groups: int, size: int, draws: int) -> list[Row]:
    """The Laplace-approximated hierarchical Poisson model's logp+dlogp with ``groups``
    groups, and ``size`` Poisson-normal modes solved at once (:mod:`laplace`)."""

    def per_call(marginal: Callable) -> float:
        model = laplace.laplace_model(marginal, groups)
        return logp_dlogp_seconds(model, number=5, point=(0.7, np.log(0.9))) * 1e3

    op = measured(laplace.mode_op())
    ours = per_call(laplace.implicitop_marginal(op))
    laplace_ess = effective_samples_per_second(
        laplace.laplace_model(laplace.implicitop_marginal(op), groups), draws
    )
    latent_ess = effective_samples_per_second(laplace.latent_model(groups), draws)
    by_minimize = per_call(laplace.minimize_marginal)
    rng = np.random.default_rng(0)
    counts = rng.poisson(np.exp(rng.normal(1.0, 1.0, size))).astype(float)
    means, scales = rng.normal(1.0, 1.0, size), 10 ** rng.uniform(-1.0, 0.5, size)

    def scipy_minima() -> None:
        start = np.log(np.maximum(counts, 0.5))
        args = (counts, means, scales)
        found = elementwise.bracket_minimum(laplace.negative_log_joint, start, args=args)
        elementwise.find_minimum(laplace.negative_log_joint, tuple(found.bracket), args=args)

    solved = size / best_time(lambda: op.solve(counts, means, scales), repeats=3)
    scipy = size / best_time(scipy_minima, repeats=1)
    return [
        Row(
            f"{groups} groups, Laplace marginal: logp+dlogp per call",
            "ms",
            ours,
            "pytensor minimize per group (Blockwise)",
            by_minimize,
        ),
        Row(
            f"{groups} groups, Laplace: ESS of mu, sigma per second of pm.sample",
            "ESS/s",
            laplace_ess,
            "full NUTS on the latent model",
            latent_ess,
            True,
        ),
        Row(
            f"{size:.0e} Poisson-normal modes (argmin)",
            "minima/s",
            solved,
            "scipy elementwise find_minimum",
            scipy,
            True,
        ),
    ]


def batch_rows(size: int, loop_size: int) -> list[Row]:
    rng = np.random.default_rng(0)
    thetas = np.exp(rng.uniform(np.log(1e-3), np.log(1e3), size))
    op = measured(seed_op())
    ours = size / best_time(lambda: op.solve(thetas), repeats=3)
    vectorised = size / best_time(lambda: scipy_newton.vectorised(thetas), repeats=3)
    loop = loop_size / best_time(lambda: scipy_newton.python_loop(thetas[:loop_size]), repeats=3)
    bracketing = size / best_time(lambda: scipy_newton.find_root(thetas), repeats=1)
    label = f"{size:.0e} seed roots, theta log-uniform 1e-3..1e3"
    return [
        Row(label, "roots/s", ours, "scipy newton, vectorised", vectorised, True),
        Row(label, "roots/s", ours, "scipy elementwise.find_root", bracketing, True),
        Row(label, "roots/s", ours, "scipy newton, Python loop", loop, True),
    ]


VECTOR_MATH_SCRIPT = """
import json, sys
sys.path.insert(0, {folder!r})
import run
run.FULL_SOLVERS["measured"] = {full}
print(json.dumps(run.vector_math_sensitive({size}, {observations})))
"""


def vector_math_sensitive(size: int, observations: int) -> dict[str, float]:
    """implicitop's numbers that vector exp and log change: 1e6-style seed roots per
    second, and the data-sized model's logp+dlogp per call (ms)."""
    rng = np.random.default_rng(0)
    thetas = np.exp(rng.uniform(np.log(1e-3), np.log(1e3), size))
    op = measured(seed_op())
    model = data_model.data_model(measured(data_op()), observations)
    return {
        "roots": size / best_time(lambda: op.solve(thetas), repeats=3),
        "data": logp_dlogp_seconds(model, number=20, repeats=5) * 1e3,
    }


def vector_math_rows(size: int, observations: int) -> list[Row]:
    """The seed roots and the data-sized model with vector exp and log (this process)
    and without (a new process with ``IMPLICITOP_VECTOR_MATH=0``), beside the
    vectorised-SciPy baselines."""
    from implicitop._solvers import vector_math

    script = VECTOR_MATH_SCRIPT.format(
        folder=str(Path(__file__).resolve().parent),
        size=size,
        observations=observations,
        full=FULL_SOLVERS["measured"],
    )
    completed = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", script],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "IMPLICITOP_VECTOR_MATH": "0"},
    )
    scalar = json.loads(completed.stdout.splitlines()[-1])
    vector = vector_math_sensitive(size, observations)
    rng = np.random.default_rng(0)
    thetas = np.exp(rng.uniform(np.log(1e-3), np.log(1e3), size))
    newton = size / best_time(lambda: scipy_newton.vectorised(thetas), repeats=3)
    by_hand = data_model.data_model(data_model.VectorNewtonOp(), observations)
    by_hand_ms = logp_dlogp_seconds(by_hand, number=20, repeats=5) * 1e3
    library = vector_math.library()
    roots = f"{size:.0e} seed roots"
    data = f"{observations} observations: logp+dlogp per call"
    return [
        Row(f"{roots}, vector exp/log ({library})", "roots/s", vector["roots"],
            "the same, scalar exp/log", scalar["roots"], True),
        Row(f"{roots}, vector exp/log ({library})", "roots/s", vector["roots"],
            "scipy newton, vectorised", newton, True),
        Row(f"{roots}, scalar exp/log", "roots/s", scalar["roots"],
            "scipy newton, vectorised", newton, True),
        Row(f"{data}, vector exp/log ({library})", "ms", vector["data"],
            "the same, scalar exp/log", scalar["data"]),
        Row(f"{data}, vector exp/log ({library})", "ms", vector["data"],
            "hand-written Op, vectorised scipy newton", by_hand_ms),
        Row(f"{data}, scalar exp/log", "ms", scalar["data"],
            "hand-written Op, vectorised scipy newton", by_hand_ms),
    ]  # fmt: skip


def circle_line() -> object:
    x, y, r, a = sp.symbols("x y r a", positive=True)
    return make_implicit_op([x**2 + y**2 - r**2, y - a * x], [x, y], [r, a])


#: Water's ion product (mol^2/L^2 at 25 C).
WATER = 1e-14


def weak_acid() -> object:
    """A weak acid at concentration ``c`` with dissociation constant ``ka`` in water:
    ``[H+]``, ``[A-]``, ``[OH-]`` over many orders of magnitude."""
    h, base, hydroxide, ka, c = sp.symbols("h base hydroxide ka c", positive=True)
    residuals = [h * base - ka * (c - base), h * hydroxide - WATER, h - base - hydroxide]
    return make_implicit_op(residuals, [h, base, hydroxide], [ka, c])


def weak_acid_for_scipy(u: np.ndarray, ka: float, c: float) -> list[float]:
    h, base, hydroxide = u
    return [h * base - ka * (c - base), h * hydroxide - WATER, h - base - hydroxide]


def weak_acid_jacobian(u: np.ndarray, ka: float, c: float) -> list[list[float]]:
    h, base, hydroxide = u
    return [[base, h + ka, 0.0], [hydroxide, 0.0, h], [1.0, -1.0, -1.0]]


def circle_line_for_scipy(u: np.ndarray, r: float, a: float) -> list[float]:
    return [u[0] ** 2 + u[1] ** 2 - r**2, u[1] - a * u[0]]


def circle_line_jacobian(u: np.ndarray, r: float, a: float) -> list[list[float]]:
    return [[2 * u[0], 2 * u[1]], [-a, 1.0]]


def scipy_root_loop(
    residuals: Callable[..., list[float]],
    jacobian: Callable[..., list[list[float]]],
    x0: list[float],
    params: np.ndarray,
) -> float:
    """Systems per second of ``scipy.optimize.root`` (MINPACK's hybrj with the analytic
    Jacobian) in a Python loop over the rows of ``params``: the best of three rounds, as
    for implicitop (a single round of a few milliseconds once took 70 times as long in a
    full run, and made the ratio 70 times too large)."""

    def loop() -> None:
        for row in params:
            optimize.root(residuals, x0, args=tuple(row), jac=jacobian)

    return len(params) / best_time(loop, repeats=3)


def system_rows(size: int, loop_size: int) -> list[Row]:
    rng = np.random.default_rng(1)
    radii, slopes = rng.uniform(0.5, 2.0, size), rng.uniform(0.1, 10.0, size)
    constants, concentrations = 10 ** rng.uniform(-10, -2, size), 10 ** rng.uniform(-6, 0, size)
    rows = []
    for label, op, params, residuals, jacobian, x0 in (
        ("2x2 systems (circle meets line)", circle_line(), (radii, slopes),
         circle_line_for_scipy, circle_line_jacobian, [1.0, 1.0]),
        ("3x3 systems (weak acid in water, [H+] 1e-7..1e-1)", weak_acid(),
         (constants, concentrations), weak_acid_for_scipy, weak_acid_jacobian,
         [1e-7, 1e-7, 1e-7]),
    ):  # fmt: skip
        measured(op)
        ours = size / best_time(lambda op=op, params=params: op.solve(*params), repeats=3)
        loop = scipy_root_loop(residuals, jacobian, x0, np.column_stack(params)[:loop_size])
        rows.append(
            Row(f"{size:.0e} {label}", "systems/s", ours, "scipy.optimize.root, Python loop",
                loop, True)
        )  # fmt: skip
    return rows


NUTPIE_SCRIPT = """
import sys, time, warnings
warnings.filterwarnings("ignore")
sys.path.insert(0, {folder!r})
import nutpie
import run
start = time.perf_counter()
compiled = nutpie.compile_pymc_model(run.seed_model(run.{builder}))
compiled_at = time.perf_counter()
nutpie.sample(compiled, chains=2, tune={draws}, draws={draws}, cores=1, seed=1, progress_bar=False)
print(compiled_at - start, time.perf_counter() - compiled_at)
"""


def nutpie_fresh_process_rows(draws: int, processes: int = 2) -> list[Row]:
    """nutpie compile + sample in the last of ``processes`` new processes (the first
    fills the caches)."""
    try:
        import nutpie  # noqa: F401
    except ImportError:
        return []
    folder = str(Path(__file__).resolve().parent)

    def second_process(builder: str) -> tuple[float, float]:
        script = NUTPIE_SCRIPT.format(folder=folder, builder=builder, draws=draws)
        for _ in range(processes):
            completed = subprocess.run(
                [sys.executable, "-W", "ignore", "-c", script],
                capture_output=True,
                text=True,
                check=True,
            )
        compile_seconds, sample_seconds = map(float, completed.stdout.split()[-2:])
        return compile_seconds, sample_seconds

    ours = second_process("seed_op()")
    label = f"seed nutpie, second new process: compile / sample 2 x ({draws} + {draws})"
    rows = []
    for baseline, builder in [
        ("seed_op (object mode)", 'MU_OF_THETA["seed_op"]'),
        ("closed form (unrolled Newton)", 'MU_OF_THETA["closed_form"]'),
    ]:
        theirs = second_process(builder)
        rows += [
            Row(f"{label}, compile", "s", ours[0], baseline, theirs[0]),
            Row(f"{label}, sample", "s", ours[1], baseline, theirs[1]),
            Row(f"{label}, both", "s", sum(ours), baseline, sum(theirs)),
        ]
    return rows


BUILD_SCRIPT = """
import sys, time
sys.path.insert(0, {folder!r})
import numpy as np
import run
start = time.perf_counter()
op = run.{builder}()
op.solve(*[np.array([1.0])] * len(op.params))
print(time.perf_counter() - start)
"""


def another_guess_seconds() -> float:
    """make_implicit_op + first solve of the seed residual with a numeric x0 not used
    before in this process (a run-time setting: nothing is compiled)."""
    mu, theta = sp.symbols("mu theta", positive=True)
    residual = mu + mu * sp.exp(theta * mu) - 1
    make_implicit_op(residual, mu, theta, x0=0.5).solve(1.0)
    start = time.perf_counter()
    make_implicit_op(residual, mu, theta, x0=0.7).solve(1.0)
    return time.perf_counter() - start


def build_rows(repeats: int) -> list[Row]:
    """make_implicit_op + first solve in a fresh process (imports not counted), the best
    of ``repeats`` processes."""

    def fresh_process(builder: str) -> float:
        script = BUILD_SCRIPT.format(folder=str(Path(__file__).resolve().parent), builder=builder)
        seconds = []
        for _ in range(repeats):  # the first may compile; numba's disk cache serves the rest
            completed = subprocess.run(
                [sys.executable, "-W", "ignore", "-c", script],
                capture_output=True,
                text=True,
                check=True,
            )
            seconds.append(float(completed.stdout.split()[-1]))
        return min(seconds)

    first_build = fresh_process("seed_op")
    return [
        Row("make_implicit_op + first solve, seed (new process)", "s", first_build, "-", None),
        Row(
            "the seed op again with another numeric x0 (same process)",
            "s",
            another_guess_seconds(),
            "first build (new process)",
            first_build,
        ),
        Row(
            "make_implicit_op + first solve, 3x3 (new process)",
            "s",
            fresh_process("equilibrium"),
            "-",
            None,
        ),
    ]


def cold_start_rows(cached: int, repeats: int, observations: int) -> list[Row]:
    """Seconds to the first value and gradient of a new residual, in new processes (the
    best of ``repeats``), in this machine's PyTensor compiledir and in one that holds
    ``cached`` implicit ops and what the graphs need (a machine that has compiled a
    few models); also for a new residual with a root for each of ``observations``."""
    # a smoke run (one repeat) skips the warm-up processes
    warm_up = repeats > 1
    new_residual, another_x0, edited, data_sized = cold_start.new_residual_seconds(
        repeats, None, warm_up, size=observations
    )
    hand_written, data_by_hand = cold_start.hand_written_seconds(
        repeats, None, warm_up, size=observations
    )
    in_numba, another_in_numba, _, _ = cold_start.new_residual_seconds(repeats, "NUMBA", warm_up)
    hand_written_in_numba, _ = cold_start.hand_written_seconds(repeats, "NUMBA", warm_up)
    with tempfile.TemporaryDirectory() as folder:
        trivial = cold_start.trivial_compile_seconds([0, cached], folder, repeats)
        small = cold_start.compiledir_flags(folder)
        small_new_residual, *_ = cold_start.new_residual_seconds(repeats, None, warm_up, small)
        small_hand_written, _ = cold_start.hand_written_seconds(repeats, None, warm_up, small)
    same_steps = "the hand-written seed Op, same steps"
    return [
        Row(
            "a new residual: op, pytensor.function, first value+grad",
            "s",
            new_residual,
            same_steps,
            hand_written,
        ),
        Row(
            "the same again with another numeric x0 (same process)",
            "s",
            another_x0,
            same_steps,
            hand_written,
        ),
        Row(
            "another new residual, same process (a notebook's edit)",
            "s",
            edited,
            "the first residual (new process)",
            new_residual,
        ),
        Row(
            f"a new residual, {observations} observations (same process)",
            "s",
            data_sized,
            "hand-written vectorised Newton Op",
            data_by_hand,
        ),
        Row(
            f"a new residual, compiledir of {cached} implicit ops + the graph's",
            "s",
            small_new_residual,
            same_steps,
            small_hand_written,
        ),
        Row(
            "a new residual, numba backend: op, function, first value+grad",
            "s",
            in_numba,
            same_steps,
            hand_written_in_numba,
        ),
        Row(
            "the same again with another numeric x0, numba backend",
            "s",
            another_in_numba,
            same_steps,
            hand_written_in_numba,
        ),
        Row(
            f"pytensor.function(x + 1), new process, {cached} implicit ops cached",
            "s",
            trivial[1],
            "the same, no implicit op cached",
            trivial[0],
        ),
    ]


def equilibrium() -> object:
    a, b, c, k1, k2, total = sp.symbols("a b c K1 K2 T", positive=True)
    residuals = [b - k1 * a**2, c - k2 * a * b, a + 2 * b + 3 * c - total]
    return make_implicit_op(residuals, [a, b, c], [k1, k2, total])


def print_table(rows: list[Row]) -> None:
    header = f"| {'task':<58} | {'implicitop':>12} | {'baseline':<34} | {'baseline':>12} | ratio |"
    print(header)
    print("|" + "|".join("-" * (len(cell) + 0) for cell in header.split("|")[1:-1]) + "|")
    for row in rows:
        theirs = "n/a" if row.theirs is None else f"{row.theirs:.4g}"
        print(
            f"| {row.task:<58} | {row.ours:>9.4g} {row.unit:<2} | {row.baseline:<34} "
            f"| {theirs:>12} | {row.ratio:>5} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument(
        "--only", help="run only the steps whose name contains one of these (comma-separated)"
    )
    args = parser.parse_args()
    FULL_SOLVERS["measured"] = not args.quick
    logging.getLogger("pymc").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore")
    size, systems, draws = (10**4, 10**3, 100) if args.quick else (10**6, 10**5, 1000)
    observations, data_draws = (500, 50) if args.quick else (10_000, 500)
    groups = 100 if args.quick else 1000
    # the smoke run: one new process (or run) where the table takes the second or the
    # best of more, the fewest that print every row
    processes, cached, repeats = (1, 2, 1) if args.quick else (2, 20, 3)
    steps = [
        ("logp+dlogp, default backend", lambda: logp_dlogp_rows(None)),
        ("logp+dlogp, numba backend", lambda: logp_dlogp_rows("NUMBA")),
        ("data-sized model", lambda: data_model_rows(observations, data_draws)),
        ("NUTS sampling", lambda: sampling_rows(draws)),
        ("nutpie and numpyro", lambda: fast_sampler_rows(draws)),
        ("nutpie in a new process", lambda: nutpie_fresh_process_rows(draws, processes)),
        ("batched roots", lambda: batch_rows(size, 2000)),
        ("vector math", lambda: vector_math_rows(size, observations)),
        ("batched systems", lambda: system_rows(systems, 500)),
        ("build time", lambda: build_rows(repeats)),
        ("cold start", lambda: cold_start_rows(cached, repeats, observations)),
        ("minima", lambda: minima_rows(groups, size, draws)),
    ]
    if args.only:
        wanted = args.only.split(",")
        steps = [(name, step) for name, step in steps if any(part in name for part in wanted)]
    rows: list[Row] = []
    for name, step in steps:
        print(f"... {name}", file=sys.stderr, flush=True)
        start = time.perf_counter()
        rows.extend(step())
        print(f"    {name}: {time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)
    print(f"pytensor {pytensor.__version__}, pymc {pm.__version__}, numpy {np.__version__}")
    print_table(rows)


if __name__ == "__main__":
    main()
