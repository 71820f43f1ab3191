"""The symbolic specification of an implicit function (SymPy only).

An :class:`ImplicitProblem` holds a residual ``R(mu, theta)``, the unknown ``mu`` it
defines and the parameters ``theta``. Building one validates the input and derives,
once, everything later stages need: ``dR/dmu``, and ``dmu/dtheta_i`` by the implicit
function theorem.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import sympy as sp

__all__ = ["Domain", "ImplicitProblem"]

_SMALLEST_POSITIVE = 2.2250738585072014e-308  # numpy.finfo(float).tiny


@dataclass(frozen=True)
class Domain:
    """A closed interval ``[lower, upper]`` of real numbers a symbol may take.

    ``positive=True`` on a SymPy symbol maps to ``[tiny, inf]``, where ``tiny`` is
    the smallest normal double, so that iterates stay strictly positive.
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


_UNSUPPORTED_NODES: tuple[tuple[type, str], ...] = (
    (sp.Integral, "an unevaluated Integral"),
    (sp.Derivative, "an unevaluated Derivative"),
    (sp.Sum, "an unevaluated Sum"),
    (sp.Product, "an unevaluated Product"),
    (sp.Piecewise, "a Piecewise expression"),
)


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
    return items


def _as_residual(value: object) -> sp.Expr:
    if isinstance(value, sp.core.relational.Relational):
        raise TypeError(
            f"the residual {value} is a relation; pass the expression lhs - rhs, "
            "whose root defines the unknown"
        )
    if not isinstance(value, sp.Expr):
        raise TypeError(
            f"the residual must be a SymPy expression, got {type(value).__name__}; "
            "build it from sympy.symbols(...)"
        )
    for node_type, description in _UNSUPPORTED_NODES:
        if value.has(node_type):
            raise ValueError(
                f"the residual {value} contains {description}, which cannot be turned into "
                "numeric code; evaluate it (.doit()) or rewrite it in closed form"
            )
    undefined = value.atoms(sp.core.function.AppliedUndef)
    if undefined:
        raise ValueError(
            f"the residual contains undefined function(s) "
            f"{', '.join(sorted(map(str, undefined)))}; write them out as expressions"
        )
    if value.has(sp.I) or value.is_real is False:
        raise ValueError(f"the residual {value} is complex-valued; it must be real")
    return value


def _shortest(expr: sp.Expr) -> sp.Expr:
    """``expr`` or its simplified form, whichever has fewer operations."""
    simplified = sp.simplify(expr)
    return min((expr, simplified), key=sp.count_ops)


@dataclass(frozen=True)
class ImplicitProblem:
    """A validated residual ``R(mu, theta) = 0`` with its derivatives.

    Parameters
    ----------
    residual
        SymPy expression whose root in ``unknown`` defines the implicit function.
    unknown
        The symbol solved for.
    params
        The parameters the root depends on, in the order the op takes them.

    Attributes
    ----------
    slope
        ``dR/dmu`` as a SymPy expression.
    derivatives
        ``dmu/dtheta_i = -(dR/dtheta_i) / (dR/dmu)`` for every parameter, simplified.
    """

    residual: sp.Expr
    unknown: sp.Symbol
    params: tuple[sp.Symbol, ...]
    slope: sp.Expr = field(init=False, compare=False, repr=False)
    derivatives: tuple[sp.Expr, ...] = field(init=False, compare=False, repr=False)

    @classmethod
    def build(
        cls,
        residual: object,
        unknown: object,
        params: sp.Symbol | Sequence[sp.Symbol],
    ) -> ImplicitProblem:
        """Validate user input and derive the problem's derivatives.

        Raises
        ------
        TypeError
            If an argument is not a SymPy object of the right kind.
        ValueError
            If the symbols do not fit the residual, or ``dR/dmu`` is identically zero.
        """
        residual = _as_residual(residual)
        (unknown_symbol,) = _as_symbol_tuple(unknown, "unknowns")
        param_symbols = _as_symbol_tuple(params, "params")
        if not param_symbols:
            raise ValueError("give at least one parameter the root depends on")
        if unknown_symbol in param_symbols:
            raise ValueError(f"{unknown_symbol} is both the unknown and a parameter")
        free = residual.free_symbols
        if unknown_symbol not in free:
            raise ValueError(
                f"the residual {residual} does not contain the unknown {unknown_symbol}"
            )
        stray = free - {unknown_symbol, *param_symbols}
        if stray:
            names = ", ".join(sorted(s.name for s in stray))
            raise ValueError(
                f"the residual has free symbols that are neither the unknown nor a parameter: "
                f"{names}; pass them in params (data are parameters too)"
            )
        return cls(residual, unknown_symbol, param_symbols)

    def __post_init__(self) -> None:
        slope = self.residual.diff(self.unknown)
        if sp.simplify(slope) == 0:
            raise ValueError(
                f"dR/d{self.unknown} of the residual {self.residual} is identically zero, "
                "so the root does not define the unknown"
            )
        derivatives = tuple(_shortest(-self.residual.diff(theta) / slope) for theta in self.params)
        object.__setattr__(self, "slope", slope)
        object.__setattr__(self, "derivatives", derivatives)

    @property
    def unknown_domain(self) -> Domain:
        """Where roots are searched, from the unknown's assumptions."""
        return Domain.of(self.unknown)

    @property
    def param_domains(self) -> tuple[Domain, ...]:
        """The values each parameter may take, from its assumptions."""
        return tuple(Domain.of(theta) for theta in self.params)

    def __reduce__(self) -> tuple:
        return (type(self), (self.residual, self.unknown, self.params))
