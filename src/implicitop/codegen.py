"""Code generation: SymPy expressions to the per-problem functions the solvers call.

The solver algorithms (:mod:`implicitop.solvers`) call a few functions of one
element by name (:mod:`implicitop.solvers.interface`): the residual and its slope (or
the residuals and their Jacobian), the size of the residuals' terms and the initial
guess (and, for one equation, the parts of the residual Halley's method iterates
on, with their first two derivatives:
:attr:`~implicitop.problem.ImplicitProblem.halley_parts`). This module writes them
for one problem with :func:`sympy.lambdify` (common subexpressions shared through
``cse=True``): as Python source over ``math`` for numba to compile, or as callables
over SciPy and NumPy for the plain-Python solver.
Every function takes ``(x, p)`` or ``(u, p)``: the unknown (an array for systems)
and the array of the element's parameters.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence

import sympy as sp

from implicitop.problem import ImplicitProblem, residual_scale

__all__ = ["element_functions", "element_source"]

#: One initial guess per unknown: a number, an expression in the parameters, or None.
Guess = tuple[float | sp.Expr | None, ...]

ElementFunctions = dict[str, Callable[..., tuple[float, ...]]]

_UNKNOWNS = sp.IndexedBase("u")
_PARAMS = sp.IndexedBase("p")
_UNKNOWN = sp.Symbol("x")


def _expressions(problem: ImplicitProblem, guess: Guess) -> dict[str, tuple[sp.Expr, ...]]:
    """The functions' names and the expressions they return, in the element variables
    ``x`` (or ``u[j]``) and ``p[j]``."""
    element = {theta: _PARAMS[j] for j, theta in enumerate(problem.params)}
    starts = tuple(sp.nan if g is None else sp.sympify(g) for g in guess)
    if problem.size == 1:
        (residual,) = problem.residuals
        element[problem.unknowns[0]] = _UNKNOWN
        functions = {
            "residual_and_slope": (residual, problem.jacobian[0, 0]),
            "halley_parts": problem.halley_parts,
            "scale": (residual_scale(residual),),
        }
    else:
        element |= {u: _UNKNOWNS[j] for j, u in enumerate(problem.unknowns)}
        functions = {
            "residuals_and_jacobian": (*problem.residuals, *problem.jacobian),
            "scales": tuple(residual_scale(r) for r in problem.residuals),
        }
    functions["guess"] = starts
    return {
        name: tuple(_floating(expr.xreplace(element)) for expr in exprs)
        for name, exprs in functions.items()
    }


def _floating(expr: sp.Expr) -> sp.Expr:
    """``expr`` with number values as floats, so that the functions return tuples of
    floats only (numba indexes those at run time, not tuples mixing ints and floats)."""
    if expr.is_Number:
        return sp.Float(expr)
    if isinstance(expr, sp.Piecewise):
        return sp.Piecewise(*((_floating(value), condition) for value, condition in expr.args))
    return expr


def _arguments(problem: ImplicitProblem, name: str) -> list[sp.Basic]:
    if name == "guess":
        return [_PARAMS]
    return [_UNKNOWN if problem.size == 1 else _UNKNOWNS, _PARAMS]


def _returned(name: str, exprs: Sequence[sp.Expr]) -> sp.Expr | tuple[sp.Expr, ...]:
    """One equation's scale is returned as a float, everything else as a tuple."""
    return exprs[0] if name == "scale" else tuple(exprs)


def element_source(problem: ImplicitProblem, guess: Guess) -> str:
    """Python source (over ``math``) defining the problem's element functions."""
    definitions = []
    for name, exprs in _expressions(problem, guess).items():
        function = sp.lambdify(
            _arguments(problem, name), _returned(name, exprs), modules="math", cse=True
        )
        source = inspect.getsource(function)
        definitions.append(source.replace("def _lambdifygenerated(", f"def {name}(", 1))
    return "\n\n".join(definitions)


def element_functions(problem: ImplicitProblem, guess: Guess) -> ElementFunctions:
    """The problem's element functions as callables over SciPy and NumPy."""
    return {
        name: sp.lambdify(
            _arguments(problem, name), _returned(name, exprs), modules=["scipy", "numpy"], cse=True
        )
        for name, exprs in _expressions(problem, guess).items()
    }
