"""Faults at run time: never a hang, a crash inside a sampler or a silent wrong number."""

import multiprocessing
import threading

import numpy as np
import pymc as pm
import pytensor
import pytensor.tensor as pt
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from catalogue import CATALOGUE, SYSTEMS, build_seed
from implicitop import SolveStatus, make_implicit_op

x, t = sp.symbols("x t", real=True)
EXTREME_FLOATS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True, allow_subnormal=True),
    st.sampled_from([0.0, -0.0, 1e-300, -1e-300, 1e300, -1e300, 5e-324, 2.2e-308]),
)


@pytest.mark.parametrize("problem", CATALOGUE + SYSTEMS, ids=lambda p: p.name)
def test_any_input_gives_a_root_or_nan_without_exception(problem):
    op = problem.build()
    assert op.solver.kernels.compiled  # compiled here, not inside the deadline

    @settings(deadline=20_000, database=None)
    @given(st.lists(st.tuples(*[EXTREME_FLOATS] * len(op.params)), min_size=1, max_size=6))
    def bounded(rows):
        columns = [np.array(column) for column in zip(*rows, strict=True)]
        result = op.solve(*columns)
        roots = result.root.reshape(len(rows), -1)
        converged = result.status == SolveStatus.CONVERGED
        assert np.isfinite(roots[converged]).all()
        assert np.isnan(roots[~converged]).all()

    bounded()


def test_flat_residual_without_root_gives_nan():
    # atan never reaches 2: Newton runs off to infinity where the residual is flat
    op = make_implicit_op(sp.atan(x) - t, x, t)
    result = op.solve(np.array([2.0, 1.0]))
    assert result.status[0] == SolveStatus.NO_SIGN_CHANGE and np.isnan(result.root[0])
    assert result.root[1] == pytest.approx(np.tan(1.0), rel=1e-14)


def test_overflowing_residual_without_root_gives_nan():
    mu = sp.Symbol("mu", positive=True)
    # exp(mu) + theta > 0 everywhere: no root, and the residual overflows for large mu
    op = make_implicit_op(sp.exp(mu) + t, mu, t)
    result = op.solve(np.array([1.0, -5.0]))
    assert np.isnan(result.root[0]) and result.status[0] == SolveStatus.NO_SIGN_CHANGE
    assert result.root[1] == pytest.approx(np.log(5.0), rel=1e-14)


@pytest.mark.parametrize(
    "step",
    [
        sp.Piecewise((0, x < 1), (1, True)),
        sp.Heaviside(x - 1, 1),
        (sp.sign(x - 1) + 1) / 2,
    ],
    ids=["piecewise", "heaviside", "sign"],
)
def test_a_jump_across_zero_is_not_reported_as_a_root(step):
    # x + step(x - 1) = t jumps from 1 to 2 at x = 1: no root for t in (1, 2)
    op = make_implicit_op(x + step - t, x, t)
    result = op.solve(np.array([1.25, 1.75, 0.5, 3.0]))
    assert list(result.status[:2]) == [SolveStatus.NOT_A_ROOT] * 2
    assert np.isnan(result.root[:2]).all()
    np.testing.assert_allclose(result.root[2:], [0.5, 2.0], rtol=1e-15)


def test_kinks_solve_and_differentiate_on_either_side():
    # a kinked dose response: slope 2 below x = 1, slope 1/2 above it
    response = sp.Piecewise((2 * x, x <= 1), (2 + (x - 1) / 2, True))
    op = make_implicit_op(response - t, x, t)
    values = pt.dvector("t")
    root = op(values)
    function = pytensor.function([values], [root, pytensor.grad(root.sum(), values)])
    roots, slopes = function(np.array([0.5, 1.999, 2.001, 4.0]))
    np.testing.assert_allclose(roots, [0.25, 0.9995, 1.002, 5.0], rtol=1e-14)
    np.testing.assert_array_equal(slopes, [0.5, 0.5, 2.0, 2.0])


def test_converged_flags_mark_failed_elements():
    op = make_implicit_op(x**2 + 1 - t, x, t)
    values = pt.dvector("t")
    flags = pytensor.function([values], op.converged(values))
    np.testing.assert_array_equal(flags(np.array([5.0, 0.5, np.nan, 2.0])), [1, 0, 0, 1])


def test_nuts_through_regions_without_a_root_reports_divergences_not_errors():
    # x**2 = t - 1 has a real root only for t > 1; the prior puts mass on t <= 1
    op = make_implicit_op(x**2 + 1 - t, x, t, x0=1.0)
    with pm.Model():
        theta = pm.Normal("t", mu=1.5, sigma=1.0)
        pm.Normal("y", mu=op(theta), sigma=0.5, observed=[0.2, 0.4])
        idata = pm.sample(
            draws=200,
            tune=200,
            chains=2,
            cores=1,
            random_seed=3,
            initvals={"t": 2.0},
            progressbar=False,
        )
    samples = idata.posterior["t"].values
    assert np.isfinite(samples).all() and (samples > 1).all()
    assert int(idata.sample_stats["diverging"].sum()) > 0


def _solve_in_child(queue) -> None:
    thetas = np.geomspace(1e-5, 1e5, 101)
    queue.put(build_seed().solve(thetas).root.tobytes())


def test_results_are_bit_identical_across_calls_and_processes():
    op = build_seed()
    thetas = np.geomspace(1e-5, 1e5, 101)
    first = op.solve(thetas).root
    assert first.tobytes() == op.solve(thetas).root.tobytes()
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    child = context.Process(target=_solve_in_child, args=(queue,))
    child.start()
    from_child = queue.get(timeout=300)
    child.join(timeout=60)
    assert from_child == first.tobytes()


def test_threads_get_the_same_answers_as_one():
    op = build_seed()
    theta = pt.dvector("theta")
    function = pytensor.function([theta], [op(theta), pytensor.grad(op(theta).sum(), theta)])
    inputs = [np.geomspace(1e-3, 1e3, 500) * (1 + k / 10) for k in range(8)]
    alone = [function(v) for v in inputs]
    together = [None] * len(inputs)

    def work(k: int, compiled) -> None:
        for _ in range(20):
            together[k] = compiled(inputs[k])

    # each thread calls its own copy: PyTensor functions keep their buffers per object
    threads = [threading.Thread(target=work, args=(k, function.copy())) for k in range(len(inputs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for a, b in zip(alone, together, strict=True):
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_array_equal(a[1], b[1])
