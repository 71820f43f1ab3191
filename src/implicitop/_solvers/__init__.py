"""The numeric solve, framework-neutral: NumPy and numba, no PyTensor.

:func:`solve` and :class:`Solver` solve a :class:`~implicitop.ImplicitProblem`
for arrays of parameter values. The algorithms are written once, as ordinary Python
(:mod:`~implicitop._solvers.scalar` for one equation, :mod:`~implicitop._solvers.system`
for n, both driven by :mod:`~implicitop._solvers.batch`), and compiled per problem by
:mod:`~implicitop._solvers.compiled`.
"""

from implicitop._solvers.solver import Solver, SolveResult, solve
from implicitop._solvers.status import ImplicitSolveError, SolveStatus

__all__ = ["ImplicitSolveError", "SolveResult", "SolveStatus", "Solver", "solve"]
