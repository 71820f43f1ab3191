"""Scalar root-finding test cases nobody here wrote, from ``scipy.optimize._tstutils``:

- SciPy's Chandrupatla set (``get_tests("chandrupatla")``: 45 cases, each a function,
  a bracket and the known root);
- Alefeld, Potra and Shi's set (``get_tests("aps")``: 154 cases of 15 functions, each
  with its parameters, a bracket, a start for methods without one, and the known root).

SciPy's functions are plain Python; each is written here once more in SymPy, as
``f(x) - c`` with a parameter ``c`` (0 in the cases), so ``dx/dc = 1 / f'(x)`` checks
the gradient too; an APS function's own parameters are parameters of the residual as
well. The brackets, starts and roots come from SciPy at run time.
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


_A, _B, _N = sp.symbols("a b n", real=True)
#: Alefeld, Potra and Shi's functions in SymPy, by SciPy's name, with their parameters
#: in the order of the cases' ``args``.
APS_FUNCTIONS: dict[str, tuple[sp.Expr, tuple[sp.Symbol, ...]]] = {
    "aps01_f": (sp.sin(X) - X / 2, ()),
    "aps02_f": (-2 * sp.Add(*((2 * i - 5) ** 2 / (X - i**2) ** 3 for i in range(1, 21))), ()),
    "aps03_f": (_A * X * sp.exp(_B * X), (_A, _B)),
    "aps04_f": (X**_N - _A, (_N, _A)),
    "aps05_f": (sp.sin(X) - sp.Rational(1, 2), ()),
    "aps06_f": (2 * X * sp.exp(-_N) - 2 * sp.exp(-_N * X) + 1, (_N,)),
    "aps07_f": ((1 + (1 - _N) ** 2) * X - (1 - _N * X) ** 2, (_N,)),
    "aps08_f": (X * X - (1 - X) ** _N, (_N,)),
    "aps09_f": ((1 + (1 - _N) ** 4) * X - (1 - _N * X) ** 4, (_N,)),
    "aps10_f": (sp.exp(-_N * X) * (X - 1) + X**_N, (_N,)),
    "aps11_f": ((_N * X - 1) / ((_N - 1) * X), (_N,)),
    "aps12_f": (X ** (1 / _N) - _N ** (1 / _N), (_N,)),
    # every derivative is 0 at the root 0; exp underflows to 0 for |x| < 0.027
    "aps13_f": (X * sp.exp(-1 / X**2), ()),
    "aps14_f": (
        sp.Piecewise((-_N / 20, X <= 0), (_N / 20 * (X / sp.Rational(3, 2) + sp.sin(X) - 1), True)),
        (_N,),
    ),
    "aps15_f": (
        sp.Piecewise(
            (sp.Float("-0.859"), X < 0),
            (sp.E - sp.Float("1.859"), X > sp.Float("2e-3") / (1 + _N)),
            (sp.exp((_N + 1) * X / 2 * 1000) - sp.Float("1.859"), True),
        ),
        (_N,),
    ),
}  # fmt: skip


@dataclass(frozen=True)
class ApsCase:
    """One APS case: the function's parameters, the bracket, the start and the root."""

    case_id: str
    args: tuple[float, ...]
    bracket: tuple[float, float]
    x0: float
    root: float


@dataclass(frozen=True)
class ApsFamily:
    """One APS function, ``f(x, *params) - c``, with SciPy's function and its cases."""

    name: str
    expression: sp.Expr
    params: tuple[sp.Symbol, ...]
    function: object
    cases: tuple[ApsCase, ...]


def aps_families() -> list[ApsFamily]:
    """Alefeld, Potra and Shi's 154 cases, by function."""
    cases: dict[str, list[ApsCase]] = {}
    functions = {}
    for case in _tstutils.get_tests("aps"):
        name = case["f"].__name__
        functions[name] = case["f"]
        bracket = (float(case["bracket"][0]), float(case["bracket"][1]))
        args = tuple(float(a) for a in case["args"])
        cases.setdefault(name, []).append(
            ApsCase(case["ID"], args, bracket, float(case["x0"]), float(case["root"]))
        )
    return [
        ApsFamily(name, APS_FUNCTIONS[name][0] - C, (C, *APS_FUNCTIONS[name][1]),
                  functions[name], tuple(found))
        for name, found in cases.items()
    ]  # fmt: skip
