"""What makes two implicit ops the same op, as a digest that is the same in every process.

PyTensor compares the ops in a graph it compiles with the ops in the keys of its
compiled modules, read back from disk (see :mod:`implicitop._lazy`). An op read back
holds this digest and its problem still pickled, so that the comparison needs no SymPy.
"""

from __future__ import annotations

import hashlib
from dataclasses import fields, is_dataclass

from sympy import Basic, Symbol
from sympy.printing.repr import ReprPrinter

__all__ = ["canonical_text", "digest"]


class _CanonicalPrinter(ReprPrinter):
    """``srepr`` with every symbol's assumptions in sorted order (SymPy prints them in
    the order they were given, which does not change what the symbol is)."""

    def _print_Symbol(self, expr: Symbol) -> str:
        assumptions = sorted(expr._assumptions_orig.items())
        if expr.is_Dummy:
            assumptions.append(("dummy_index", expr.dummy_index))
        given = "".join(f", {name}={value}" for name, value in assumptions)
        return f"{type(expr).__name__}({expr.name!r}{given})"


def canonical_text(value: object) -> str:
    """``value`` as text that two equal values share: SymPy objects as their canonical
    ``srepr``, tuples and dataclasses (a problem, its options) entry by entry.

    Examples
    --------
    >>> import sympy as sp
    >>> canonical_text((sp.Symbol("x", real=True, positive=True), 1.5, None))
    "(Symbol('x', positive=True, real=True), 1.5, None)"
    """
    if isinstance(value, Basic):
        return _CanonicalPrinter().doprint(value)
    if isinstance(value, tuple | list):
        return "(" + ", ".join(map(canonical_text, value)) + ")"
    if is_dataclass(value):
        entries = ", ".join(
            f"{field.name}={canonical_text(getattr(value, field.name))}" for field in fields(value)
        )
        return f"{type(value).__name__}({entries})"
    return repr(value)


def digest(*values: object) -> str:
    """The SHA-256 hex digest of the values' :func:`canonical_text`."""
    return hashlib.sha256(canonical_text(values).encode()).hexdigest()
