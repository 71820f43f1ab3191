"""The numeric solve, framework-neutral: NumPy and numba, no PyTensor.

:func:`solve` and :class:`Solver` solve a :class:`~implicitop.problem.ImplicitProblem`
for arrays of parameter values. The algorithms are written once, as ordinary Python
(:mod:`~implicitop.solvers.scalar` for one equation, :mod:`~implicitop.solvers.system`
for n, both driven by :mod:`~implicitop.solvers.batch`), and compiled per problem by
:mod:`~implicitop.solvers.compiled`.
"""

from implicitop.solvers.solver import Solver, SolveResult, solve
from implicitop.solvers.status import ImplicitSolveError, SolveStatus

__all__ = ["ImplicitSolveError", "SolveResult", "SolveStatus", "Solver", "solve"]
