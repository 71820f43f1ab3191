"""PyTensor's numba backend runs the op natively: same numbers as the C backend."""

import json
import os
import warnings

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
import sympy as sp
from pytensor.link.numba.dispatch.basic import numba_funcify_and_cache_key

from backends import FALLBACK, compile_value_and_gradients, sample_points
from catalogue import CATALOGUE, SYSTEMS, build_seed, seed_root
from implicitop import ImplicitSolveError, make_implicit_op
from implicitop._pytensor.numba_dispatch import (
    _BOUND,
    _CODE_VERSION,
    _settings_digest,
    prune_cached_functions,
)
from implicitop._solvers import helper_pool
from implicitop._solvers.parallel import THREADED_FROM
from scripts import ROOT, run_script
from seed_posterior import exact_posterior_mean, posterior_mean_and_mcse, seed_model


@pytest.mark.parametrize("problem", CATALOGUE, ids=lambda p: p.name)
def test_numba_mode_equals_the_c_backend_without_object_mode(problem):
    op = problem.build()
    numba_function = compile_value_and_gradients(op, "NUMBA")
    c_function = compile_value_and_gradients(op, "FAST_RUN")
    points = sample_points(problem)
    numba_results, c_results = numba_function(*points), c_function(*points)
    # the same compiled solver with the same settings: the same roots, bit for bit
    np.testing.assert_array_equal(numba_results[0], c_results[0])
    for ours, theirs in zip(numba_results[1:], c_results[1:], strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=0)
    np.testing.assert_allclose(
        numba_results[0],
        [problem.root(*p) for p in zip(*points, strict=True)],
        rtol=problem.rtol,
        atol=problem.atol,
    )


def test_numba_mode_scalars_matrices_float32_and_failures():
    op = build_seed()
    theta = pt.dscalar("theta")
    function = compile_value_and_gradients(op, "NUMBA")
    scalar = pytensor.function([theta], op(theta), mode="NUMBA")
    assert scalar(0.4) == pytest.approx(seed_root(0.4), rel=1e-14)
    assert scalar(0.4).shape == ()
    matrix = pt.dmatrix("m")
    transposed = pytensor.function([matrix], op(matrix.T), mode="NUMBA")
    values = np.geomspace(1e-3, 1e3, 6).reshape(2, 3)
    np.testing.assert_allclose(transposed(values), np.vectorize(seed_root)(values.T), rtol=1e-14)
    single = compile_value_and_gradients(op, "NUMBA", dtype="float32")
    root, _ = single(np.array([0.4, 2.0], dtype=np.float32))
    assert root.dtype == np.float32
    np.testing.assert_allclose(root, [seed_root(0.4), seed_root(2.0)], rtol=1e-6)
    root, gradient = function(np.array([0.4, np.nan, -1.0, np.inf]))
    assert np.isfinite(root[0]) and np.isnan(root[1:]).all() and np.isnan(gradient[1:]).all()


def test_numba_mode_raises_the_solve_error_with_reasons():
    mu, theta = sp.symbols("mu theta", positive=True)
    op = make_implicit_op(mu + mu * sp.exp(theta * mu) - 1, mu, theta, on_failure="raise")
    t = pt.dvector("t")
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=FALLBACK)
        function = pytensor.function([t], op(t), mode="NUMBA")
    np.testing.assert_allclose(function(np.array([0.4])), [seed_root(0.4)], rtol=1e-14)
    with pytest.raises(ImplicitSolveError, match=r"theta=-1\.0: a parameter violates"):
        function(np.array([0.4, -1.0]))


def test_numba_mode_honours_symbolic_x0_and_bracket():
    x = sp.Symbol("x", real=True)
    a = sp.Symbol("a", positive=True)
    residual = x**3 - a  # a single real root: the cube root
    by_guess = make_implicit_op(residual, x, a, x0=a / 3 + 1)
    by_bracket = make_implicit_op(residual, x, a, bracket=(0.0, 100.0))
    values = np.geomspace(1e-2, 1e4, 9)
    for op in (by_guess, by_bracket):
        numba_function = compile_value_and_gradients(op, "NUMBA")
        c_function = compile_value_and_gradients(op, "FAST_RUN")
        np.testing.assert_array_equal(numba_function(values)[0], c_function(values)[0])
        np.testing.assert_allclose(numba_function(values)[0], np.cbrt(values), rtol=1e-14)
        np.testing.assert_allclose(numba_function(values)[1], values ** (-2 / 3) / 3, rtol=1e-12)


