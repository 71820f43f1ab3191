"""User options of an implicit op, validated against the problem they belong to."""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Real
from typing import Literal

import sympy as sp

from implicitop.problem import Domain, ImplicitProblem
from implicitop.solve import SolverSettings

__all__ = ["FAILURE_POLICIES", "ImplicitOptions"]

FAILURE_POLICIES = ("nan", "raise")


def _real(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    if math.isnan(value):
        raise ValueError(f"{name} must not be NaN")
    return float(value)


@dataclass(frozen=True)
class ImplicitOptions:
    """How the root is found.

    Parameters
    ----------
    x0
        Initial guess: a number, a SymPy expression in the parameters (an explicit
        approximation of the root), or ``None`` for a default inside the domain.
    bracket
        ``(lo, hi)`` known to contain the root; the solve then uses Newton
        safeguarded by bisection inside it.
    tol
        Relative step size at which Newton's method stops, in ``(0, 1)``.
    maxiter
        Iterations per solver phase, at least 1.
    on_failure
        ``"nan"`` (elements without a root give NaN) or ``"raise"``
        (:class:`~implicitop.ImplicitSolveError`).
    """

    x0: float | sp.Expr | None = None
    bracket: tuple[float, float] | None = None
    tol: float = 1e-12
    maxiter: int = 100
    on_failure: Literal["nan", "raise"] = "nan"

    @classmethod
    def build(cls, problem: ImplicitProblem, **options: object) -> ImplicitOptions:
        """Validate ``options`` for ``problem``; raise ``TypeError``/``ValueError``."""
        unknown_options = set(options) - set(cls.__dataclass_fields__)
        if unknown_options:
            raise TypeError(
                f"unknown option(s) {', '.join(sorted(unknown_options))}; "
                f"expected some of {', '.join(cls.__dataclass_fields__)}"
            )
        built = cls(**options)
        built._check(problem)
        return built

    def _check(self, problem: ImplicitProblem) -> None:
        tol = _real(self.tol, "tol")
        if not 0 < tol < 1:
            raise ValueError(f"tol must lie in (0, 1), got {tol}")
        if isinstance(self.maxiter, bool) or not isinstance(self.maxiter, int):
            raise TypeError(f"maxiter must be an int, got {self.maxiter!r}")
        if self.maxiter < 1:
            raise ValueError(f"maxiter must be at least 1, got {self.maxiter}")
        if self.on_failure not in FAILURE_POLICIES:
            raise ValueError(
                f"on_failure must be one of {FAILURE_POLICIES}, got {self.on_failure!r}"
            )
        domain = self.search_domain(problem)
        if isinstance(self.x0, sp.Basic):
            stray = self.x0.free_symbols - set(problem.params)
            if stray:
                raise ValueError(
                    f"x0 may only use the parameters; it has {', '.join(map(str, stray))}"
                )
        elif self.x0 is not None:
            x0 = _real(self.x0, "x0")
            if x0 not in domain:
                raise ValueError(
                    f"x0={x0} lies outside the search domain [{domain.lower}, {domain.upper}] "
                    f"of {problem.unknown}"
                )

    def search_domain(self, problem: ImplicitProblem) -> Domain:
        """The unknown's domain, cut to the bracket if one is given."""
        domain = problem.unknown_domain
        if self.bracket is None:
            return domain
        try:
            lo, hi = self.bracket
        except (TypeError, ValueError):
            raise TypeError(f"bracket must be a pair (lo, hi), got {self.bracket!r}") from None
        lo, hi = _real(lo, "bracket lo"), _real(hi, "bracket hi")
        if not lo < hi:
            raise ValueError(f"bracket needs lo < hi, got ({lo}, {hi})")
        cut = domain.intersect(lo, hi)
        if not cut.lower < cut.upper:
            raise ValueError(
                f"bracket ({lo}, {hi}) does not overlap the domain "
                f"[{domain.lower}, {domain.upper}] of {problem.unknown} (from its assumptions)"
            )
        return cut

    def solver_settings(self, problem: ImplicitProblem) -> SolverSettings:
        """The numbers the solver needs."""
        domain = self.search_domain(problem)
        bracket = None if self.bracket is None else (domain.lower, domain.upper)
        return SolverSettings(tol=float(self.tol), maxiter=self.maxiter, bracket=bracket)
