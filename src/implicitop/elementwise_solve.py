"""A linear solve of small n x n systems held entry by entry in tensors, for tensor
libraries without a batched solve (Theano): Gaussian elimination with partial
pivoting written as element-wise operations, so it broadcasts, and differentiates,
like any element-wise graph."""

from __future__ import annotations

from collections.abc import Sequence
from types import ModuleType

__all__ = ["solve_entrywise"]


def solve_entrywise(
    matrix: Sequence[Sequence[object]], rhs: Sequence[object], tensor: ModuleType
) -> list[object]:
    """``x`` with ``matrix @ x = rhs`` for every element: ``matrix[i][j]`` and ``rhs[i]``
    are tensors of one shape (or broadcastable), ``tensor`` their library's tensor
    module (``switch``, ``abs_``). Rows are swapped so each pivot is the column's
    largest entry in magnitude; a singular matrix gives inf or NaN where it is."""
    n = len(rhs)
    rows = [[*matrix[i], rhs[i]] for i in range(n)]
    for col in range(n):
        for r in range(col + 1, n):
            larger = tensor.gt(tensor.abs_(rows[r][col]), tensor.abs_(rows[col][col]))
            pivot, other = rows[col], rows[r]
            rows[col] = [tensor.switch(larger, b, a) for a, b in zip(pivot, other, strict=True)]
            rows[r] = [tensor.switch(larger, a, b) for a, b in zip(pivot, other, strict=True)]
        for r in range(col + 1, n):
            factor = rows[r][col] / rows[col][col]
            rows[r] = [
                entry if j < col else entry - factor * rows[col][j]
                for j, entry in enumerate(rows[r])
            ]
    solution: list[object] = [None] * n
    for i in reversed(range(n)):
        total = rows[i][n]
        for j in range(i + 1, n):
            total = total - rows[i][j] * solution[j]
        solution[i] = total / rows[i][i]
    return solution
