"""The full solver's own path: the steps nearly every element takes, and nothing else.

A problem's full solver (see :mod:`~implicitop._solvers.generated`) is the algorithm
compiled with the problem's functions inlined. Most of that algorithm is for the few
elements its first method does not solve: one equation's bracketing phase, Powell's
hybrid method after damped Newton for a system. Compiled per problem, those paths took
half of the full solver's compile time. This module's source follows the algorithm in
the full solver only, and its definitions replace theirs there: an element that would
take them keeps its code ``MAXITER`` and is handed, with the others of its block, to
the shared solver (:func:`hand_over`), compiled once for every problem, which runs the
whole algorithm on it from its start. Both solvers run the same compiled
arithmetic, so an element gets the same result whichever finishes it.
"""

import numpy as np

from implicitop._solvers.by_address import call_solver
from implicitop._solvers.settings import SHARED
from implicitop._solvers.status import MAXITER

__all__ = ["after_newton", "hand_over", "phase_two_block"]


def phase_two_block(
    x0: np.ndarray,
    params: np.ndarray,
    lower: float,
    upper: float,
    settings: np.ndarray,
    grid: np.ndarray,
    root: np.ndarray,
    code: np.ndarray,
) -> None:
    """One equation: the elements phase 1 leaves go to the shared solver (in place of
    :func:`implicitop._solvers.scalar.phase_two_block`)."""
    hand_over(params, settings, root, code)


def after_newton(
    x0: np.ndarray,
    p: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    tol: float,
    maxiter: int,
    s: object,
    root: np.ndarray,
    status: int,
) -> int:
    """Systems: an element damped Newton does not solve keeps its code ``MAXITER``, for
    :func:`hand_over` (in place of :func:`implicitop._solvers.system.after_newton`)."""
    return MAXITER


def hand_over(params: np.ndarray, settings: np.ndarray, root: np.ndarray, code: np.ndarray) -> None:
    """Solve a block's rows of ``params`` whose ``code`` is still ``MAXITER`` with the
    shared solver at the record's ``SHARED`` (systems: in place of
    :func:`implicitop._solvers.system.hand_over`): their roots into ``root``, their
    statuses into ``code``. Without that address (a record made for no process) they
    stay ``MAXITER``, with NaN roots. (Copies are loops here: this module's source
    follows the algorithm's, so it calls none of its functions.)"""
    left = 0
    for i in range(code.shape[0]):
        left += code[i] == MAXITER
    if left == 0 or not settings[SHARED] > 0.0:
        return
    k, n = params.shape[1], root.shape[1]
    rows, roots, codes = np.empty((left, k)), np.empty((left, n)), np.empty(left, dtype=np.int8)
    j = 0
    for i in range(code.shape[0]):
        if code[i] == MAXITER:
            for column in range(k):
                rows[j, column] = params[i, column]
            j += 1
    call_solver(int(settings[SHARED]), rows, settings, roots, codes)
    j = 0
    for i in range(code.shape[0]):
        if code[i] == MAXITER:
            for column in range(n):
                root[i, column] = roots[j, column]
            code[i] = codes[j]
            j += 1
