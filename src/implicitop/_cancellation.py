"""Sums that SymPy writes with a cancellation, printed in a form without it.

SymPy evaluates ``erfc(-z)`` as ``2 - erfc(z)``, and the normal distribution's CDF is
usually written ``(1 + erf(z))/2``: where ``erf(z)`` is near -1 (``z`` below -5, say),
both sums lose every digit of their small value, and a residual made of them (Black
and Scholes' call price far out of the money) is rounding noise. So do ``exp(z) - 1``,
``(1 + r)**n - 1``, ``log(1 + z)``, ``1 - cos(z)`` and ``cosh(z) - 1`` where ``z`` or
``r`` is small (``1 - exp(-k t)`` early in a first-order process, ``exp(h nu / k T) -
1`` in Planck's law at low frequencies, compound growth at a small rate, a taut
cable's sag): their value keeps only the digits ``z`` has beyond one.

:func:`accurate_cse` is the common-subexpression step of every printer of the element
functions and the tensor graphs. Each sum of a number ``c`` and ``c*erf(z)`` (or
``-c*erf(z)``, or ``-c/2*erfc(z)``) becomes the one term ``c*erfc(-z)`` (or
``c*erfc(z)``), unevaluated; each sum of ``c*exp(z)`` and ``-c`` becomes
``c*expm1(z)`` (and of ``c*(1 + r)**n`` and ``-c``, ``c*expm1(n*log1p(r))``, where ``1
+ r`` is positive or ``n`` not an integer, and the piecewise form of
:func:`power_minus_one` where the sign of ``1 + r`` is not known), and ``log(1 + z)``
becomes ``log1p(z)``
(:mod:`sympy.codegen.cfunctions`); ``log(1 - exp(z))`` becomes the piecewise form of
:func:`log_one_minus_exp`; ``c*cos(z) - c``, ``c*cos(z) + c`` and ``c*cosh(z) - c``
become ``-2c sin(z/2)**2``, ``2c cos(z/2)**2`` and ``2c sinh(z/2)**2``;
``c*exp(x) - c*exp(y)`` becomes the piecewise form of :func:`exp_difference`. The
printed code computes them without the cancellation: SciPy's and the C library's
``erfc``, ``expm1`` and ``log1p`` keep their relative precision where the sums lose
it, and the half angles' ``sin``, ``cos`` and ``sinh`` theirs.
"""

from __future__ import annotations

from collections.abc import Sequence

import sympy as sp
from sympy.codegen.cfunctions import expm1, log1p

__all__ = [
    "accurate_cse",
    "accurate_sums",
    "exp_difference",
    "log_one_minus_exp",
    "power_minus_one",
]


def _rewritten_pair(terms: list[sp.Expr], index: int) -> tuple[int, sp.Expr] | None:
    """Where another term completes ``terms[index]`` to one term without a cancellation
    (:func:`_erfc_pair`, :func:`_expm1_pair`, :func:`_half_angle_pair`,
    :func:`_exp_difference_pair`): that term's index and the one term."""
    return (
        _erfc_pair(terms, index)
        or _expm1_pair(terms, index)
        or _half_angle_pair(terms, index)
        or _exp_difference_pair(terms, index)
    )


def _single_call(term: sp.Expr, *kinds: type) -> tuple[sp.Expr, sp.Function] | None:
    """``(c, f(z))`` where ``term`` is ``c*f(z)`` for one call ``f(z)`` of one of
    ``kinds`` (``c`` free of it), else None."""
    functions = term.atoms(*kinds)
    if len(functions) != 1:
        return None
    (function,) = functions
    coefficient, rest = term.as_independent(function, as_Add=False)
    return (coefficient, function) if rest == function else None


def _erfc_pair(terms: list[sp.Expr], index: int) -> tuple[int, sp.Expr] | None:
    """Where ``terms[index]`` is ``c*erf(z)`` or ``c*erfc(z)`` and another term
    completes it to a multiple of ``erfc(+-z)``: that term's index and the product."""
    found = _single_call(terms[index], sp.erf, sp.erfc)
    if found is None:
        return None
    coefficient, function = found
    (z,) = function.args
    if isinstance(function, sp.erf):
        # c + c erf(z) = c erfc(-z); c erf(z) - c = -c erfc(z)
        candidates = [(coefficient, coefficient, -z), (-coefficient, -coefficient, z)]
    else:
        # c erfc(z) - 2c = -c erfc(-z)
        candidates = [(-2 * coefficient, -coefficient, -z)]
    for other, factor, argument in candidates:
        j = _index_of(other, terms, index)
        if j is not None:
            return j, factor * sp.erfc(argument, evaluate=False)
    return None


