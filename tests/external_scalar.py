"""Scalar root-finding test cases nobody here wrote: SciPy's Chandrupatla set
(``scipy.optimize._tstutils.get_tests("chandrupatla")``: 45 cases, each a function, a
bracket and the known root).

SciPy's functions are plain Python; each is written here once more in SymPy, as
``f(x) - c`` with a parameter ``c`` (0 in the cases), so ``dx/dc = 1 / f'(x)`` checks
the gradient too. The brackets and roots come from SciPy at run time.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp
from scipy.optimize import _tstutils

X = sp.Symbol("x", real=True)
C = sp.Symbol("c", real=True)

#: SciPy's test functions in SymPy, by name (see ``scipy/optimize/_tstutils.py``).
_XI = sp.Float("0.61489")
SYMPY_FUNCTIONS: dict[str, sp.Expr] = {
    "fun1": X**3 - 2 * X - 5,
    "fun2": 1 - 1 / X**2,
    "fun3": (X - 3) ** 3,
    "fun4": 6 * (X - 2) ** 5,
    "fun5": X**9,
    "fun6": X**19,
    "fun7": sp.Piecewise((0, sp.Abs(X) < sp.Float("3.8e-4")), (X * sp.exp(-(X**-2)), True)),
    "fun8": -(3062 * (1 - _XI) * sp.exp(-X)) / (_XI + (1 - _XI) * sp.exp(-X)) - 1013 + 1628 / X,
    "fun9": sp.exp(X) - 2 - sp.Float("0.01") / X**2 + sp.Float("0.000002") / X**3,
}


@dataclass(frozen=True)
class ScalarCase:
    """One external case: ``f(x) - c`` with its SciPy function, bracket and root."""

    case_id: str
    expression: sp.Expr
    function: object
    bracket: tuple[float, float]
    root: float


def chandrupatla_cases() -> list[ScalarCase]:
    """SciPy's 45 Chandrupatla cases."""
    return [
        ScalarCase(
            case["ID"],
            SYMPY_FUNCTIONS[case["f"].__name__] - C,
            case["f"],
            (float(case["bracket"][0]), float(case["bracket"][1])),
            float(case["root"]),
        )
        for case in _tstutils.get_tests("chandrupatla")
    ]
