"""The system algorithm's own parts: its small linear solver (against LAPACK) and the
views without reference counts its compiled loops work on."""

import numba
import numpy as np
import pytest

from implicitop._solvers import unowned_numba  # noqa: F401  (registers the compiled borrowed)
from implicitop._solvers.system_parts import scratch, solve_linear
from implicitop._solvers.unowned import borrowed


def solved(matrix: np.ndarray, rhs: np.ndarray) -> tuple[bool, np.ndarray]:
    n = rhs.shape[0]
    out = np.full(n, np.nan)
    with np.errstate(all="ignore"):  # as the solver runs its plain-Python form
        return solve_linear(matrix, rhs, scratch(n).work, out), out


@pytest.mark.parametrize("n", [1, 2, 3, 5, 8])
def test_the_linear_solver_agrees_with_lapack(n):
    rng = np.random.default_rng(n)
    for _ in range(20):
        matrix = rng.normal(size=(n, n)) * 10.0 ** rng.uniform(-3, 3, size=(n, 1))
        rhs = rng.normal(size=n)
        usable, step = solved(matrix, rhs)
        assert usable
        np.testing.assert_allclose(step, -np.linalg.solve(matrix, rhs), rtol=1e-9)


@pytest.mark.parametrize(
    ("matrix", "rhs", "expected"),
    [
        # a zero and a tiny first pivot: exact only with row exchanges
        ([[0.0, 1.0], [1.0, 0.0]], [2.0, 3.0], [-3.0, -2.0]),
        ([[1e-20, 1.0], [1.0, 1.0]], [1.0, 2.0], [-1.0, -1.0]),
        ([[0.0, 0.0, 2.0], [0.0, 3.0, 0.0], [4.0, 0.0, 0.0]], [2.0, 3.0, 4.0], [-1.0, -1.0, -1.0]),
    ],
)
def test_the_linear_solver_exchanges_rows(matrix, rhs, expected):
    usable, step = solved(np.array(matrix), np.array(rhs))
    assert usable
    np.testing.assert_allclose(step, expected, rtol=1e-15)


@pytest.mark.parametrize(
    "matrix",
    [
        [[1.0, 2.0], [2.0, 4.0]],  # singular
        [[0.0, 0.0], [0.0, 1.0]],  # a zero column
        [[np.nan, 1.0], [1.0, 1.0]],
        [[np.inf, 1.0], [1.0, 1.0]],
        [[1e-300, 0.0], [0.0, 1.0]],  # regular, but the step overflows
    ],
)
def test_the_linear_solver_refuses_singular_or_nonfinite_systems(matrix):
    usable, _ = solved(np.array(matrix), np.array([1e10, 1.0]))
    assert not usable


@numba.njit
def _write_through_views(vector, matrices):
    view, (first, second) = borrowed((vector, matrices))
    view[0] = 5.0
    first[1, 1] = 7.0
    second[0, 0] = -1.0
    return view.sum() + first.sum() + second.sum()


def test_borrowed_views_read_and_write_the_arrays_they_view():
    vector, first, second = np.ones(3), np.zeros((2, 2)), np.zeros((2, 3))
    assert _write_through_views(vector, (first, second)) == 5.0 + 2.0 + 7.0 - 1.0
    assert vector[0] == 5.0 and first[1, 1] == 7.0 and second[0, 0] == -1.0
    # in plain Python (the solver's fallback) they are the arrays themselves
    pair = (vector, (first, second))
    assert borrowed(pair) is pair
