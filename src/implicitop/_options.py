"""User options of an implicit op, validated against the problem they belong to."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from numbers import Real
from typing import TYPE_CHECKING, Any, Literal, cast

from implicitop._problem import Domain, ImplicitProblem, as_real

if TYPE_CHECKING:
    import sympy as sp
else:
    from implicitop._lazy import sympy as sp

__all__ = ["FAILURE_POLICIES", "ImplicitOptions", "Starts"]

FAILURE_POLICIES = ("nan", "raise")


def _real(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    if math.isnan(value):
        raise ValueError(f"{name} must not be NaN")
    return float(value)


@dataclass(frozen=True)
class Starts:
    """The expressions in the parameters compiled into a problem's solver: each
    unknown's initial guess and the bracket's two ends, None where a number or nothing
    is given (numbers are run-time settings, :mod:`~implicitop._solvers.settings`)."""

    guess: tuple[sp.Expr | None, ...]
    bracket: tuple[sp.Expr | None, sp.Expr | None] = (None, None)


@dataclass(frozen=True)
class ImplicitOptions:
    """How the root is found.

    Parameters
    ----------
    x0
        Initial guess: a number, a SymPy expression in the parameters (an explicit
        approximation of the root), or ``None`` for a default inside the domain; for
        systems one such entry per unknown (or one for all).
    bracket
        ``(lo, hi)`` known to contain the root (one equation only): numbers, or SymPy
        expressions in the parameters (a bracket per element, its ends in either
        order; where an end evaluates to NaN, the domain's bound is used). The solve
        then looks for a sign change inside it only (Newton safeguarded by bisection).
    expand_bracket
        Where the bracket shows no sign change, grow it outward (each end twice as
        far each time, and towards a bound of the domain ever closer to it, as
        ``scipy.optimize.elementwise.bracket_root`` grows towards its limits) until
        one shows; elements where none does get status ``NO_BRACKET_FOUND``. Needs
        ``bracket``.
    tol
        Relative step size at which Newton's method stops, in ``(0, 1)``.
    maxiter
        Iteration limit, at least 1, of the bracketing phase; the Halley phase before
        it takes at most ``min(maxiter, 10)`` steps.
    on_failure
        ``"nan"`` (elements without a root give NaN) or ``"raise"``
        (:class:`~implicitop.ImplicitSolveError`). PyTensor's JAX backend supports
        ``"nan"`` only: traced code cannot raise on values.

    Examples
    --------
    The op constructors take these as keyword arguments and validate them:

    >>> import sympy as sp
    >>> from implicitop import make_implicit_op
    >>> mu, theta = sp.symbols("mu theta", positive=True)
    >>> op = make_implicit_op(mu + mu * sp.exp(theta * mu) - 1, mu, theta, bracket=(0, 1))
    >>> op.options.bracket, op.options.tol
    ((0, 1), 1e-12)
    >>> make_implicit_op(mu + mu * sp.exp(theta * mu) - 1, mu, theta, tol=2)
    Traceback (most recent call last):
    ...
    ValueError: tol must lie in (0, 1), got 2.0
    """

    x0: float | sp.Expr | tuple[float | sp.Expr | None, ...] | None = None
    bracket: tuple[float | sp.Expr, float | sp.Expr] | None = None
    expand_bracket: bool = False
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
        x0 = options.get("x0")
        if x0 is not None and not isinstance(x0, sp.Basic | Real):
            try:
                options["x0"] = tuple(cast("Iterable[object]", x0))
            except TypeError:
                raise TypeError(
                    f"x0 must be a number, a SymPy expression or a sequence of them, got {x0!r}"
                ) from None
        for name in ("x0", "bracket"):
            if name in options:
                options[name] = _with_real_symbols(options[name])
        built = cls(**cast("dict[str, Any]", options))
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
        if self.bracket is not None and problem.size > 1:
            raise ValueError("bracket applies to one equation; for systems give x0 instead")
        if not isinstance(self.expand_bracket, bool):
            raise TypeError(f"expand_bracket must be True or False, got {self.expand_bracket!r}")
        if self.expand_bracket and self.bracket is None:
            raise ValueError("expand_bracket grows a bracket: give bracket=(lo, hi) too")
        domains = self.search_domains(problem)
        for unknown, domain, guess in zip(
            problem.unknowns, domains, self.initial_guesses(problem), strict=True
        ):
            _check_guess(guess, unknown, domain, problem.params)

    def initial_guesses(self, problem: ImplicitProblem) -> tuple[float | sp.Expr | None, ...]:
        """One initial guess (or ``None``) per unknown."""
        if not isinstance(self.x0, tuple):
            return (self.x0,) * problem.size
        if len(self.x0) != problem.size:
            raise ValueError(f"x0 has {len(self.x0)} entries for {problem.size} unknown(s)")
        return self.x0

    def numeric_guesses(self, problem: ImplicitProblem) -> tuple[float | None, ...]:
        """The initial guesses given as numbers (``None`` elsewhere): run-time settings."""
        return tuple(_number_or_none(g) for g in self.initial_guesses(problem))

    def starts(self, problem: ImplicitProblem) -> Starts:
        """The initial guesses and bracket ends given as expressions: compiled."""
        guess = tuple(_expression_or_none(g) for g in self.initial_guesses(problem))
        if self.bracket is None:
            return Starts(guess)
        lo, hi = self._bracket_ends(problem)
        return Starts(guess, (_expression_or_none(lo), _expression_or_none(hi)))

    def _bracket_ends(self, problem: ImplicitProblem) -> tuple[float | sp.Expr, float | sp.Expr]:
        try:
            lo, hi = cast(Any, self.bracket)
        except (TypeError, ValueError):
            raise TypeError(f"bracket must be a pair (lo, hi), got {self.bracket!r}") from None
        ends = []
        for end, name in ((lo, "bracket lo"), (hi, "bracket hi")):
            if isinstance(end, sp.Basic) and not end.is_Number:
                ends.append(_in_parameters(end, name, problem.params))
            else:
                ends.append(_real(float(end) if isinstance(end, sp.Number) else end, name))
        return ends[0], ends[1]

    def search_domains(self, problem: ImplicitProblem) -> tuple[Domain, ...]:
        """Where each unknown is searched: its domain, cut to the bracket's numbers."""
        domains = problem.unknown_domains
        if self.bracket is None:
            return domains
        (domain,) = domains
        lo, hi = self._bracket_ends(problem)
        low, high = _number_or_none(lo), _number_or_none(hi)
        if low is not None and high is not None and not low < high:
            raise ValueError(f"bracket needs lo < hi, got ({lo}, {hi})")
        lo = domain.lower if low is None else low
        hi = domain.upper if high is None else high
        cut = domain.intersect(lo, hi)
        if not cut.lower < cut.upper:
            raise ValueError(
                f"bracket ({lo}, {hi}) does not overlap the domain "
                f"[{domain.lower}, {domain.upper}] of {problem.unknowns[0]} "
                "(from its assumptions)"
            )
        return (cut,)


def _with_real_symbols(value: object) -> object:
    """An option's value with the symbols of its expressions declared real, as the
    problem's are (:func:`~implicitop._problem.as_real`)."""
    if isinstance(value, sp.Basic):
        return as_real(value)
    if isinstance(value, tuple | list):
        return type(value)(_with_real_symbols(item) for item in value)
    return value


def _number_or_none(value: float | sp.Expr | None) -> float | None:
    if value is None or (isinstance(value, sp.Basic) and not value.is_Number):
        return None
    return float(value)


def _expression_or_none(value: float | sp.Expr | None) -> sp.Expr | None:
    if isinstance(value, sp.Basic) and not value.is_Number:
        return value
    return None


def _check_guess(
    guess: object, unknown: sp.Symbol, domain: Domain, params: tuple[sp.Symbol, ...]
) -> None:
    if guess is None:
        return
    if isinstance(guess, sp.Basic):
        _in_parameters(guess, "x0", params)
        return
    value = _real(guess, "x0")
    if value not in domain:
        raise ValueError(
            f"x0={value} lies outside the search domain [{domain.lower}, {domain.upper}] "
            f"of {unknown}"
        )


def _in_parameters(expr: sp.Expr, name: str, params: tuple[sp.Symbol, ...]) -> sp.Expr:
    """``expr``, checked to use no symbol but the parameters."""
    stray = expr.free_symbols - set(params)
    if stray:
        raise ValueError(f"{name} may only use the parameters; it has {', '.join(map(str, stray))}")
    return expr
