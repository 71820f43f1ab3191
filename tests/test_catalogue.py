"""Every catalogue problem (equations and systems) against its independent reference."""

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
from hypothesis import given

from catalogue import (
    CATALOGUE,
    PLAIN_PYTHON_CATALOGUE,
    SPECIAL_FUNCTION_CATALOGUE,
    SYSTEMS,
    CatalogueProblem,
)
from implicitop.testing import check_implicit_op, parameter_points

PROBLEMS = CATALOGUE + SYSTEMS + SPECIAL_FUNCTION_CATALOGUE + PLAIN_PYTHON_CATALOGUE


@pytest.fixture(scope="module", params=PROBLEMS, ids=[p.name for p in PROBLEMS])
def problem(request) -> CatalogueProblem:
    return request.param


def stacked(outputs) -> pt.TensorVariable:
    """The op's outputs with the unknowns along the last axis."""
    return pt.stack(outputs if isinstance(outputs, list) else [outputs], axis=-1)


def expected(problem: CatalogueProblem, point: tuple) -> tuple[np.ndarray, np.ndarray]:
    """Reference roots (n,) and du/dtheta (n, k)."""
    roots = np.atleast_1d(problem.root(*point))
    return roots, np.reshape(problem.gradient(*point), (roots.size, len(point)))


@pytest.fixture(scope="module")
def compiled(problem):
    """Roots and du/dtheta as one compiled function of scalar inputs."""
    op = problem.build()
    inputs = [pt.dscalar(p.name) for p in op.params]
    roots = stacked(op(*inputs))
    return op, pytensor.function(inputs, [roots, *pytensor.gradient.jacobian(roots, inputs)])


def test_harness_passes_over_the_ranges(problem):
    check_implicit_op(problem.build(), problem.ranges)


def test_values_and_gradients_match_the_reference(problem, compiled):
    op, function = compiled

    @given(parameter_points(op.params, problem.ranges))
    def agrees(point):
        roots, *columns = function(*point)
        expected_roots, expected_gradient = expected(problem, point)
        np.testing.assert_allclose(roots, expected_roots, rtol=problem.rtol, atol=problem.atol)
        np.testing.assert_allclose(
            np.stack(columns, axis=1), expected_gradient, rtol=1e-6, atol=problem.gradient_atol
        )

    agrees()


def test_a_batch_of_points_solves_at_once(problem):
    op = problem.build()
    rng = np.random.default_rng(1)
    columns = []
    for symbol in op.params:
        lo, hi = problem.ranges[symbol.name]
        if lo > 0 and hi > 100 * lo:
            columns.append(np.exp(rng.uniform(np.log(lo), np.log(hi), 200)))
        else:
            columns.append(rng.uniform(lo, hi, 200))
    inputs = [pt.dvector(p.name) for p in op.params]
    roots = stacked(op(*inputs))
    function = pytensor.function(inputs, [roots, *pytensor.grad(roots.sum(), inputs)])
    values, *grads = function(*columns)
    references = [expected(problem, point) for point in zip(*columns, strict=True)]
    np.testing.assert_allclose(
        values, [r for r, _ in references], rtol=problem.rtol, atol=problem.atol
    )
    # the gradient of the sum of all roots: column sums of du/dtheta, per point
    np.testing.assert_allclose(
        np.stack(grads, axis=1),
        [g.sum(axis=0) for _, g in references],
        rtol=1e-6,
        atol=problem.gradient_atol,
    )
