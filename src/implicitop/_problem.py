"""The symbolic specification of an implicit function (SymPy only).

An :class:`ImplicitProblem` holds a residual ``R(mu, theta)``, the unknown ``mu`` it
defines and the parameters ``theta``. Building one validates the input and derives,
once, everything later stages need: ``dR/dmu``, and ``dmu/dtheta_i`` by the implicit
function theorem.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING, TypeVar, cast

if TYPE_CHECKING:
    import sympy as sp
else:
    from implicitop._lazy import sympy as sp


__all__ = [
    "Domain",
    "ImplicitProblem",
    "argmin_residuals",
    "as_real",
    "fixed_point_residuals",
    "off_jumps",
    "positive_parts",
    "residual_scale",
]

_SMALLEST_POSITIVE = 2.2250738585072014e-308  # numpy.finfo(float).tiny


@dataclass(frozen=True)
class Domain:
    """A closed interval ``[lower, upper]`` of real numbers a symbol may take.

    ``positive=True`` on a SymPy symbol maps to ``[tiny, inf]``, where ``tiny`` is
    the smallest normal double, so that iterates stay strictly positive.

    Parameters
    ----------
    lower, upper : float
        The ends; infinite for a side without a bound.

    Examples
    --------
    >>> import sympy as sp
    >>> from implicitop import Domain
    >>> Domain.of(sp.Symbol("k", nonnegative=True))
    Domain(lower=0.0, upper=inf)
    >>> Domain.of(sp.Symbol("k", positive=True)).lower
    2.2250738585072014e-308
    """

    lower: float = -float("inf")
    upper: float = float("inf")

    @classmethod
    def of(cls, symbol: sp.Symbol) -> Domain:
        """Read the domain of ``symbol`` off its SymPy assumptions."""
        if symbol.is_positive:
            return cls(_SMALLEST_POSITIVE, float("inf"))
        if symbol.is_nonnegative:
            return cls(0.0, float("inf"))
        if symbol.is_negative:
            return cls(-float("inf"), -_SMALLEST_POSITIVE)
        if symbol.is_nonpositive:
            return cls(-float("inf"), 0.0)
        return cls()

    @property
    def is_bounded_below(self) -> bool:
        """Whether the lower end is finite."""
        return self.lower > -float("inf")

    @property
    def is_bounded_above(self) -> bool:
        """Whether the upper end is finite."""
        return self.upper < float("inf")

    def intersect(self, lower: float, upper: float) -> Domain:
        """The part of this domain inside ``[lower, upper]``."""
        return Domain(max(self.lower, lower), min(self.upper, upper))

    def __contains__(self, value: float) -> bool:
        return self.lower <= value <= self.upper


#: SymPy's unevaluated operations, which have no numeric code.
_UNSUPPORTED_NODES = ("Integral", "Derivative", "Sum", "Product")


def _real_symbol(symbol: sp.Symbol) -> sp.Symbol:
    """``symbol`` declared real, with its other assumptions; itself where SymPy knows it
    is real already. The same symbol gives an equal one at every call.

    Raises
    ------
    ValueError
        If the symbol's assumptions exclude real values.
    """
    if symbol.is_real:
        return symbol
    if symbol.is_real is False:
        raise ValueError(
            f"the symbol {symbol.name} cannot take real values (its assumptions exclude "
            "them); the unknowns and parameters are real numbers"
        )
    assumptions = {**symbol.assumptions0, "real": True}
    if isinstance(symbol, sp.Dummy):
        return sp.Dummy(symbol.name, dummy_index=symbol.dummy_index, **assumptions)
    return sp.Symbol(symbol.name, **assumptions)


_Sympy = TypeVar("_Sympy", bound="sp.Basic")


def as_real(expr: _Sympy) -> _Sympy:
    """``expr`` with every symbol SymPy does not know to be real declared real.

    The unknowns and parameters are real numbers. SymPy's default symbols are complex,
    and for those it writes ``|exp(z)|`` as ``exp(re(z))`` and differentiates ``|z|``
    through ``re(z)`` and ``im(z)``, which neither numeric code nor the solver can use.
    A symbol keeps its name and its other assumptions (``sp.symbols("x")`` becomes
    ``sp.symbols("x", real=True)``), so the same name gives the same symbol wherever
    this is applied: to the residuals, the unknowns, the parameters and the options'
    expressions alike.

    Examples
    --------
    >>> import sympy as sp
    >>> x = sp.Symbol("x")
    >>> as_real(sp.Abs(sp.exp(x)))
    exp(x)
    >>> as_real(x).is_real
    True
    """
    symbols = [s for s in expr.free_symbols if isinstance(s, sp.Symbol) and not s.is_real]
    return cast(_Sympy, expr.xreplace({s: _real_symbol(s) for s in symbols})) if symbols else expr


def _as_symbol_tuple(value: sp.Symbol | Sequence[sp.Symbol], role: str) -> tuple[sp.Symbol, ...]:
    items = (value,) if isinstance(value, sp.Basic) else value
    try:
        items = tuple(items)
    except TypeError:
        raise TypeError(
            f"{role} must be a SymPy Symbol or a sequence of Symbols, got {type(value).__name__}"
        ) from None
    for item in items:
        if not isinstance(item, sp.Symbol):
            raise TypeError(
                f"every entry of {role} must be a SymPy Symbol, got {item!r} "
                f"({type(item).__name__}); introduce a symbol for it instead"
            )
    names = [s.name for s in items]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(f"{role} repeat the symbol(s) {', '.join(repeated)}")
    return tuple(_real_symbol(item) for item in items)


def _check_one_symbol_per_name(free: set, declared: tuple[sp.Symbol, ...]) -> None:
    """Raise ``ValueError`` where a symbol of the residuals has the name of an unknown or
    a parameter but other assumptions: SymPy takes them for two symbols."""
    for symbol in declared:
        for other in free:
            if other.name == symbol.name and other != symbol:
                raise ValueError(
                    f"the residuals' {other.name} ({_assumptions(other)}) and the "
                    f"{other.name} passed as an unknown or parameter "
                    f"({_assumptions(symbol)}) are two SymPy symbols with different "
                    "assumptions; declare the symbol once and use it everywhere"
                )


def _assumptions(symbol: sp.Symbol) -> str:
    """The assumptions ``symbol`` was declared with (all it has, on a SymPy that does
    not keep them apart), as ``name=value`` pairs. A symbol declared without any is
    real here (:func:`as_real`), so ``real=True`` alone may have been none."""
    declared = getattr(symbol, "_assumptions_orig", symbol.assumptions0)
    given = {k: v for k, v in declared.items() if k != "commutative"}
    if given == {"real": True}:
        return "real=True, or none: a symbol without assumptions is taken as real"
    return ", ".join(f"{k}={v}" for k, v in sorted(given.items())) or "none"


#: What to pass instead of a relation, by what the expression is.
_INSTEAD_OF_A_RELATION = {
    "residual": "pass the expression lhs - rhs, whose root defines the unknown",
    "map": "pass the expression g of u = g(u, theta), whose fixed point defines the unknown",
    "objective": "pass the expression f whose minimum over the unknowns defines them",
}


def _as_residual(value: object, role: str = "residual") -> sp.Expr:
    if isinstance(value, sp.core.relational.Relational):
        raise TypeError(f"the {role} {value} is a relation; {_INSTEAD_OF_A_RELATION[role]}")
    if not isinstance(value, sp.Expr):
        raise TypeError(
            f"the {role} must be a SymPy expression, got {type(value).__name__}; "
            "build it from sympy.symbols(...)"
        )
    for node_type in _UNSUPPORTED_NODES:
        if value.has(getattr(sp, node_type)):
            raise ValueError(
                f"the {role} {value} contains an unevaluated {node_type}, which cannot be "
                "turned into numeric code; evaluate it (.doit()) or rewrite it in closed form"
            )
    undefined = value.atoms(sp.core.function.AppliedUndef)
    if undefined:
        raise ValueError(
            f"the {role} contains undefined function(s) "
            f"{', '.join(sorted(map(str, undefined)))}; write them out as expressions"
        )
    expr = as_real(value)
    if expr.has(sp.I) or expr.is_real is False:
        raise ValueError(f"the {role} {expr} is complex-valued; it must be real")
    return expr


def residual_scale(expr: sp.Expr) -> sp.Expr:
    """Magnitude of ``expr`` computed without cancellation between its terms.

    Sums and products are taken term by term in absolute value (positive integer
    powers too), so at a computed root ``|R|`` is a few ``eps`` times this. It is the
    yardstick for "the residual is zero", and it tells a root from a pole, where
    ``|R|`` is as large as its terms. A sum the printed code computes as one term
    (``1 + erf(z)`` as ``erfc(-z)``, :mod:`implicitop._cancellation`) is one term here
    too: where it is small, so is its rounding.
    """
    from implicitop._cancellation import accurate_sums  # SymPy: not at import

    return _term_sizes(accurate_sums(expr))


def _term_sizes(expr: sp.Expr) -> sp.Expr:
    """:func:`residual_scale` of ``expr`` as it is written."""
    if expr.is_Add:
        return sp.Add(*(_term_sizes(term) for term in expr.args))
    if expr.is_Mul:
        return sp.Mul(*(_term_sizes(factor) for factor in expr.args))
    if expr.is_Pow and expr.exp.is_Integer and expr.exp > 0:
        return _term_sizes(expr.base) ** expr.exp
    if isinstance(expr, sp.Piecewise):
        return sp.Piecewise(*((_term_sizes(value), cond) for value, cond in expr.args))
    return sp.Abs(expr)


def positive_parts(expr: sp.Expr) -> tuple[sp.Expr, sp.Expr] | None:
    """``(A, B)`` with ``expr = A - B``, where each of ``A`` and ``B`` is a sum of terms
    SymPy proves positive from the symbols' assumptions; None where a term's sign is
    not known or one side is empty.

    Then ``expr = 0`` exactly where ``log A = log B``: the same roots, and an equation
    that stays nearly linear where ``expr`` grows exponentially.
    """
    positive, negative = [], []
    for term in sp.Add.make_args(expr):
        if term.is_positive:
            positive.append(term)
        elif term.is_negative:
            negative.append(-term)
        else:
            return None
    if not positive or not negative:
        return None
    return sp.Add(*positive), sp.Add(*negative)


def off_jumps(expr: sp.Expr) -> sp.Expr:
    """``expr`` away from the jumps of its step functions: ``DiracDelta`` (from
    differentiating ``Heaviside`` or ``sign``) and the derivatives of ``floor`` and
    ``ceiling`` are zero there."""

    def is_jump(e: sp.Basic) -> bool:
        return isinstance(e, sp.DiracDelta) or (
            isinstance(e, sp.Derivative) and isinstance(e.expr, sp.floor | sp.ceiling)
        )

    return expr.replace(is_jump, lambda e: sp.S.Zero)


#: Expressions with more operations than this are shown as derived, not simplified:
#: SymPy's simplify can take minutes on them (the derivative of the helical valley's
#: minimum ran for more than two minutes before it was stopped).
_SIMPLIFY_MAX_OPS = 100


def _shortest(expr: sp.Expr) -> sp.Expr:
    """``expr`` or its simplified form, whichever has fewer operations (``expr`` itself
    where it has more than :data:`_SIMPLIFY_MAX_OPS`)."""
    if sp.count_ops(expr) > _SIMPLIFY_MAX_OPS:
        return expr
    simplified = sp.simplify(expr)
    return min((expr, simplified), key=sp.count_ops)


def _as_residuals(value: object, role: str = "residual") -> tuple[sp.Expr, ...]:
    if isinstance(value, sp.Basic | str | bytes) or not isinstance(value, Sequence | sp.Matrix):
        return (_as_residual(value, role),)
    return tuple(_as_residual(item, role) for item in value)


def fixed_point_residuals(maps: object, unknowns: object) -> tuple[sp.Expr, ...]:
    """The residuals ``u_i - g_i(u, theta)``, whose root is the fixed point ``u = g(u, theta)``.

    Parameters
    ----------
    maps
        ``g``: a SymPy expression, or one per unknown for a system.
    unknowns
        The symbol(s) ``u``.

    Raises
    ------
    TypeError, ValueError
        As :meth:`ImplicitProblem.build` does for residuals, and where the map has not
        one component per unknown.

    Examples
    --------
    >>> import sympy as sp
    >>> x, a = sp.symbols("x a", positive=True)
    >>> fixed_point_residuals(a * sp.cos(x), x)
    (-a*cos(x) + x,)
    """
    images = _as_residuals(maps, "map")
    symbols = _as_symbol_tuple(unknowns, "unknowns")
    if len(images) != len(symbols):
        raise ValueError(
            f"the map has {len(images)} component(s) for {len(symbols)} unknown(s); "
            "give one per unknown"
        )
    return tuple(u - g for u, g in zip(symbols, images, strict=True))


def argmin_residuals(objective: object, unknowns: object) -> tuple[sp.Expr, ...]:
    """The gradient ``df/du`` of an objective, whose root where the Hessian is positive
    definite is the minimum ``u*(theta) = argmin_u f(u, theta)``.

    Parameters
    ----------
    objective
        ``f``: one SymPy expression.
    unknowns
        The symbol(s) ``u`` minimised over.

    Raises
    ------
    TypeError, ValueError
        As :meth:`ImplicitProblem.build` does for residuals, and where the objective is
        not one expression or is linear in the unknowns (no minimum).

    Examples
    --------
    >>> import sympy as sp
    >>> x, t = sp.symbols("x t", positive=True)
    >>> argmin_residuals(x * sp.log(x) - t * x, x)
    (-t + log(x) + 1,)
    """
    if not isinstance(objective, sp.Basic) and isinstance(objective, Sequence | sp.Matrix):
        raise TypeError("the objective must be one SymPy expression (a scalar to minimise)")
    expr = _as_residual(objective, "objective")
    symbols = _as_symbol_tuple(unknowns, "unknowns")
    gradient = tuple(off_jumps(expr.diff(u)) for u in symbols)
    if not any(g.has(*symbols) for g in gradient):
        raise ValueError(
            f"the objective {expr} is linear (or constant) in "
            f"{', '.join(u.name for u in symbols)}: it has no minimum to find"
        )
    return gradient


_SYMBOLIC_DETERMINANT_MAX_SIZE = 4
#: Points at which :func:`_nonzero_somewhere` evaluates an expression, and its digits.
_PROBES, _PROBE_DIGITS = 4, 30


def _probe_value(symbol: sp.Symbol, rng: random.Random) -> sp.Float:
    """A random value within ``symbol``'s assumptions, of magnitude 0.1 to 10."""
    magnitude = 10 ** rng.uniform(-1, 1)
    if symbol.is_nonnegative or (not symbol.is_nonpositive and rng.random() < 0.5):
        return sp.Float(magnitude, _PROBE_DIGITS)
    return sp.Float(-magnitude, _PROBE_DIGITS)


