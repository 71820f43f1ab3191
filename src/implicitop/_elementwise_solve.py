"""Linear algebra of small n x n matrices held entry by entry in tensors (or traced
arrays), written as element-wise operations, so it broadcasts, and differentiates,
like any element-wise graph: a linear solve for tensor libraries without a batched
one (Theano), and the Cholesky factorisation that tests a Hessian and gives its log
determinant."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

__all__ = ["cholesky_diagonal_entrywise", "is_zero", "solve_entrywise"]


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


def _chosen(tensor: ModuleType, condition: Any, if_true: Any, if_false: Any) -> Any:
    """``switch(condition, if_true, if_false)``, or 0 where both are known zeros."""
    if is_zero(if_true) and is_zero(if_false):
        return 0.0
    return tensor.switch(condition, if_true, if_false)
