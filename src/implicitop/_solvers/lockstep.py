"""Phase 1's evaluations for a whole block of elements at once, in vector instructions.

Each round of phase 1 (see :mod:`~implicitop._solvers.scalar`) evaluates the function
it iterates on, with its first two derivatives, for every element of a block:
:func:`halley_block` does so for the block's lanes in use, rounded up to whole chunks
of :data:`LANES`, without a branch, so LLVM vectorises the loop, ``exp`` and ``log``
included where numba has a vector math library (:mod:`~implicitop._solvers.vector_math`);
and :func:`residual_block` evaluates the residual at the candidates phase 1 settles on,
:func:`value_block` beside them (vectorised too where the residual has no branch).
:func:`slopes_block` is not the solver's: it gives the op's gradient the implicit
derivatives at the roots, with the same vector ``exp``.
Every lane of a chunk is computed, those of finished or padding elements too, and the
trip count is a multiple of the vector step: each element takes the same instructions
wherever it sits in a batch, so its result does not depend on the batch, the block or
the thread count.

This module's source follows the algorithm in a problem's full solver and the
element entry point in its element module (see :mod:`~implicitop._solvers.generated`),
so both tiers run this same code; the shared solver calls the element module's.
"""

import math

import numpy as np

from implicitop._solvers.interface import (
    halley_parts,
    lane_parameters,
    residual,
    residual_slope_and_scale,
    slope_and_partials,
)
from implicitop._solvers.stores import store_scaled

__all__ = [
    "BLOCK",
    "LANES",
    "LOG_FORM_RATIO",
    "halley_block",
    "halley_terms",
    "in_log_form",
    "pad_columns",
    "residual_block",
    "slopes_block",
    "value_block",
    "whole_chunks",
]

#: Elements solved together: enough independent work for the processor to overlap,
#: and few enough passes over a batch that their set-up costs little beside the
#: lanes' work (the data-sized model's logp+dlogp 5% faster than with blocks of 64,
#: on one thread or two; see benchmarks/README.md).
BLOCK = 128
#: Lanes evaluated together. LLVM covers a loop with vector steps of at most 32
#: doubles on x86-64 (8 per AVX-512 register, unrolled at most 4 times), so a trip
#: count that is a multiple of 32 leaves no lane to a scalar remainder loop, whose
#: ``exp`` would differ in the last bit from the vector one. A small batch pays for 32
#: lanes, not for :data:`BLOCK`.
LANES = 32
if BLOCK % LANES:
    raise RuntimeError(f"a block of {BLOCK} elements is not whole chunks of {LANES} lanes")
#: Phase 1 iterates on ``log A - log B`` where ``A`` and ``B`` differ by more than this
#: factor, and on ``A - B`` (cheaper, the same near the root) where they do not.
LOG_FORM_RATIO = 2.0


def halley_terms(x: float, p: np.ndarray) -> tuple[float, float, float]:
    """The function ``F`` phase 1 iterates on at ``x``, ``dF/dx`` and ``d2F/dx2``:
    ``F = log A - log B`` where ``R = A - B`` with ``A, B > 0`` far apart (see
    :data:`LOG_FORM_RATIO`), else ``F = R``. Both have the same roots.

    Both forms are computed and one is selected (no branch, so a loop of it
    vectorises); the log form is computed from ``A = B = 1`` where it is not selected.
    """
    a, a1, a2, b, b1, b2 = halley_parts(x, p)
    log_form = in_log_form(a, b)
    positive_a = a if log_form else 1.0
    positive_b = b if log_form else 1.0
    slope_a, slope_b = a1 / positive_a, b1 / positive_b
    log_value = math.log(positive_a) - math.log(positive_b)
    log_slope = slope_a - slope_b
    log_curvature = a2 / positive_a - slope_a * slope_a - b2 / positive_b + slope_b * slope_b
    value = log_value if log_form else a - b
    slope = log_slope if log_form else a1 - b1
    curvature = log_curvature if log_form else a2 - b2
    return value, slope, curvature


def in_log_form(a: float, b: float) -> bool:
    """Whether phase 1 steps on ``log A - log B`` where ``R = A - B``: both are positive
    and more than :data:`LOG_FORM_RATIO` apart."""
    far_apart = (a > LOG_FORM_RATIO * b) | (b > LOG_FORM_RATIO * a)
    return (b > 0.0) & (a > 0.0) & far_apart