@pytest.mark.parametrize("problem", SYSTEMS, ids=lambda p: p.name)
def test_systems_run_natively_in_numba_mode(problem):
    op = problem.build()

    def compile_for(mode: str):
        inputs = [pt.dvector(p.name) for p in op.params]
        outputs = op(*inputs)
        gradients = pytensor.grad(pt.add(*(o.sum() for o in outputs)), inputs)
        with warnings.catch_warnings():
            warnings.filterwarnings("error", message=FALLBACK)
            return pytensor.function(inputs, [*outputs, *gradients], mode=mode)

    points = sample_points(problem, size=30)
    numba_results, c_results = compile_for("NUMBA")(*points), compile_for("FAST_RUN")(*points)
    n = op.problem.size
    for ours, theirs in zip(numba_results[:n], c_results[:n], strict=True):
        np.testing.assert_array_equal(ours, theirs)
    for ours, theirs in zip(numba_results[n:], c_results[n:], strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10)
    expected = np.array([problem.root(*p) for p in zip(*points, strict=True)])
    np.testing.assert_allclose(
        np.stack(numba_results[:n], axis=1), expected, rtol=problem.rtol, atol=problem.atol
    )


def test_nutpie_samples_the_seed_model_natively():
    nutpie = pytest.importorskip("nutpie")
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=FALLBACK)
        compiled = nutpie.compile_pymc_model(seed_model(build_seed()))
    trace = nutpie.sample(
        compiled, chains=2, tune=500, draws=1000, seed=3, progress_bar=False, cores=2
    )
    assert int(trace.sample_stats["diverging"].sum()) == 0
    mean, mcse = posterior_mean_and_mcse(trace)
    assert abs(mean - exact_posterior_mean()) < 4 * mcse + 1e-3
    # mu is the op's output, stored by nutpie: it must solve the seed's equation
    mu, theta = trace.posterior["mu"].values, trace.posterior["theta"].values
    np.testing.assert_allclose(mu + mu * np.exp(theta * mu), 1.0, rtol=1e-12)


def test_a_second_process_loads_the_numba_graph_from_the_cache(tmp_path, monkeypatch):
    # fresh caches: the first process compiles and stores, the second only loads
    monkeypatch.setenv("PYTENSOR_FLAGS", f"base_compiledir={tmp_path / 'pytensor'}")
    monkeypatch.setenv("IMPLICITOP_CACHE_DIR", str(tmp_path / "implicitop"))
    # and a shared function another code version left there long ago, which goes
    stale = tmp_path / "pytensor" / "numba" / f"x._solve-implicitop__solve_{OTHER}.py311.nbi"
    stale.parent.mkdir(parents=True)
    stale.touch()
    os.utime(stale, (0, 0))
    first, second = (
        json.loads(run_script(ROOT / "tests" / "numba_cache_script.py").splitlines()[-1])
        for _ in range(2)
    )
    assert not stale.exists()
    assert first["key"] is not None and first["key"] == second["key"]
    assert {"implicit_op", "_parameter_rows", "phase_two_block"} <= set(first["compiled"])
    assert second["compiled"] == []
    assert second["values"] == first["values"]
    np.testing.assert_allclose(second["values"][0], [seed_root(t) for t in (0.4, 2.0, 30.0)])
    # a graph no process compiled (another numeric x0): the op's own function is
    # compiled, the parts every graph shares are not: the first process compiled them
    # once, the second loads them from the disk cache
    shared = {"_parameter_rows", "_solve"}
    for run in (first, second):
        assert "implicit_op" in run["compiled_again"]
        assert not shared & set(run["compiled_again"]), run["compiled_again"]
        np.testing.assert_allclose(run["values_again"], run["values"], rtol=1e-15)