def _half_angle_pair(terms: list[sp.Expr], index: int) -> tuple[int, sp.Expr] | None:
    """Where ``terms[index]`` is ``c*cos(z)`` or ``c*cosh(z)`` and another term is
    ``-c``: that term's index and ``-2c sin(z/2)**2`` or ``2c sinh(z/2)**2``; where it
    is ``c*cos(z)`` and another term is ``c``: ``2c cos(z/2)**2``. The same values,
    with no cancellation for ``z`` near 0 (near pi for the last)."""
    found = _single_call(terms[index], sp.cos, sp.cosh)
    if found is None:
        return None
    coefficient, function = found
    (z,) = function.args
    j = _index_of(-coefficient, terms, index)
    if j is not None and isinstance(function, sp.cos):
        return j, -2 * coefficient * sp.sin(z / 2) ** 2
    if j is not None:
        return j, 2 * coefficient * sp.sinh(z / 2) ** 2
    j = _index_of(coefficient, terms, index)
    if j is not None and isinstance(function, sp.cos):
        return j, 2 * coefficient * sp.cos(z / 2) ** 2
    return None


def _expm1_pair(terms: list[sp.Expr], index: int) -> tuple[int, sp.Expr] | None:
    """Where ``terms[index]`` is ``c*exp(z)`` (or ``c*(1 + r)**n``, :func:`_less_one`)
    and another term is ``-c``: that term's index and ``c*expm1(z)`` (SymPy keeps one
    ``exp`` factor in a product)."""
    factors = sp.Mul.make_args(terms[index])
    growths = [(factor, less) for factor in factors if (less := _less_one(factor)) is not None]
    if len(growths) != 1:
        return None
    ((growth, less_one),) = growths
    coefficient = sp.Mul(*(factor for factor in factors if factor is not growth))
    j = _index_of(-coefficient, terms, index)
    if j is None:
        return None
    return j, coefficient * less_one


def _exp_difference_pair(terms: list[sp.Expr], index: int) -> tuple[int, sp.Expr] | None:
    """Where ``terms[index]`` is ``c*exp(x)`` and another term is ``-c*exp(y)``: that
    term's index and ``c*(exp(x) - exp(y))`` as :func:`exp_difference`."""
    found = _single_call(terms[index], sp.exp)
    if found is None:
        return None
    coefficient, function = found
    for j, term in enumerate(terms):
        other = _single_call(term, sp.exp) if j != index else None
        if other is not None and other[0] == -coefficient:
            return j, coefficient * exp_difference(function.args[0], other[1].args[0])
    return None


def exp_difference(x: sp.Expr, y: sp.Expr) -> sp.Piecewise:
    """``exp(x) - exp(y)`` without a cancellation where ``x`` is near ``y`` (Bateman's
    ``exp(-a t) - exp(-b t)`` early on): the exponential of the larger exponent times
    ``expm1`` of the difference, which is at most 0, so neither overflows where the
    difference as written does not."""
    return sp.Piecewise(
        (-sp.exp(x) * expm1(y - x), x >= y), (sp.exp(y) * expm1(x - y), True), evaluate=False
    )


def _less_one(factor: sp.Expr) -> sp.Expr | None:
    """``factor - 1`` without the cancellation near ``factor = 1``: ``expm1(z)`` where
    ``factor`` is ``exp(z)``; where it is ``(1 + r)**n``, ``expm1(n*log1p(r))`` if that
    equals it (``1 + r`` positive, or ``n`` not an integer, where a negative base
    would make it complex), else :func:`power_minus_one` (``1 + r`` of unknown sign);
    else None."""
    if isinstance(factor, sp.exp):
        return expm1(factor.args[0])
    if not (factor.is_Pow and factor.base.is_Add and sp.S.One in factor.base.args):
        return None
    if factor.base.is_positive or factor.exp.is_integer is False:
        return expm1(factor.exp * log1p(factor.base - 1))
    if factor.base.is_positive is None:
        return power_minus_one(factor.base, factor.exp)
    return None


def power_minus_one(base: sp.Expr, exponent: sp.Expr) -> sp.Piecewise:
    """``base**exponent - 1`` without a cancellation where the power is near 1 (compound
    growth ``(1 + r)**n - 1`` at a small rate ``r`` declared real, not positive):
    ``expm1(exponent*log1p(base - 1))`` where ``base`` is positive, and as written where
    it is not (a negative base to an integer power: near 1 only for a base near -1 and
    an even power, whose digits this still loses)."""
    return sp.Piecewise(
        (expm1(exponent * log1p(base - 1)), base > 0), (base**exponent - 1, True), evaluate=False
    )


