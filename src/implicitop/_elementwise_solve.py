"""Linear algebra of small n x n matrices held entry by entry in tensors (or traced
arrays), written as element-wise operations, so it broadcasts, and differentiates,
like any element-wise graph: a linear solve for tensor libraries without a batched
one (Theano), and the Cholesky factorisation that tests a Hessian and gives its log
determinant."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

__all__ = ["cholesky_diagonal_entrywise", "is_zero", "solve_entrywise", "solve_equilibrated"]

#: ``(matrix, rhs) -> x`` for matrices and vectors held entry by entry.
LinearSolve = Callable[[Sequence[Sequence[Any]], Sequence[Any]], list[Any]]


def cholesky_diagonal_entrywise(
    matrix: Sequence[Sequence[Any]], sqrt: Callable[[Any], Any]
) -> list[Any]:
    """The diagonal of the Cholesky factor ``L`` (``A = L L^T``) of the symmetric part of
    ``matrix``, entry by entry; ``sqrt`` is the library's square root.

    The same steps as :func:`implicitop._solvers.system.positive_definite`, so the
    matrix is positive definite exactly where every entry returned is positive and
    finite (a pivot that is not positive gives NaN or 0); where it is,
    ``2 * sum(log(diagonal))`` is its log determinant.

    Examples
    --------
    >>> import math
    >>> cholesky_diagonal_entrywise([[4.0, 2.0], [2.0, 5.0]], math.sqrt)
    [2.0, 2.0]
    """
    n = len(matrix)
    a = [list(row) for row in matrix]
    for i in range(n):
        for j in range(i):
            a[i][j] = a[j][i] = 0.5 * (a[i][j] + a[j][i])
    for j in range(n):
        pivot = a[j][j]
        for k in range(j):
            pivot = pivot - a[j][k] * a[j][k]
        a[j][j] = sqrt(pivot)
        for i in range(j + 1, n):
            total = a[i][j]
            for k in range(j):
                total = total - a[i][k] * a[j][k]
            a[i][j] = total / a[j][j]
    return [a[j][j] for j in range(n)]


def is_zero(entry: Any) -> bool:
    """Whether ``entry`` is a number known to be 0 (an entry the elimination can skip)."""
    return isinstance(entry, int | float) and entry == 0


def solve_entrywise(
    matrix: Sequence[Sequence[Any]], rhs: Sequence[Any], tensor: ModuleType
) -> list[Any]:
    """``x`` with ``matrix @ x = rhs`` for every element: ``matrix[i][j]`` and ``rhs[i]``
    are tensors of one shape (or broadcastable), or the number 0 where an entry is known
    to be zero (its operations are left out); ``tensor`` is their library's tensor
    module (``gt``, ``switch``). Rows are swapped so each pivot is the column's
    largest entry in magnitude; a singular matrix gives inf or NaN where it is."""
    n = len(rhs)
    rows = [[*matrix[i], rhs[i]] for i in range(n)]
    for col in range(n):
        for r in range(col + 1, n):
            if is_zero(rows[r][col]):
                continue
            pivot, other = rows[col], rows[r]
            if is_zero(pivot[col]):
                rows[col], rows[r] = other, pivot
                continue
            larger = tensor.gt(abs(other[col]), abs(pivot[col]))
            rows[col] = [_chosen(tensor, larger, b, a) for a, b in zip(pivot, other, strict=True)]
            rows[r] = [_chosen(tensor, larger, a, b) for a, b in zip(pivot, other, strict=True)]
        for r in range(col + 1, n):
            if is_zero(rows[r][col]):
                continue
            factor = rows[r][col] / rows[col][col]
            rows[r] = [
                entry if j < col or is_zero(rows[col][j]) else entry - factor * rows[col][j]
                for j, entry in enumerate(rows[r])
            ]
    solution: list[Any] = [None] * n
    for i in reversed(range(n)):
        total = rows[i][n]
        for j in range(i + 1, n):
            if not is_zero(rows[i][j]):
                total = total - rows[i][j] * solution[j]
        solution[i] = total / rows[i][i]
    return solution


def solve_equilibrated(
    matrix: Sequence[Sequence[Any]],
    rhs: Sequence[Any],
    tensor: ModuleType,
    solve: LinearSolve | None = None,
) -> list[Any]:
    """:func:`solve_entrywise`'s ``x`` (or ``solve``'s, given the same arguments), solved
    with the matrix's rows, then its columns, scaled to 1-norm 1.

    Unknowns and equations of a system may differ by many orders of magnitude (a
    speciation over twelve decades); scaled, the solve loses no more digits than the
    problem itself, and a batched solver does not warn about a condition number that is
    only the units'. (The norms are sums of entries, element-wise: PyTensor's
    element-wise fusion fails on reductions over a stacked matrix's small axes.)

    Examples
    --------
    >>> import pytensor.tensor as pt
    >>> x = solve_equilibrated([[1e-12, 0.0], [1.0, 1e12]], [2e-12, 1e12 + 2], pt)
    >>> [round(float(v.eval()), 12) for v in x]
    [2.0, 1.0]
    """
    n = len(rhs)
    rows = [_norm_or_one(row, tensor) for row in matrix]
    scaled = [
        [_divided(entry, norm) for entry in row] for row, norm in zip(matrix, rows, strict=True)
    ]
    columns = [_norm_or_one([scaled[i][j] for i in range(n)], tensor) for j in range(n)]
    equilibrated = [[_divided(scaled[i][j], columns[j]) for j in range(n)] for i in range(n)]
    right = [value / norm for value, norm in zip(rhs, rows, strict=True)]
    if solve is None:
        solution = solve_entrywise(equilibrated, right, tensor)
    else:
        solution = solve(equilibrated, right)
    return [value / column for value, column in zip(solution, columns, strict=True)]


def _norm_or_one(entries: Sequence[Any], tensor: ModuleType) -> Any:
    """``sum |entry|`` (entries known to be 0 left out), or 1 where every entry is 0."""
    sizes = [abs(entry) for entry in entries if not is_zero(entry)]
    norm = tensor.add(*sizes) if sizes else 0.0
    return tensor.switch(tensor.gt(norm, 0), norm, 1.0)


def _divided(entry: Any, norm: Any) -> Any:
    """``entry / norm``, and 0 for an entry known to be 0."""
    return 0.0 if is_zero(entry) else entry / norm


def _chosen(tensor: ModuleType, condition: Any, if_true: Any, if_false: Any) -> Any:
    """``switch(condition, if_true, if_false)``, or 0 where both are known zeros."""
    if is_zero(if_true) and is_zero(if_false):
        return 0.0
    return tensor.switch(condition, if_true, if_false)