#: A code version not this one's.
OTHER = "0123456789abcdef"


def test_the_numba_cache_keeps_what_serves_this_version_and_its_kernels(tmp_path):
    """``prune_cached_functions`` removes this module's files that were not written for
    a week and serve neither this code version nor a kernel in the kernel folder; it
    leaves PyTensor's own files."""
    folder, kernels = tmp_path / "numba", tmp_path / "kernels"
    folder.mkdir()
    kernels.mkdir()
    (kernels / "implicitop_kernel_aa11.py").touch()
    digest = "f" * 64
    files = {  # name: (written days ago, kept)
        f"m._solve-implicitop__solve_{_CODE_VERSION}.py311.nbi": (30, True),
        f"m._solve-implicitop__solve_{OTHER}.py311.nbi": (30, False),
        f"m._solve-implicitop__solve_{OTHER}.py311.1.nbc": (1, True),
        f"s.implicit_op-implicitop_kernel_aa11_{digest}_{_CODE_VERSION}.py311.nbi": (30, True),
        f"s.implicit_op-implicitop_kernel_bb22_{digest}_{_CODE_VERSION}.py311.1.nbc": (30, False),
        f"s.implicit_op-implicitop_kernel_bb22_{digest}_{_CODE_VERSION}.py311.nbi": (1, True),
        f"s.implicit_op-implicitop_kernel_aa11_{digest}_{OTHER}.py311.nbi": (30, False),
        f"string.add-{digest}_fastmath1.py311.nbi": (300, True),
    }
    now = 1e9
    for name, (days, _) in files.items():
        (folder / name).touch()
        os.utime(folder / name, (now - days * 86400, now - days * 86400))
    removed = prune_cached_functions(folder, kernels, now)
    assert sorted(removed) == sorted(name for name, (_, kept) in files.items() if not kept)
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        name for name, (_, kept) in files.items() if kept
    )
    assert prune_cached_functions(tmp_path / "missing", kernels, now) == []


def test_ops_whose_settings_differ_in_the_last_bits_get_different_cache_keys():
    x, t = sp.symbols("x t", real=True)
    keys = []
    for upper in (3.0, 3.0 + 1e-12):  # the same to the 8 digits an array's repr shows
        op = make_implicit_op(x**3 - t, x, t, bracket=(0.5, upper))
        keys.append(numba_funcify_and_cache_key(op, op(pt.dvector()).owner)[1])
    assert None not in keys and keys[0] != keys[1]


def test_numba_mode_spreads_a_large_batch_over_threads_with_the_same_roots(monkeypatch):
    """The graph cuts a batch of THREADED_FROM rows or more into parts on the threads
    ``IMPLICITOP_NUM_THREADS`` asks for, as the C op does: the same roots and statuses.
    It posts them to the process's helper threads (not threads started for each call):
    a helper takes a batch within a few calls."""
    monkeypatch.setenv("IMPLICITOP_NUM_THREADS", "3")
    mu, theta = sp.symbols("mu theta", positive=True)
    # settings no other test uses: a graph symbol bound here, with 3 threads
    op = make_implicit_op(mu + mu * sp.exp(theta * mu) - 1, mu, theta, x0=0.3)
    rng = np.random.default_rng(8)
    thetas = np.exp(rng.uniform(np.log(1e-3), np.log(1e3), 3 * THREADED_FROM + 17))
    thetas[::997] = np.nan
    t = pt.dvector("t")
    function = pytensor.function([t], op(t), mode="NUMBA")
    roots = function(thetas)
    np.testing.assert_array_equal(roots, op.solve(thetas).root)
    digest = _settings_digest(op.solver.settings.record, roots.dtype)
    assert [where[3] for symbol, (where, _, _) in _BOUND.items() if digest in symbol] == [3]
    blocks = helper_pool._pool.blocks
    taken = [block[helper_pool.TAKEN] for block in blocks]
    for _ in range(500):
        function(thetas)
        if any(block[helper_pool.TAKEN] > n for block, n in zip(blocks, taken, strict=True)):
            break
    else:
        pytest.fail("no helper thread took any of 500 batches")
