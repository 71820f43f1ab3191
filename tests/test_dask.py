"""Roots over Dask arrays, block by block, on a local distributed cluster."""

import dask.array as da
import numpy as np
import pytest
from distributed import Client, LocalCluster

from catalogue import SYSTEMS, build_kepler, build_seed, circle_line_root, kepler_root
from implicitop import SolveStatus
from implicitop.dask import solve_chunks


@pytest.fixture(scope="module")
def client():
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True) as cluster:
        with Client(cluster) as client:
            yield client


def test_blocks_on_worker_processes_give_the_same_roots_as_one_call(client):
    op = build_seed()
    rng = np.random.default_rng(3)
    thetas = np.exp(rng.uniform(np.log(1e-3), np.log(1e3), 200_000))
    thetas[::1000] = -1.0  # outside the domain: NaN with a status saying why
    root, status = solve_chunks(op, da.from_array(thetas, chunks=30_000))
    assert root.chunks == ((30_000,) * 6 + (20_000,),)
    computed_root, computed_status = client.compute([root, status], sync=True)
    expected = op.solve(thetas)
    np.testing.assert_array_equal(computed_root, expected.root)
    np.testing.assert_array_equal(computed_status, expected.status)
    assert (computed_status[::1000] == SolveStatus.PARAMETER_OUTSIDE_DOMAIN).all()


def test_parameters_broadcast_across_differently_chunked_arrays(client):
    op = build_kepler()
    eccentricity = da.linspace(0.0, 0.9, 40, chunks=15)[:, np.newaxis]
    anomaly = da.linspace(-3.0, 3.0, 30, chunks=7)[np.newaxis, :]
    root, status = solve_chunks(op, eccentricity, anomaly)
    assert root.shape == (40, 30)
    values = client.compute(root, sync=True)
    e, m = np.broadcast_arrays(eccentricity.compute(), anomaly.compute())
    expected = np.vectorize(kepler_root)(e, m)
    np.testing.assert_allclose(values, expected, rtol=1e-9, atol=1e-15)
    assert (status.compute() == SolveStatus.CONVERGED).all()


def test_systems_give_a_trailing_axis_of_unknowns(client):
    op = SYSTEMS[0].build()
    radii = da.from_array(np.linspace(0.5, 2.0, 1000), chunks=300)
    root, _ = solve_chunks(op, radii, 3.0)
    values = client.compute(root, sync=True)
    assert values.shape == (1000, 2)
    expected = np.array([circle_line_root(r, 3.0) for r in np.linspace(0.5, 2.0, 1000)])
    np.testing.assert_allclose(values, expected, rtol=1e-10)


def test_bad_input_gets_a_clear_error():
    with pytest.raises(TypeError, match="Solver or op"):
        solve_chunks("seed", da.ones(3))
    with pytest.raises(TypeError, match="expected 1 parameter array"):
        solve_chunks(build_seed(), da.ones(3), da.ones(3))
