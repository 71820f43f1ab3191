"""The loop over elements that both algorithms share, and its C entry points.

Every element is an independent root problem: its parameters are checked, its
starting point is chosen, and the algorithm's ``solve_block`` (one equation:
:mod:`~implicitop._solvers.scalar`; systems: :mod:`~implicitop._solvers.system`)
solves it, :data:`~implicitop._solvers.lockstep.BLOCK` elements at a time. This
module's source opens each generated solver module (see
:mod:`~implicitop._solvers.generated`); the algorithm's source follows it and defines
``solve_block``, the element functions follow that.
:func:`solve_from_pointers` is the full solver's C entry point,
:func:`solve_by_address` the shared solver's. The full solver compiles only the path
nearly every element takes and hands the elements it leaves to the shared solver
(:mod:`~implicitop._solvers.fast_path`).

Arrays: ``params`` (m, k), one row per element; ``settings``, the run-time settings
record (:mod:`~implicitop._solvers.settings`); ``root`` (m, n) and ``code`` (m,) are
filled in.
"""

import math

import numpy as np
from numba import carray

from implicitop._solvers.interface import guess
from implicitop._solvers.lockstep import BLOCK
from implicitop._solvers.settings import ELEMENTS, GRID_SIZE, HEADER, MINIMUM, K, N
from implicitop._solvers.status import (
    CONVERGED,
    MAXITER,
    NONFINITE_PARAMETER,
    NOT_A_MINIMUM,
    PARAMETER_OUTSIDE_DOMAIN,
)
from implicitop._solvers.unowned import borrowed

__all__ = [
    "APPENDED",
    "C_SIGNATURE",
    "all_usable",
    "appended_parameters",
    "curved_upward",
    "fill",
    "parameter_status",
    "place",
    "solve",
    "solve_appended",
    "solve_block",
    "solve_by_address",
    "solve_from_pointers",
    "starting_point",
    "unpack",
]


def solve_block(
    x0: np.ndarray,
    params: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    grid: np.ndarray,
    settings: np.ndarray,
    root: np.ndarray,
    code: np.ndarray,
) -> None:
    """Solve the rows of ``params`` (b, k) whose ``code`` is ``MAXITER`` from their
    starting points ``x0`` (b, n), in the domain ``lower``, ``upper`` (n,) with the scan
    ``grid`` and the other ``settings`` (the record they come from): roots into ``root``
    (b, n), status codes into ``code``.

    Each algorithm module defines its own; this one only states the contract.
    """
    raise NotImplementedError("solve_block is defined by the algorithm modules")


def curved_upward(u: np.ndarray, p: np.ndarray) -> bool:
    """Whether ``dR/du`` at the root ``u`` is positive definite: where the residuals are
    an objective's gradient, whether the root is a minimum.

    Each algorithm module defines its own; this one only states the contract.
    """
    raise NotImplementedError("curved_upward is defined by the algorithm modules")


def fill(destination: np.ndarray, start: int, stop: int, value: float) -> None:
    """``destination[start:stop] = value``, as a loop: numba compiles each slice
    assignment into a broadcasting routine of its own (a tenth of a second or more of
    every solver's compile)."""
    for j in range(start, stop):
        destination[j] = value


def place(destination: np.ndarray, start: int, values: np.ndarray) -> None:
    """``destination[start : start + len(values)] = values``, as a loop (see :func:`fill`)."""
    for j in range(values.shape[0]):
        destination[start + j] = values[j]


