"""The small dense linear algebra of the traced solvers of systems
(:mod:`~implicitop._jax.system`, :mod:`~implicitop._jax.hybrid`)."""

import jax
import jax.numpy as jnp
import jax.scipy.linalg

from implicitop._solvers.status import SMALLEST_NORMAL
from implicitop._solvers.system import DIAGONAL_FLOOR

__all__ = ["diagonal_scaling", "newton_like_step"]


def diagonal_scaling(diagonal: jax.Array) -> jax.Array:
    """Marquardt's scaling of a damped step: the magnitudes of ``diagonal``, floored at
    :data:`~implicitop._solvers.system.DIAGONAL_FLOOR` of the largest (as
    :func:`~implicitop._solvers.system.lm_step` does)."""
    magnitudes = jnp.abs(diagonal)
    scaling = jnp.maximum(magnitudes, DIAGONAL_FLOOR * jnp.max(magnitudes))
    return jnp.maximum(scaling, SMALLEST_NORMAL)


def newton_like_step(matrix: jax.Array, rhs: jax.Array) -> tuple[jax.Array, jax.Array]:
    """``-matrix^-1 rhs`` and whether it is usable: ``matrix`` finite with no zero pivot
    in its LU factors with partial pivoting, and the step finite
    (:func:`~implicitop._solvers.system_parts.solve_linear`)."""
    finite = jnp.all(jnp.isfinite(matrix))
    factors, pivots = jax.scipy.linalg.lu_factor(jnp.where(finite, matrix, jnp.eye(rhs.shape[0])))
    regular = finite & jnp.all(jnp.diagonal(factors) != 0)
    safe = jnp.where(regular, factors, jnp.eye(rhs.shape[0]))
    step = -jax.scipy.linalg.lu_solve((safe, pivots), rhs)
    return step, regular & jnp.all(jnp.isfinite(step))
