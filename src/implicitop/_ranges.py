"""Parameter ranges: the default by a symbol's assumptions, a user's ranges by
symbol or name, and whether a range is wide enough to be drawn on a log scale.

Shared by the property tests (:mod:`implicitop.testing`) and the pictures
(:mod:`implicitop._plotting`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from implicitop._problem import Domain

if TYPE_CHECKING:
    import sympy as sp
else:
    from implicitop._lazy import sympy as sp

__all__ = [
    "DEFAULT_RANGES",
    "LOG_SPAN",
    "Ranges",
    "check_names",
    "is_log_scaled",
    "parameter_range",
]

#: Ranges used when none is given, by the sign a symbol's assumptions allow.
DEFAULT_RANGES: Mapping[str, tuple[float, float]] = {
    "positive": (1e-5, 1e5),
    "negative": (-1e5, -1e-5),
    "real": (-10.0, 10.0),
}
#: Same-signed ranges whose ends differ by this factor or more are log-scaled.
LOG_SPAN = 100.0

Ranges = Mapping["sp.Symbol | str", tuple[float, float]]


def _default_range(symbol: sp.Symbol) -> tuple[float, float]:
    if symbol.is_positive or symbol.is_nonnegative:
        return DEFAULT_RANGES["positive"]
    if symbol.is_negative or symbol.is_nonpositive:
        return DEFAULT_RANGES["negative"]
    return DEFAULT_RANGES["real"]


def parameter_range(
    symbol: sp.Symbol, ranges: Ranges | tuple[float, float] | None = None
) -> tuple[float, float]:
    """``(lo, hi)`` for ``symbol``: from ``ranges`` (a pair, or a mapping by symbol or
    name; a symbol matches by name, whatever its assumptions), else
    :data:`DEFAULT_RANGES` for its assumptions.

    Raises
    ------
    ValueError
        If the range is empty or leaves the symbol's domain.
    """
    bounds = ranges
    if isinstance(ranges, Mapping):
        bounds = next((v for k, v in ranges.items() if _name(k) == symbol.name), None)
    lo, hi = bounds if bounds is not None else _default_range(symbol)
    lo, hi = float(lo), float(hi)
    domain = Domain.of(symbol)
    if not (lo < hi and lo in domain and hi in domain):
        raise ValueError(
            f"range ({lo}, {hi}) for {symbol} must have lo < hi and lie in its domain "
            f"[{domain.lower}, {domain.upper}]"
        )
    return lo, hi


def _name(key: object) -> str:
    """The name a ``ranges`` key gives: a symbol's name, or the string itself."""
    return str(getattr(key, "name", key))


def is_log_scaled(lo: float, hi: float) -> bool:
    """Whether ``[lo, hi]`` is same-signed and spans a factor of :data:`LOG_SPAN`."""
    return (lo > 0 and hi >= LOG_SPAN * lo) or (hi < 0 and lo <= LOG_SPAN * hi)


def check_names(
    params: Sequence[sp.Symbol], ranges: Mapping[sp.Symbol | str, object] | None
) -> None:
    """Raise ``ValueError`` if ``ranges`` names a symbol that is not a parameter."""
    known = {s.name for s in params}
    stray = [_name(k) for k in (ranges or {}) if _name(k) not in known]
    if stray:
        raise ValueError(f"ranges name unknown parameter(s): {', '.join(stray)}")
