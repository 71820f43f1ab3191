"""One problem's element functions behind one C entry point, for the shared solver.

The first solver a new problem gets (see :mod:`~implicitop._solvers.compiled`) is the
algorithm compiled once for every problem (:mod:`~implicitop._solvers.by_address`),
which calls the problem's element functions by address. For each problem, numba
compiles only those functions and this module's entry point, which writes what the
function named by ``which`` returns to ``out``: about a second, where the whole
solver takes ten or more. This module's source follows the problem's element
functions in a generated module, as the algorithms' does in the full solver.

Arguments of the entry points: ``which`` (one of the codes below), the unknown(s)
``x`` (n), the element's parameter row ``p`` (``k`` values: those the functions read
come first), the number of unknowns ``n`` and ``out``. For ``HALLEY_BLOCK``,
``RESIDUAL_BLOCK`` and ``VALUE_BLOCK``, ``x`` holds a block's lanes
(:data:`~implicitop._solvers.lockstep.BLOCK`), ``p`` their ``n`` parameters, one row of
lanes per parameter, ``k`` is the number of lanes in use, and ``out`` receives (3,
``BLOCK``) values, or (``BLOCK``,) for ``VALUE_BLOCK``.

One equation's implicit derivatives, for the op's gradient, have an entry point of
their own (:func:`equation_slopes`), compiled only where a gradient takes them: a
model of one scalar root never does.
"""

import numpy as np
from numba import carray

from implicitop._solvers.interface import (
    bracket,
    guess,
    halley_block,
    halley_parts,
    residual,
    residual_and_slope,
    residual_block,
    residuals_and_jacobian,
    scale,
    scales,
    slopes_block,
    value_block,
)
from implicitop._solvers.lockstep import BLOCK

__all__ = [
    "BRACKET",
    "CALLED",
    "C_SIGNATURE",
    "GUESS",
    "HALLEY_BLOCK",
    "HALLEY_PARTS",
    "RESIDUAL",
    "RESIDUALS_AND_JACOBIAN",
    "RESIDUAL_AND_SLOPE",
    "RESIDUAL_BLOCK",
    "SCALE",
    "SCALES",
    "SLOPES_SIGNATURE",
    "VALUE_BLOCK",
    "equation_elements",
    "equation_slopes",
    "store",
    "system_elements",
]

# Which function an entry point evaluates.
(
    RESIDUAL_AND_SLOPE, HALLEY_PARTS, SCALE, GUESS, BRACKET, RESIDUALS_AND_JACOBIAN, SCALES,
    HALLEY_BLOCK, RESIDUAL_BLOCK, VALUE_BLOCK, RESIDUAL,
) = range(11)  # fmt: skip

#: The element functions each entry point calls, by number of unknowns (1, or 2 for all
#: systems).
CALLED = {
    1: (
        "residual",
        "residual_and_slope",
        "halley_parts",
        "halley_block",
        "residual_block",
        "residual_slope_and_scale",
        "value_block",
        "lane_parameters",
        "scale",
        "guess",
        "bracket",
    ),
    2: ("residuals_and_jacobian", "scales", "guess"),
}

#: The numba signature of the entry points: ``(which, x, p, k, n, out)``.
C_SIGNATURE = "void(intp, CPointer(float64), CPointer(float64), intp, intp, CPointer(float64))"
#: The numba signature of :func:`equation_slopes`: ``(x, p, count, k, out)``.
SLOPES_SIGNATURE = "void(CPointer(float64), CPointer(float64), intp, intp, CPointer(float64))"


def store(values: tuple[float, ...], out: np.ndarray) -> None:
    """Copy the floats ``values`` to ``out``."""
    for i in range(len(values)):
        out[i] = values[i]


def equation_elements(
    which: int, x: np.ndarray, p: np.ndarray, k: int, n: int, out: np.ndarray
) -> None:
    """The entry point of one equation's element functions (``n`` is 1)."""
    params = carray(p, (k,))
    if which == RESIDUAL:
        out[0] = residual(x[0], params)
    elif which == RESIDUAL_AND_SLOPE:
        store(residual_and_slope(x[0], params), out)
    elif which == HALLEY_PARTS:
        store(halley_parts(x[0], params), out)
    elif which == SCALE:
        out[0] = scale(x[0], params)
    elif which == HALLEY_BLOCK or which == RESIDUAL_BLOCK:
        lanes, columns, terms = carray(x, (BLOCK,)), carray(p, (n, BLOCK)), carray(out, (3, BLOCK))
        if which == HALLEY_BLOCK:
            halley_block(lanes, columns, k, terms)
        else:
            residual_block(lanes, columns, k, terms)
    elif which == VALUE_BLOCK:
        value_block(carray(x, (BLOCK,)), carray(p, (n, BLOCK)), k, carray(out, (BLOCK,)))
    elif which == GUESS:
        store(guess(params), out)
    else:
        store(bracket(params), out)


def equation_slopes(x: np.ndarray, p: np.ndarray, count: int, k: int, out: np.ndarray) -> None:
    """The entry point of one equation's implicit derivatives ``dx/dp_j`` at a block's
    roots ``x`` (:data:`~implicitop._solvers.lockstep.BLOCK`) for their ``k``
    parameters ``p`` (one row of lanes per parameter), the first ``count`` lanes in use,
    into ``out`` (k, ``BLOCK``): :func:`~implicitop._solvers.lockstep.slopes_block`."""
    slopes_block(carray(x, (BLOCK,)), carray(p, (k, BLOCK)), count, carray(out, (k, BLOCK)))


def system_elements(
    which: int, x: np.ndarray, p: np.ndarray, k: int, n: int, out: np.ndarray
) -> None:
    """The entry point of a system's element functions."""
    params = carray(p, (k,))
    if which == RESIDUALS_AND_JACOBIAN:
        store(residuals_and_jacobian(carray(x, (n,)), params), out)
    elif which == SCALES:
        store(scales(carray(x, (n,)), params), out)
    else:
        store(guess(params), out)
