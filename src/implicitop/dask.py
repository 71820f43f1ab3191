"""Roots over parameter arrays larger than memory, chunk by chunk, with Dask.

:func:`solve_chunks` maps the numeric solve over the blocks of Dask arrays
(``dask.array.map_blocks``): each block is solved where it lives, on a thread, a
process or a machine of a Dask cluster, with the same results as one call over the
whole array. Needs the ``dask`` extra: ``pip install "implicitop[dask]"``.
"""

from __future__ import annotations

import string

import numpy as np

from implicitop._extras import missing_extra
from implicitop._solvers import Solver

try:
    import dask.array as da
except ModuleNotFoundError as error:
    raise missing_extra(error, "dask", "implicitop.dask") from None


__all__ = ["solve_chunks"]


def _solve_block(*blocks: np.ndarray, solver: Solver) -> np.ndarray:
    """Roots (n columns) and status codes (one column, as floats) of one block."""
    result = solver.solve(*blocks)
    roots = result.root.reshape(*result.status.shape, solver.problem.size)
    return np.concatenate([roots, result.status[..., np.newaxis].astype(np.float64)], axis=-1)


def _aligned(arrays: list[da.Array]) -> list[da.Array]:
    """Arrays of one shape rechunked to common blocks."""
    index = string.ascii_lowercase[: arrays[0].ndim]
    _, aligned = da.core.unify_chunks(*(part for array in arrays for part in (array, index)))
    return aligned


def solve_chunks(solver: Solver | object, *values: object) -> tuple[da.Array, da.Array]:
    """Roots and status codes for every element of the broadcast parameter arrays,
    computed lazily, one Dask block at a time.

    Parameters
    ----------
    solver
        A :class:`~implicitop.Solver`, or an op (anything with a ``solver``
        attribute, such as :class:`~implicitop.ImplicitOp`).
    *values
        One Dask array (or anything :func:`dask.array.asarray` takes) per parameter,
        broadcast against each other; blocks follow their chunks.

    Returns
    -------
    root, status
        Dask arrays: roots of the broadcast shape (with a trailing axis of length n
        for systems) and :class:`~implicitop.SolveStatus` codes (int8).

    Examples
    --------
    >>> import dask.array as da
    >>> import sympy as sp
    >>> from implicitop import make_implicit_op
    >>> from implicitop.dask import solve_chunks
    >>> mu, theta = sp.symbols("mu theta", positive=True)
    >>> op = make_implicit_op(mu + mu * sp.exp(theta * mu) - 1, mu, theta)
    >>> root, status = solve_chunks(op, da.linspace(0.1, 10.0, 1000, chunks=250))
    >>> bool((status.compute() == 0).all())
    True
    """
    solver = getattr(solver, "solver", solver)
    if not isinstance(solver, Solver):
        raise TypeError(f"expected an implicitop Solver or op, got {type(solver).__name__}")
    if len(values) != len(solver.problem.params):
        raise TypeError(
            f"expected {len(solver.problem.params)} parameter array(s), got {len(values)}"
        )
    arrays = _aligned(da.broadcast_arrays(*(da.asarray(v, dtype=np.float64) for v in values)))
    n = solver.problem.size
    ndim = arrays[0].ndim
    stacked = da.map_blocks(
        _solve_block,
        *arrays,
        solver=solver,
        dtype=np.float64,
        new_axis=ndim,
        chunks=(*arrays[0].chunks, (n + 1,)),
        meta=np.empty((0,) * (ndim + 1)),
    )
    root = stacked[..., 0] if n == 1 else stacked[..., :n]
    return root, stacked[..., n].astype(np.int8)