def unpack(
    settings: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The arrays of the settings record: ``param_lower``, ``param_upper`` (k,),
    ``lower``, ``upper``, ``defaults`` (n,) and ``grid``."""
    n, k, grid_size = int(settings[N]), int(settings[K]), int(settings[GRID_SIZE])
    ends = np.cumsum(np.array([HEADER, k, k, n, n, n, grid_size]))
    return (
        settings[ends[0] : ends[1]],
        settings[ends[1] : ends[2]],
        settings[ends[2] : ends[3]],
        settings[ends[3] : ends[4]],
        settings[ends[4] : ends[5]],
        settings[ends[5] : ends[6]],
    )


def parameter_status(p: np.ndarray, param_lower: np.ndarray, param_upper: np.ndarray) -> int:
    """``MAXITER`` (to be solved) or why the element's parameters cannot be used."""
    for j in range(p.shape[0]):
        if not math.isfinite(p[j]):
            return NONFINITE_PARAMETER
    for j in range(p.shape[0]):
        if p[j] < param_lower[j] or p[j] > param_upper[j]:
            return PARAMETER_OUTSIDE_DOMAIN
    return MAXITER


def all_usable(params: np.ndarray, param_lower: np.ndarray, param_upper: np.ndarray) -> bool:
    """Whether every parameter of every row of ``params`` is finite and in its domain:
    where it is (nearly always), no row needs :func:`parameter_status`.

    All values are first checked against the narrowest of the domains, in one pass
    over the array in memory order that vectorises (the domains of most problems'
    parameters are all alike); only where that fails are the columns checked each
    against its own domain, without a branch."""
    low, high = -math.inf, math.inf
    for j in range(param_lower.shape[0]):
        low, high = max(low, param_lower[j]), min(high, param_upper[j])
    usable = True
    for value in params.flat:
        usable &= math.isfinite(value) & (low <= value) & (value <= high)
    if usable:
        return True
    usable = True
    for j in range(params.shape[1]):
        low, high = param_lower[j], param_upper[j]
        for i in range(params.shape[0]):
            value = params[i, j]
            usable &= math.isfinite(value) & (low <= value) & (value <= high)
    return usable


def starting_point(
    p: np.ndarray, lower: np.ndarray, upper: np.ndarray, defaults: np.ndarray, x0: np.ndarray
) -> None:
    """Fill ``x0`` with the user's guess where it is finite and in the domain, else the
    default."""
    start = guess(p)
    for j in range(x0.shape[0]):
        value = start[j]
        usable = math.isfinite(value) and lower[j] <= value <= upper[j]
        x0[j] = value if usable else defaults[j]


def solve(params: np.ndarray, settings: np.ndarray, root: np.ndarray, code: np.ndarray) -> None:
    """Solve every row of ``params`` with ``settings``: roots into ``root`` (NaN where
    none), status codes into ``code``."""
    size = params.shape[0]
    param_lower, param_upper, lower, upper, defaults, grid = unpack(settings)
    x0 = np.empty((BLOCK, lower.shape[0]))
    usable = all_usable(params, param_lower, param_upper)
    for i in range(size):
        code[i] = MAXITER if usable else parameter_status(params[i], param_lower, param_upper)
    for i in range(size):
        for j in range(root.shape[1]):
            root[i, j] = math.nan
    for start in range(0, size, BLOCK):
        stop = min(start + BLOCK, size)
        for i in range(start, stop):
            if code[i] == MAXITER:
                starting_point(params[i], lower, upper, defaults, x0[i - start])
        solve_block(
            x0[: stop - start], params[start:stop], lower, upper, grid, settings,
            root[start:stop], code[start:stop],
        )  # fmt: skip
        if settings[MINIMUM] != 0.0:
            for i in range(start, stop):
                if code[i] == CONVERGED and not curved_upward(root[i], params[i]):
                    code[i] = NOT_A_MINIMUM
                    fill(root[i], 0, root.shape[1], math.nan)


#: The numba signature of :func:`solve_from_pointers`.
C_SIGNATURE = (
    "void(intp, CPointer(float64), CPointer(float64), intp, CPointer(float64), CPointer(int8))"
)


def solve_from_pointers(
    size: int, params: object, settings: object, settings_size: int, root: object, code: object
) -> None:
    """:func:`solve` with every array passed by address (compiled as a C function)."""
    record = carray(settings, (settings_size,))
    n, k = int(record[N]), int(record[K])
    solve(carray(params, (size, k)), record, carray(root, (size, n)), carray(code, (size,)))


#: Values :func:`solve_by_address` appends to each parameter row: the number of
#: unknowns and the address of the problem's element entry point.
APPENDED = 2


def appended_parameters(settings: np.ndarray) -> np.ndarray:
    """The settings record for parameter rows with :data:`APPENDED` more values, each
    unbounded."""
    k = int(settings[K])
    lower_end, upper_end = HEADER + k, HEADER + 2 * k
    record = np.empty(settings.shape[0] + 2 * APPENDED)
    place(record, 0, settings[:lower_end])
    fill(record, lower_end, lower_end + APPENDED, -np.inf)
    place(record, lower_end + APPENDED, settings[lower_end:upper_end])
    fill(record, upper_end + APPENDED, upper_end + 2 * APPENDED, np.inf)
    place(record, upper_end + 2 * APPENDED, settings[upper_end:])
    record[K] = k + APPENDED
    return record


def solve_by_address(
    size: int, params: object, settings: object, settings_size: int, root: object, code: object
) -> None:
    """:func:`solve_from_pointers` for the shared solver (:mod:`~implicitop._solvers.by_address`):
    each parameter row gets the number of unknowns and the address of the problem's
    element entry point (the record's ``ELEMENTS``) appended."""
    record = carray(settings, (settings_size,))
    n, k = int(record[N]), int(record[K])
    rows = np.empty((size, k + APPENDED))
    given = carray(params, (size, k))
    for i in range(size):  # element by element: a view of a row would count references
        for j in range(k):
            rows[i, j] = given[i, j]
        rows[i, k], rows[i, k + 1] = n, record[ELEMENTS]
    solve_appended(
        rows, appended_parameters(record), carray(root, (size, n)), carray(code, (size,))
    )


def solve_appended(
    owned_rows: np.ndarray, owned_record: np.ndarray, root: np.ndarray, code: np.ndarray
) -> None:
    """:func:`solve` of the rows and record :func:`solve_by_address` allocates, on views
    of them that count no references (:mod:`~implicitop._solvers.unowned`; the full
    solver's arrays come from pointers and count none either). Each view of them passed
    on, per element and per block, cost an atomic instruction at each end: half the
    shared solver's time on a data-sized model."""
    rows, record = borrowed((owned_rows, owned_record))
    solve(rows, record, root, code)