def _index_of(wanted: sp.Expr, terms: list[sp.Expr], besides: int) -> int | None:
    """The index of a term equal to ``wanted`` other than ``terms[besides]``."""
    for j, term in enumerate(terms):
        if j != besides and term == wanted:
            return j
    return None


def _accurate_add(expr: sp.Add) -> sp.Expr:
    terms = list(expr.args)
    for index in range(len(terms)):
        found = _rewritten_pair(terms, index)
        if found is not None:
            other, product = found
            kept = [t for j, t in enumerate(terms) if j not in (index, other)]
            return _accurate_add(sp.Add(*kept, product)) if kept else product
    return expr


def accurate_sums(expr: sp.Expr) -> sp.Expr:
    """``expr`` with each sum that cancels, and ``log(1 - exp(z))``, in the form the
    module's description gives for it."""
    if not expr.has(sp.erf, sp.erfc, sp.exp, sp.log, sp.Pow, sp.cos, sp.cosh):
        return expr
    expr = expr.replace(
        lambda e: _exponent_under_log(e) is not None,
        lambda e: log_one_minus_exp(_exponent_under_log(e)),
    )
    expr = expr.replace(_is_log_of_one_plus, lambda e: log1p(e.args[0] - 1))
    return expr.replace(lambda e: e.is_Add, lambda e: _accurate_add(e))


def _exponent_under_log(expr: sp.Basic) -> sp.Expr | None:
    """``z`` where ``expr`` is ``log(1 - exp(z))``, else None."""
    if not (isinstance(expr, sp.log) and expr.args[0].is_Add):
        return None
    rest = -(expr.args[0] - 1)
    if len(expr.args[0].args) == 2 and isinstance(rest, sp.exp):
        return rest.args[0]
    return None


def log_one_minus_exp(z: sp.Expr) -> sp.Piecewise:
    """``log(1 - exp(z))`` (``z < 0``) without a cancellation, as Maechler computes it
    (R's ``log1mexp``): ``log(-expm1(z))`` for ``z`` above ``-log(2)``, where
    ``exp(z)`` is near 1, and ``log1p(-exp(z))`` below, where it is small. Each of
    the two alone loses the other's end: ``log1p(-exp(z))`` is ``-inf`` for ``z``
    below 1e-16 in size, and ``log(-expm1(z))`` is 0 below -37."""
    return sp.Piecewise(
        (sp.log(-expm1(z)), z > -sp.log(2)), (log1p(-sp.exp(z)), True), evaluate=False
    )


def _is_log_of_one_plus(expr: sp.Basic) -> bool:
    """Whether ``expr`` is ``log(1 + z)``."""
    return isinstance(expr, sp.log) and expr.args[0].is_Add and sp.S.One in expr.args[0].args


def accurate_cse(exprs: sp.Expr | Sequence[sp.Expr], **options: object) -> tuple[list, object]:
    """:func:`sympy.cse` of ``exprs`` (one expression or several, returned alike; the
    ``options`` are its own) with :func:`accurate_sums` applied to the expressions, and
    again to every shared subexpression and result: the ``cse`` argument of
    :func:`sympy.lambdify`, after which nothing evaluates the expressions again before
    they are printed.

    Before ``cse``, so that a shared ``exp(z)`` does not hide ``exp(z) - 1``; after it,
    because ``cse`` rebuilds ``erfc(-z)`` as ``2 - erfc(z)``. A shared ``erf`` or
    ``erfc`` call is put back where it is used first, so that the sums it is in show it.
    """
    rewritten: sp.Expr | Sequence[sp.Expr]
    if isinstance(exprs, sp.Basic):
        rewritten = accurate_sums(exprs)
    else:  # a tuple stays a tuple: lambdify returns what cse gives back
        rewritten = [accurate_sums(e) for e in exprs]
        rewritten = tuple(rewritten) if isinstance(exprs, tuple) else rewritten
    replacements, reduced = sp.cse(rewritten, list=False, **options)
    calls: dict[sp.Symbol, sp.Expr] = {}
    kept = []
    for symbol, value in replacements:
        value = value.xreplace(calls)
        if isinstance(value, sp.erf | sp.erfc):
            calls[symbol] = value
        else:
            kept.append((symbol, accurate_sums(value)))
    if isinstance(reduced, sp.Basic):
        return kept, accurate_sums(reduced.xreplace(calls))
    return kept, type(reduced)(accurate_sums(e.xreplace(calls)) for e in reduced)
