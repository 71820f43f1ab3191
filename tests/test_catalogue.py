"""Every catalogue problem against its independent reference, and through the harness."""

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
from hypothesis import given

from catalogue import CATALOGUE, CatalogueProblem
from implicitop.testing import check_implicit_op, parameter_points

IDS = [problem.name for problem in CATALOGUE]


@pytest.fixture(scope="module", params=CATALOGUE, ids=IDS)
def problem(request) -> CatalogueProblem:
    return request.param


@pytest.fixture(scope="module")
def compiled(problem):
    """Value and gradient of the op as one compiled function of vector inputs."""
    op = problem.build()
    inputs = [pt.dvector(p.name) for p in op.params]
    output = op(*inputs)
    grads = pytensor.grad(output.sum(), inputs)
    return op, pytensor.function(inputs, [output, *grads])


def test_harness_passes_over_the_ranges(problem):
    check_implicit_op(problem.build(), problem.ranges)


def test_values_and_gradients_match_the_reference(problem, compiled):
    op, function = compiled
    points = parameter_points(op.params, problem.ranges)

    @given(points)
    def agrees(point):
        value, *grads = function(*(np.array([v]) for v in point))
        expected = problem.root(*point)
        expected_grads = problem.gradient(*point)
        np.testing.assert_allclose(value[0], expected, rtol=problem.rtol, atol=1e-300)
        for grad, expected_grad in zip(grads, expected_grads, strict=True):
            np.testing.assert_allclose(grad[0], expected_grad, rtol=1e-8, atol=1e-12)

    agrees()


def test_a_batch_of_points_solves_at_once(problem, compiled):
    op, function = compiled
    rng = np.random.default_rng(1)
    columns = []
    for symbol in op.params:
        lo, hi = problem.ranges[symbol.name]
        if lo > 0 and hi > 100 * lo:
            columns.append(np.exp(rng.uniform(np.log(lo), np.log(hi), 400)))
        else:
            columns.append(rng.uniform(lo, hi, 400))
    values, *grads = function(*columns)
    expected = [problem.root(*point) for point in zip(*columns, strict=True)]
    np.testing.assert_allclose(values, expected, rtol=problem.rtol, atol=1e-300)
    expected_grads = np.array([problem.gradient(*point) for point in zip(*columns, strict=True)])
    np.testing.assert_allclose(np.array(grads).T, expected_grads, rtol=1e-8, atol=1e-12)