def _nonzero_somewhere(expr: sp.Expr) -> bool:
    """Whether ``expr`` is finite and not zero at one of a few random points (evaluated
    to 30 digits, so rounding does not pass for zero): cheap where a symbolic
    simplification to zero can take minutes."""
    rng = random.Random(0)
    symbols = sorted(expr.free_symbols, key=str)
    for _ in range(_PROBES):
        point = {symbol: _probe_value(symbol, rng) for symbol in symbols}
        value = expr.xreplace(point).evalf(_PROBE_DIGITS)
        if value.is_number and value.is_finite and value.is_zero is False:
            return True
    return False


@dataclass(frozen=True)
class ImplicitProblem:
    """Validated residuals ``R(u, theta) = 0`` (n equations, n unknowns) with derivatives.

    Parameters
    ----------
    residuals
        SymPy expressions whose common root in ``unknowns`` defines the implicit
        function.
    unknowns
        The symbols solved for.
    params
        The parameters the root depends on, in the order the op takes them.
    objective
        For a minimum ``u* = argmin_u f(u, theta)``: the objective ``f``, whose gradient
        the residuals are (``argmin_residuals``); a root is then accepted only where
        the Hessian ``dR/du`` is positive definite. ``None`` for other problems.

    The derivatives (:attr:`jacobian`, :attr:`param_jacobian`, :attr:`derivatives`,
    ...) are derived when first asked for, so that unpickling a problem is cheap.
    Build one with :meth:`build`, which validates the input; ops hold theirs as
    ``op.problem``.

    Examples
    --------
    >>> import sympy as sp
    >>> from implicitop import ImplicitProblem
    >>> mu, theta = sp.symbols("mu theta", positive=True)
    >>> problem = ImplicitProblem.build(mu + mu * sp.exp(theta * mu) - 1, mu, theta)
    >>> problem.unknowns, problem.params
    ((mu,), (theta,))
    >>> problem.derivatives
    (-mu**2*exp(mu*theta)/(mu*theta*exp(mu*theta) + exp(mu*theta) + 1),)
    """

    residuals: tuple[sp.Expr, ...]
    unknowns: tuple[sp.Symbol, ...]
    params: tuple[sp.Symbol, ...]
    objective: sp.Expr | None = None

    @classmethod
    def build(
        cls,
        residuals: object,
        unknowns: object,
        params: sp.Symbol | Sequence[sp.Symbol],
        objective: sp.Expr | None = None,
    ) -> ImplicitProblem:
        """Validate user input and derive the problem's derivatives (``objective``: the
        objective whose gradient ``residuals`` are, for a minimum).

        Raises
        ------
        TypeError
            If an argument is not a SymPy object of the right kind.
        ValueError
            If the symbols do not fit the residuals, the system is not square, or
            ``dR/du`` is singular everywhere.
        """
        residual_exprs = _as_residuals(residuals)
        if objective is not None:
            objective = _as_residual(objective, "objective")
        unknown_symbols = _as_symbol_tuple(unknowns, "unknowns")
        param_symbols = _as_symbol_tuple(params, "params")
        if len(residual_exprs) != len(unknown_symbols):
            raise ValueError(
                f"the system is not square: {len(residual_exprs)} residual(s) for "
                f"{len(unknown_symbols)} unknown(s)"
            )
        if not residual_exprs:
            raise ValueError("give at least one residual and one unknown")
        if not param_symbols:
            raise ValueError("give at least one parameter the root depends on")
        shared = sorted(s.name for s in set(unknown_symbols) & set(param_symbols))
        if shared:
            raise ValueError(f"{', '.join(shared)} is both an unknown and a parameter")
        free = set().union(*(r.free_symbols for r in residual_exprs))
        if objective is not None:
            free |= objective.free_symbols
        _check_one_symbol_per_name(free, (*unknown_symbols, *param_symbols))
        missing = [u.name for u in unknown_symbols if u not in free]
        if missing:
            which = "residual" if len(residual_exprs) == 1 else "residuals"
            shown = residual_exprs[0] if len(residual_exprs) == 1 else ""
            raise ValueError(
                f"the {which} {shown} does not contain the unknown {', '.join(missing)}".replace(
                    "  ", " "
                )
            )
        stray = free - {*unknown_symbols, *param_symbols}
        if stray:
            names = ", ".join(sorted(s.name for s in stray))
            raise ValueError(
                f"the residuals have free symbols that are neither unknowns nor parameters: "
                f"{names}; pass them in params (data are parameters too)"
            )
        # a subclass's build gives its own type: the class is part of the cache's key
        return _validated(
            cast(type, cls), residual_exprs, unknown_symbols, param_symbols, objective
        )

    def _check_differentiable(self) -> None:
        derivatives = self.jacobian.atoms(sp.Derivative) | self.param_jacobian.atoms(sp.Derivative)
        if derivatives:
            names = sorted({type(d.expr).__name__ for d in derivatives})
            raise ValueError(
                f"SymPy cannot differentiate {', '.join(names)} in the residual(s) "
                f"({', '.join(sorted(map(str, derivatives)))} stays unevaluated), so "
                "neither Newton's method nor the gradient can be built; rewrite the "
                "residual without it"
            )

    @cached_property
    def jacobian(self) -> sp.Matrix:
        """``dR/du`` as an n x n SymPy matrix (zero at the jumps of step functions)."""
        return sp.Matrix(self.residuals).jacobian(self.unknowns).applyfunc(off_jumps)

    @cached_property
    def param_jacobian(self) -> sp.Matrix:
        """``dR/dtheta`` as an n x k SymPy matrix (zero at the jumps of step functions)."""
        return sp.Matrix(self.residuals).jacobian(self.params).applyfunc(off_jumps)

    @cached_property
    def derivatives(self) -> tuple[sp.Expr, ...]:
        """One equation: ``du/dtheta_i = -(dR/dtheta_i) / (dR/du)`` for every parameter,
        simplified for reading (empty for systems; see :attr:`derivative_matrix`)."""
        if self.size != 1:
            return ()
        slope = self.jacobian[0, 0]
        return tuple(_shortest(-self.param_jacobian[0, k] / slope) for k in range(len(self.params)))

    def _check_not_singular(self) -> None:
        if self.size > _SYMBOLIC_DETERMINANT_MAX_SIZE:
            return
        determinant = self.jacobian.det(method="berkowitz")
        # SymPy's simplify can take minutes on a large determinant: it runs only where
        # the determinant is zero at every probe point
        if _nonzero_somewhere(determinant):
            return
        if sp.simplify(determinant) == 0:
            if self.size == 1:
                raise ValueError(
                    f"dR/d{self.unknowns[0]} of the residual {self.residuals[0]} is "
                    "identically zero, so the root does not define the unknown"
                )
            raise ValueError(
                "the Jacobian dR/du of the system is singular for all values, so the "
                "roots do not define the unknowns (are two residuals dependent?)"
            )

    @property
    def size(self) -> int:
        """The number n of equations and unknowns."""
        return len(self.unknowns)

    @cached_property
    def derivative_matrix(self) -> sp.Matrix:
        """``du/dtheta = -(dR/du)^-1 dR/dtheta`` as an n x k matrix (computed on demand;
        for one equation, the row of :attr:`derivatives`)."""
        if self.size == 1:
            return sp.Matrix([self.derivatives])
        solved = self.jacobian.LUsolve(-self.param_jacobian)
        return solved.applyfunc(_shortest)

    @cached_property
    def halley_parts(self) -> tuple[sp.Expr, ...]:
        """One equation: ``A, A', A'', B, B', B''`` with ``R = A - B`` and ``'`` the
        derivative in the unknown (zero at the jumps of step functions), for Halley's
        method.

        ``A, B > 0`` where the residual splits so (:func:`positive_parts`); then the
        solver may iterate on ``log A - log B``, which has the same roots and stays
        nearly linear where ``A`` or ``B`` grows exponentially. Elsewhere ``A = R`` and
        ``B = 0``.
        """
        if self.size != 1:
            raise ValueError("Halley's method is for one equation in one unknown")
        (residual,), (unknown,) = self.residuals, self.unknowns
        parts = positive_parts(residual) or (residual, sp.S.Zero)
        return tuple(off_jumps(part.diff(unknown, n)) for part in parts for n in range(3))

    @property
    def unknown_domains(self) -> tuple[Domain, ...]:
        """Where roots are searched, from the unknowns' assumptions."""
        return tuple(Domain.of(u) for u in self.unknowns)

    @property
    def param_domains(self) -> tuple[Domain, ...]:
        """The values each parameter may take, from its assumptions."""
        return tuple(Domain.of(theta) for theta in self.params)

    def __reduce__(self) -> tuple:
        # Only the defining fields: PyTensor unpickles every cached op's key
        # (this problem among them) at each compile, so unpickling must not derive
        # anything. The derivatives are derived again when first asked for.
        return (type(self), (self.residuals, self.unknowns, self.params, self.objective))


@lru_cache(maxsize=128)
def _validated(
    cls: type,
    residuals: tuple[sp.Expr, ...],
    unknowns: tuple[sp.Symbol, ...],
    params: tuple[sp.Symbol, ...],
    objective: sp.Expr | None,
) -> ImplicitProblem:
    """The problem, checked (differentiable, ``dR/du`` not singular everywhere): the same
    object for the same definition while the process keeps it, so that an op built
    again (another ``x0`` or bracket, a notebook's cell run again) derives nothing again."""
    problem: ImplicitProblem = cls(residuals, unknowns, params, objective)
    problem._check_differentiable()
    problem._check_not_singular()
    return problem
