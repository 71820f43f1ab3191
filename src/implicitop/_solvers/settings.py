"""The solver's run-time settings as one flat float64 record, laid out here once.

Every caller of the compiled solver (:class:`~implicitop.Solver`, the C code
of the PyTensor op, the numba dispatch, the threads) passes the parameter rows, this
record and the output arrays, nothing else: a setting added here reaches every
caller without a signature to restate. The record opens with the scalar fields at
the indices below, followed by the arrays ``param_lower``, ``param_upper`` (k each),
``lower``, ``upper``, ``defaults`` (n each) and ``grid``.
:func:`implicitop._solvers.batch.unpack` reads it in compiled code.

Numbers given for ``x0`` and ``bracket`` are settings, so changing them does not
compile anything; only their SymPy expressions are compiled into the kernel.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import numpy as np

__all__ = [
    "BRACKET_LOWER",
    "BRACKET_UPPER",
    "ELEMENTS",
    "EXPAND",
    "GRID_SIZE",
    "HEADER",
    "MAX_ITERATIONS",
    "MINIMUM",
    "NEWTON_ITERATIONS",
    "SHARED",
    "TOL",
    "K",
    "N",
    "Settings",
    "read_only",
]

# Indices of the scalar fields. ``ELEMENTS`` is the address of the problem's element
# entry point in this process (:mod:`~implicitop._solvers.by_address`), ``SHARED`` that
# of the shared solver, which finishes the elements the full solver's fast path leaves
# (:func:`~implicitop._solvers.fast_path.hand_over`); exact as floats below 2**53, NaN until
# a process sets them.
(
    N, K, GRID_SIZE, TOL, NEWTON_ITERATIONS, MAX_ITERATIONS, EXPAND, BRACKET_LOWER,
    BRACKET_UPPER, ELEMENTS, MINIMUM, SHARED,
) = range(12)  # fmt: skip
#: Where the arrays start.
HEADER = 12


def read_only(values: object) -> np.ndarray:
    """A read-only float64 array: the compiled solvers read the settings by address,
    so nothing may change them in place."""
    array = np.array(values, dtype=np.float64)
    array.flags.writeable = False
    return array


@dataclass(frozen=True)
class Settings:
    """The settings of one solve (see the module's description for the record).

    Attributes
    ----------
    param_lower, param_upper
        Where each parameter may lie (k,). These and the other arrays are stored as
        read-only float64 arrays.
    lower, upper
        The domain of each unknown (n,).
    defaults
        Each unknown's start where no expression for it gives a usable one: the
        number given as ``x0``, else a default inside the domain (n,).
    grid
        The points the one-equation solver scans for a sign change.
    tol
        Relative step at which Newton's method stops.
    newton_iterations, maxiter
        Iteration limits of phase 1 and of the bracketing phase.
    expand
        Whether a bracket with no sign change is grown outward.
    bracket
        The one-equation solver's search interval: the unknown's domain, cut to the
        numbers given as ``bracket``.
    minimum
        Whether a root is accepted only where ``dR/du`` is positive definite: the
        residuals are an objective's gradient, and the root must be its minimum.

    Unpickling builds the record again from these fields: a settings object pickled
    by another version of implicitop gets this version's layout.
    """

    param_lower: np.ndarray
    param_upper: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    defaults: np.ndarray
    grid: np.ndarray
    tol: float
    newton_iterations: int
    maxiter: int
    expand: bool
    bracket: tuple[float, float]
    minimum: bool = False
    record: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for name in ("param_lower", "param_upper", "lower", "upper", "defaults", "grid"):
            object.__setattr__(self, name, read_only(getattr(self, name)))
        header = {
            N: len(self.lower),
            K: len(self.param_lower),
            GRID_SIZE: len(self.grid),
            TOL: self.tol,
            NEWTON_ITERATIONS: self.newton_iterations,
            MAX_ITERATIONS: self.maxiter,
            EXPAND: float(self.expand),
            BRACKET_LOWER: self.bracket[0],
            BRACKET_UPPER: self.bracket[1],
            ELEMENTS: np.nan,
            MINIMUM: float(self.minimum),
            SHARED: np.nan,
        }
        scalars = [header[index] for index in range(HEADER)]
        parts = (self.param_lower, self.param_upper, self.lower, self.upper, self.defaults)
        record = read_only(np.concatenate([scalars, *parts, self.grid]))
        object.__setattr__(self, "record", record)

    def __getstate__(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.init}

    def __setstate__(self, state: dict) -> None:
        # the fields (an older version's pickle also holds its record: not used), the
        # defaults of fields added since, then this version's record
        for f in fields(self):
            if f.init:
                object.__setattr__(self, f.name, state.get(f.name, f.default))
        self.__post_init__()

    def record_with_entry_points(self, elements: int, shared: int) -> np.ndarray:
        """The record with the addresses, in this process, of the problem's element
        entry point (``elements``: the shared solver calls it) and of the shared solver
        (``shared``: the full solver hands it the elements its fast path leaves)."""
        record = self.record.copy()
        for index, address in ((ELEMENTS, elements), (SHARED, shared)):
            if not 0 < address < 2**53:
                raise ValueError(f"an entry point's address must be in (0, 2**53), got {address}")
            record[index] = address
        return read_only(record)
