"""One lane's values written into the rows of a block's array, for the vector loops.

A loop over a block's lanes that writes a tuple of per-problem length (one implicit
derivative per parameter, :func:`~implicitop._solvers.lockstep.slopes_block`) with a
loop over the tuple inside kept LLVM from covering every lane with the same vector
code: it peeled lanes off the vector loop, which then took a scalar ``exp``, a bit off
the vector one. :func:`store_scaled` is unrolled when compiled
(:mod:`~implicitop._solvers.stores_numba`): one store per value, no inner loop.
"""

import numpy as np

__all__ = ["store_scaled"]


def store_scaled(out: np.ndarray, i: int, values: tuple[float, ...], factor: float) -> None:
    """``out[j, i] = values[j] * factor`` for every ``j``."""
    for j, value in enumerate(values):
        out[j, i] = value * factor
