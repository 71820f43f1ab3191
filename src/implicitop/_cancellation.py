"""Sums that SymPy writes with a cancellation, printed in a form without it.

SymPy evaluates ``erfc(-z)`` as ``2 - erfc(z)``, and the normal distribution's CDF is
usually written ``(1 + erf(z))/2``: where ``erf(z)`` is near -1 (``z`` below -5, say),
both sums lose every digit of their small value, and a residual made of them (Black
and Scholes' call price far out of the money) is rounding noise. :func:`accurate_cse`
is the common-subexpression step of every printer of the element functions and the
tensor graphs: each sum of a number ``c`` and ``c*erf(z)`` (or ``-c*erf(z)``, or
``-c/2*erfc(z)``) becomes the one term ``c*erfc(-z)`` (or ``c*erfc(z)``), unevaluated,
so the printed code computes it without the cancellation (SciPy's and the C library's
``erfc`` keep their relative precision far into the tail).
"""

from __future__ import annotations

from collections.abc import Sequence

import sympy as sp

__all__ = ["accurate_cse", "accurate_sums"]


def _rewritten_pair(terms: list[sp.Expr], index: int) -> tuple[int, sp.Expr] | None:
    """Where ``terms[index]`` is ``c*erf(z)`` or ``c*erfc(z)`` and another term
    completes it to a multiple of ``erfc(+-z)``: that term's index and the product."""
    term = terms[index]
    functions = term.atoms(sp.erf, sp.erfc)
    if len(functions) != 1:
        return None
    (function,) = functions
    coefficient, rest = term.as_independent(function, as_Add=False)
    if rest != function:
        return None
    (z,) = function.args
    if isinstance(function, sp.erf):
        # c + c erf(z) = c erfc(-z); c erf(z) - c = -c erfc(z)
        candidates = [(coefficient, coefficient, -z), (-coefficient, -coefficient, z)]
    else:
        # c erfc(z) - 2c = -c erfc(-z)
        candidates = [(-2 * coefficient, -coefficient, -z)]
    for other, factor, argument in candidates:
        for j, candidate in enumerate(terms):
            if j != index and candidate == other:
                return j, factor * sp.erfc(argument, evaluate=False)
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
    """``expr`` with each sum of a number of ``erf``/``erfc`` that cancels (see the
    module's description) as one unevaluated ``erfc`` term."""
    if not expr.has(sp.erf, sp.erfc):
        return expr
    return expr.replace(lambda e: e.is_Add, lambda e: _accurate_add(e))


def accurate_cse(exprs: sp.Expr | Sequence[sp.Expr], **options: object) -> tuple[list, object]:
    """:func:`sympy.cse` of ``exprs`` (one expression or several, returned alike; the
    ``options`` are its own) with :func:`accurate_sums` applied to every shared
    subexpression and result: the ``cse`` argument of :func:`sympy.lambdify`, after
    which nothing evaluates the expressions again before they are printed. A shared
    ``erf`` or ``erfc`` call is put back where it is used first, so that the sums it
    is in show it."""
    replacements, reduced = sp.cse(exprs, list=False, **options)
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
