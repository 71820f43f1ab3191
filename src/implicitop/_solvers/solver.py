"""Solving a problem for arrays of parameter values, with no framework involved.

:class:`Solver` holds what the numeric solve of one problem needs — the search
domains, settings, initial guesses and the compiled kernels — and solves for every
element of broadcast parameter arrays. Framework ops (PyTensor, JAX) are thin glue
around it. :func:`solve` is the one-call form.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

from implicitop._options import ImplicitOptions
from implicitop._problem import Domain, ImplicitProblem
from implicitop._solvers.parallel import helpers
from implicitop._solvers.scalar import GRID_CAPACITY, PHASE1_MAXITER, fill_scan_grid
from implicitop._solvers.settings import Settings, read_only
from implicitop._solvers.status import ImplicitSolveError, SolveStatus

if TYPE_CHECKING:
    from implicitop._solvers.compiled import ProblemKernels

__all__ = ["SolveResult", "Solver", "default_guess", "scan_grid", "solve"]


@dataclass(frozen=True)
class SolveResult:
    """Roots and per-element status codes, as :func:`solve` and ``op.solve`` return them.

    Attributes
    ----------
    root : numpy.ndarray
        The roots, NaN where an element failed; for systems with a trailing axis of
        length n.
    status : numpy.ndarray
        One :class:`SolveStatus` code per element (integers; ``0`` is ``CONVERGED``).

    Examples
    --------
    >>> import numpy as np
    >>> from implicitop import SolveResult
    >>> result = SolveResult(root=np.array([0.5, np.nan]), status=np.array([0, 5]))
    >>> result
    SolveResult(root=array([0.5, nan]), status=array([0, 5]))  # CONVERGED: 1, NOT_A_ROOT: 1
    >>> result.status_names
    array(['CONVERGED', 'NOT_A_ROOT'], dtype='<U10')
    >>> result.converged
    array([ True, False])
    """

    root: np.ndarray
    status: np.ndarray

    @property
    def converged(self) -> np.ndarray:
        """Boolean mask of elements with a root."""
        return self.status == SolveStatus.CONVERGED

    @property
    def status_names(self) -> np.ndarray:
        """The :class:`SolveStatus` name of each element, same shape as ``status``."""
        names = [SolveStatus(code).name for code in np.ravel(self.status)]
        return np.array(names, dtype=str).reshape(np.shape(self.status))

    def __repr__(self) -> str:
        codes, counts = np.unique(self.status, return_counts=True)
        tally = ", ".join(
            f"{SolveStatus(code).name}: {count}" for code, count in zip(codes, counts, strict=True)
        )
        return f"SolveResult(root={self.root!r}, status={self.status!r})  # {tally or 'empty'}"


def default_guess(domain: Domain, system: bool = False) -> float:
    """A start inside ``domain``: its middle, or one step in from a single bound; for an
    unbounded domain 0, or 1 in a system (where 0 is often a singular point of the
    Jacobian: ``x**2 + y**2 - r**2``, ``u**3 - p``)."""
    if domain.is_bounded_below and domain.is_bounded_above:
        if domain.lower > 0 and domain.upper > 4 * domain.lower:
            return float(np.sqrt(domain.lower) * np.sqrt(domain.upper))
        return domain.lower / 2 + domain.upper / 2
    if domain.is_bounded_below:
        return max(domain.lower + 1.0, 1.0) if domain.lower >= 0 else domain.lower + 1.0
    if domain.is_bounded_above:
        return min(domain.upper - 1.0, -1.0) if domain.upper <= 0 else domain.upper - 1.0
    return 1.0 if system else 0.0


def scan_grid(domain: Domain) -> np.ndarray:
    """Points at which the one-equation solver looks for a sign change in ``domain``
    (:func:`~implicitop._solvers.scalar.fill_scan_grid`)."""
    grid = np.empty(GRID_CAPACITY)
    return read_only(grid[: fill_scan_grid(domain.lower, domain.upper, grid)])


class Solver:
    """The numeric solve of one problem with its options.

    Parameters
    ----------
    problem : ImplicitProblem
        The validated symbolic problem.
    options : ImplicitOptions
        How roots are found (:meth:`ImplicitOptions.build` validates them).

    Attributes
    ----------
    search_domains, param_domains
        Where each unknown is searched (cut to the bracket's numbers) and where each
        parameter may lie.
    starts
        The initial guesses and bracket ends given as expressions, compiled into the
        kernels.
    settings
        Everything else the kernels are called with (numbers given as ``x0`` and
        ``bracket`` included: changing them compiles nothing).

    Examples
    --------
    A solver is what :func:`implicitop.dask.solve_chunks` and worker processes need
    (it pickles); every op has one as ``op.solver``:

    >>> import sympy as sp
    >>> from implicitop import ImplicitOptions, ImplicitProblem, Solver
    >>> mu, theta = sp.symbols("mu theta", positive=True)
    >>> problem = ImplicitProblem.build(mu + mu * sp.exp(theta * mu) - 1, mu, theta)
    >>> solver = Solver(problem, ImplicitOptions.build(problem))
    >>> solver.solve([0.5, 1.0]).root
    array([0.44464694, 0.40105814])
    """

    def __init__(self, problem: ImplicitProblem, options: ImplicitOptions):
        # SymPy's printers, only where a problem is built, not where an op is unpickled
        from implicitop._codegen import check_evaluable

        self.problem = problem
        self.options = options
        self.search_domains = options.search_domains(problem)
        self.param_domains = problem.param_domains
        self.starts = options.starts(problem)
        check_evaluable(problem, self.starts)
        (first_domain, *_) = self.search_domains
        defaults = [
            default_guess(domain, problem.size > 1) if number is None else number
            for domain, number in zip(
                self.search_domains, options.numeric_guesses(problem), strict=True
            )
        ]
        self.settings = Settings(
            param_lower=np.array([d.lower for d in self.param_domains]),
            param_upper=np.array([d.upper for d in self.param_domains]),
            lower=np.array([d.lower for d in problem.unknown_domains]),
            upper=np.array([d.upper for d in problem.unknown_domains]),
            defaults=np.array(defaults),
            grid=scan_grid(first_domain),
            tol=float(options.tol),
            newton_iterations=0
            if options.bracket is not None
            else min(options.maxiter, PHASE1_MAXITER),
            maxiter=options.maxiter,
            expand=options.expand_bracket,
            bracket=(first_domain.lower, first_domain.upper),
            minimum=problem.objective is not None,
        )

    def __getstate__(self) -> dict:
        # compiled kernels are rebuilt (from the disk cache) after unpickling
        per_process = ("kernels", "record")
        return {key: value for key, value in self.__dict__.items() if key not in per_process}

    @cached_property
    def kernels(self) -> ProblemKernels:
        """The problem's compiled solver (held: looking it up compares SymPy trees)."""
        # numba is imported here, at the first solve, not with implicitop: a process
        # that only unpickles ops (PyTensor reading its cache keys) never needs it
        from implicitop._solvers.compiled import problem_kernels

        return problem_kernels(self.problem, self.starts)

    @cached_property
    def record(self) -> np.ndarray:
        """The settings record the kernels are called with in this process: the
        settings and the addresses of the problem's compiled element functions and of
        the shared solver."""
        kernels = self.kernels
        if not kernels.compiled:
            return self.settings.record
        return self.settings.record_with_entry_points(
            kernels.elements_address, kernels.shared_address
        )

    def solve_flat(self, params: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Roots (m, n) and status codes (m,) for parameter rows ``params`` (m, k)."""
        size = params.shape[0]
        root = np.empty((size, self.problem.size))
        code = np.empty(size, dtype=np.int8)
        kernels, record = self.kernels, self.record
        if not kernels.compiled:  # plain Python: NumPy's warnings off; threads would wait
            with np.errstate(all="ignore"):
                kernels.solve(params, record, root, code)
        elif not helpers(size):
            kernels.solve(params, record, root, code)
        else:
            self._solve_shared(np.ascontiguousarray(params), root, code)
        return root, code

    def _solve_shared(self, params: np.ndarray, root: np.ndarray, code: np.ndarray) -> None:
        """:meth:`solve_flat` of a large batch, shared with helper threads
        (:func:`~implicitop._solvers.threads.solve_shared`), on the tier in use (a
        first call need not wait for the full solver). This thread starts at once and
        the others join as they wake, so none waits for the slowest to wake; the
        results do not depend on who solved which rows."""
        from implicitop._solvers.threads import job, solve_shared

        solve_shared(job(self.kernels.entry_cell, params, self.record, root, code))

    def solve(self, *values: np.ndarray | float) -> SolveResult:
        """Solve for every element of the broadcast parameter values (one per parameter).

        Returns roots of the broadcast shape (with a trailing axis of length n for
        systems) and one status code per element.
        """
        if len(values) != len(self.problem.params):
            raise TypeError(
                f"expected {len(self.problem.params)} parameter value(s), got {len(values)}"
            )
        arrays = [np.asarray(v, dtype=np.float64) for v in values]
        if len(arrays) > 1:
            arrays = list(np.broadcast_arrays(*arrays))
        shape = arrays[0].shape
        root, code = self.solve_flat(parameter_rows(arrays))
        if self.problem.size == 1:
            return SolveResult(root.reshape(shape), code.reshape(shape))
        return SolveResult(root.reshape(*shape, self.problem.size), code.reshape(shape))

    def raise_for_failures(self, values: Sequence[np.ndarray], status: np.ndarray) -> None:
        """Raise :class:`ImplicitSolveError` naming the parameter values of every element
        whose ``status`` is not converged."""
        flat_status = np.reshape(status, -1)
        failed = np.flatnonzero(flat_status != SolveStatus.CONVERGED)
        if failed.size == 0:
            return
        flat = [np.broadcast_to(v, np.shape(status)).reshape(-1) for v in values]
        names = [p.name for p in self.problem.params]
        failures = [
            (
                {name: float(v[i]) for name, v in zip(names, flat, strict=True)},
                SolveStatus(int(flat_status[i])).reason,
            )
            for i in failed
        ]
        raise ImplicitSolveError.from_failures(failures, flat_status.size)

    def measure_root(
        self, root: np.ndarray, point: Sequence[float]
    ) -> tuple[float, np.ndarray, np.ndarray]:
        """At ``root`` (n,) for parameters ``point``: ``|R|`` over the rounding it may
        carry (at most 1 at a computed root), ``dR/du`` (n, n) and the size of each
        residual's terms (n,)."""
        with np.errstate(all="ignore"):
            return self.kernels.measure_root(
                np.array(root, dtype=np.float64).reshape(-1), np.array(point, dtype=np.float64)
            )


def parameter_rows(arrays: Sequence[np.ndarray]) -> np.ndarray:
    """One C-contiguous float64 row of parameter values per element, shape (m, k)."""
    if len(arrays) == 1:
        return np.ascontiguousarray(arrays[0], dtype=np.float64).reshape(-1, 1)
    return np.stack([np.ravel(a) for a in arrays], axis=1).astype(np.float64, copy=False)


def solve(problem: ImplicitProblem, *values: np.ndarray | float, **options: object) -> SolveResult:
    """Solve ``problem`` for every element of the broadcast parameter ``values``.

    No PyTensor is involved: this is the op's numeric solve on its own, for scripts,
    data checks and other frameworks.

    Parameters
    ----------
    problem : ImplicitProblem
        Built with :meth:`ImplicitProblem.build`.
    *values
        One number or array per parameter, broadcast against each other.
    **options
        ``x0``, ``bracket``, ``expand_bracket``, ``tol``, ``maxiter`` (see
        :class:`~implicitop.ImplicitOptions`).

    Returns
    -------
    SolveResult
        The roots and one status code per element.

    Examples
    --------
    >>> import sympy as sp
    >>> from implicitop import ImplicitProblem, solve
    >>> mu, theta = sp.symbols("mu theta", positive=True)
    >>> problem = ImplicitProblem.build(mu + mu * sp.exp(theta * mu) - 1, mu, theta)
    >>> solve(problem, 0.4)
    SolveResult(root=array(0.454659), status=array(0, dtype=int8))  # CONVERGED: 1
    """
    return Solver(problem, ImplicitOptions.build(problem, **options)).solve(*values)
