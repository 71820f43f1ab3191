"""Pickling, and sampling in several processes."""

import json
import pickle

import cloudpickle
import numpy as np
import pymc as pm
import pytest
import sympy as sp

from catalogue import build_kepler, build_seed, seed_root
from implicitop import make_implicit_op
from scripts import ROOT, run_script


@pytest.mark.parametrize("module", [pickle, cloudpickle], ids=["pickle", "cloudpickle"])
@pytest.mark.parametrize("build", [build_seed, build_kepler], ids=["seed", "kepler"])
def test_op_round_trips(module, build):
    op = build()
    restored = module.loads(module.dumps(op))
    assert restored == op and hash(restored) == hash(op)
    values = [np.array([0.3, 0.7])] * len(op.params)
    np.testing.assert_array_equal(restored(*values).eval(), op(*values).eval())
    assert restored.derivative == op.derivative


def seed_model() -> pm.Model:
    with pm.Model() as model:
        theta = pm.HalfNormal("theta", sigma=1)
        pm.Deterministic("mu", build_seed()(theta))
        pm.Normal("y", mu=model["mu"], sigma=0.1, observed=[0.2, 0.21, 0.3])
    return model


def test_model_round_trips_through_cloudpickle():
    model = seed_model()
    restored = cloudpickle.loads(cloudpickle.dumps(model))
    point = {"theta_log__": np.array(np.log(0.8))}
    assert restored.compile_logp()(point) == model.compile_logp()(point)
    assert float(restored["mu"].eval({restored["theta"]: 0.8})) == pytest.approx(seed_root(0.8))


def test_two_processes_sample_reproducibly():
    def run():
        with seed_model():
            return pm.sample(
                draws=150, tune=150, chains=2, cores=2, random_seed=7, progressbar=False
            )

    first, second = run(), run()
    np.testing.assert_array_equal(first.posterior["theta"], second.posterior["theta"])
    # the deterministic is the root at every draw
    theta = first.posterior["theta"].values.ravel()
    np.testing.assert_allclose(
        first.posterior["mu"].values.ravel(), [seed_root(t) for t in theta], rtol=1e-12
    )


def test_unpickling_an_op_derives_nothing(monkeypatch):
    # PyTensor unpickles the key of every op in its compiledir at each compile.
    ops = [build_seed(), build_kepler()]
    pickled = [pickle.dumps(op) for op in ops]

    def forbidden(*args, **kwargs):
        raise AssertionError("unpickling an op derived an expression")

    monkeypatch.setattr(sp.MatrixBase, "jacobian", forbidden)
    monkeypatch.setattr(sp, "simplify", forbidden)
    restored = [pickle.loads(data) for data in pickled]
    assert restored == ops and list(map(hash, restored)) == list(map(hash, ops))


def test_pytensor_cache_refresh_imports_neither_sympy_nor_numba(tmp_path, monkeypatch):
    # a fresh PyTensor compiledir; implicitop's kernels may come from the suite's cache
    monkeypatch.setenv("PYTENSOR_FLAGS", f"base_compiledir={tmp_path / 'pytensor'}")
    script = ROOT / "tests" / "cache_refresh_script.py"
    filled = json.loads(run_script(script, "fill", "1").splitlines()[-1])
    # x**n + x = 2 has the root x = 1 for every n; dx/dt = 1 / (n + 1)
    for power, (root, gradient) in enumerate(filled["values"], start=2):
        np.testing.assert_allclose(root, [1.0], rtol=1e-14)
        np.testing.assert_allclose(gradient, [1 / (power + 1)], rtol=1e-14)
    cached_keys = list((tmp_path / "pytensor").rglob("key.pkl"))
    assert cached_keys
    refreshed = json.loads(run_script(script, "trivial").splitlines()[-1])
    # the cached op's key was read, without SymPy (most of a second to import) or numba
    # (0.3-0.4 s): an op read back restores its problem only when it is used
    assert refreshed["implicitop._pytensor.op"]
    assert not refreshed["sympy"] and not refreshed["numba"]
    assert filled["numba"] and filled["sympy"]


def test_ops_are_equal_where_their_problems_and_options_are():
    x_first = sp.Symbol("x", positive=True, real=True)
    x_second = sp.Symbol("x", real=True, positive=True)
    t = sp.Symbol("t", positive=True)
    first = make_implicit_op(x_first**2 - t, x_first, t)
    second = make_implicit_op(x_second**2 - t, x_second, t)
    assert first == second and hash(first) == hash(second)
    assert first != make_implicit_op(x_first**2 - t, x_first, t, tol=1e-10)
    assert first != make_implicit_op(x_first**3 - t, x_first, t)
    assert first != make_implicit_op(x_first**2 - t, x_first, t, x0=2.0)