def whole_chunks(count: int) -> int:
    """``count`` lanes rounded up to whole chunks of :data:`LANES`: a trip count the
    vector loop covers with no scalar remainder."""
    return ((count + LANES - 1) // LANES) * LANES


def halley_block(x: np.ndarray, columns: np.ndarray, count: int, terms: np.ndarray) -> None:
    """:func:`halley_terms` at ``x`` (``BLOCK``,) for the parameters ``columns``
    (k, ``BLOCK``: one column per lane, so each parameter's lanes are contiguous and
    load as vectors) into the columns of ``terms`` (3, ``BLOCK``), for the first
    ``count`` lanes rounded up to whole chunks of :data:`LANES`.

    A first loop writes ``A - B`` and its derivatives, the terms of every lane not in
    the log form (:func:`in_log_form`); only where some lane of the block is in it does
    a second loop compute :func:`halley_terms` for all, so a block near its roots pays
    for no ``log`` and no division. Both loops run the same vector code for ``A - B``:
    a lane's terms do not depend on its neighbours.
    """
    log_form = False
    for i in range(whole_chunks(count)):
        a, a1, a2, b, b1, b2 = halley_parts(x[i], lane_parameters(columns, i))
        log_form |= in_log_form(a, b)
        terms[0, i] = a - b
        terms[1, i] = a1 - b1
        terms[2, i] = a2 - b2
    if not log_form:
        return
    for i in range(whole_chunks(count)):
        value, slope, curvature = halley_terms(x[i], lane_parameters(columns, i))
        terms[0, i] = value
        terms[1, i] = slope
        terms[2, i] = curvature


def residual_block(x: np.ndarray, columns: np.ndarray, count: int, terms: np.ndarray) -> None:
    """``R``, ``dR/dx`` and the size of R's terms (:func:`~implicitop._solvers.interface.scale`)
    at ``x`` (``BLOCK``,) for the parameters ``columns`` (k, ``BLOCK``) into the columns
    of ``terms`` (3, ``BLOCK``), as :func:`halley_block`: what acceptance starts from
    at phase 1's candidates."""
    for i in range(whole_chunks(count)):
        value, slope, size = residual_slope_and_scale(x[i], lane_parameters(columns, i))
        terms[0, i] = value
        terms[1, i] = slope
        terms[2, i] = size


def value_block(x: np.ndarray, columns: np.ndarray, count: int, values: np.ndarray) -> None:
    """``R`` alone at ``x`` (``BLOCK``,) for the parameters ``columns`` (k, ``BLOCK``)
    into ``values`` (``BLOCK``,), as :func:`residual_block`: the acceptance test's
    probes beside the candidates, which need neither the slope nor the size of R's
    terms."""
    for i in range(whole_chunks(count)):
        values[i] = residual(x[i], lane_parameters(columns, i))


def slopes_block(x: np.ndarray, columns: np.ndarray, count: int, out: np.ndarray) -> None:
    """The implicit derivatives ``dx/dp_j = -(dR/dp_j) / (dR/dx)`` at the roots ``x``
    (``BLOCK``,) for the parameters ``columns`` (k, ``BLOCK``) into the rows of ``out``
    (k, ``BLOCK``), for the first ``count`` lanes rounded up to whole chunks: NaN where
    ``x`` is NaN (no root) or ``dR/dx`` is 0, as the gradient's graph gives them."""
    for i in range(whole_chunks(count)):
        terms = slope_and_partials(x[i], lane_parameters(columns, i))
        undefined = math.isnan(x[i]) | (terms[0] == 0.0)
        factor = math.nan if undefined else -1.0 / terms[0]  # one division for all
        store_scaled(out, i, terms[1:], factor)


def pad_columns(params: np.ndarray, columns: np.ndarray) -> None:
    """Copy the parameter rows ``params`` (b <= ``BLOCK``, k) to the columns of
    ``columns`` (k, ``BLOCK``), the lanes past ``b`` filled with copies of the first up
    to whole chunks (:func:`whole_chunks`: the lanes the vector loops read)."""
    size = params.shape[0]
    for j in range(params.shape[1]):
        for i in range(whole_chunks(size)):
            columns[j, i] = params[i if i < size else 0, j]
