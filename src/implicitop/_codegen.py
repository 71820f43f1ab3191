"""Code generation: SymPy expressions to the per-problem functions the solvers call.

The solver algorithms (:mod:`implicitop._solvers`) call a few functions of one
element by name (:mod:`implicitop._solvers.interface`): the residual and its slope (or
the residuals and their Jacobian), the size of the residuals' terms and the initial
guess (and, for one equation, the parts of the residual Halley's method iterates
on, with their first two derivatives:
:attr:`~implicitop.ImplicitProblem.halley_parts`), and the bracket's ends
where they are expressions. This module writes them
for one problem with :func:`sympy.lambdify` (common subexpressions shared, and sums
that cancel rewritten, by :func:`~implicitop._cancellation.accurate_cse`): as Python
source over ``math`` for numba to compile, or as callables over SciPy and NumPy for
the plain-Python solver.
Every function takes ``(x, p)`` or ``(u, p)``: the unknown (an array for systems)
and the element's parameters (an array, or a tuple); one equation's
``lane_parameters(columns, i)`` gives the tuple of lane ``i``'s parameters from the
columns of a block, which the block loops pass on (with an array view in their place,
LLVM cannot bound the loads and does not vectorise those loops).
"""

from __future__ import annotations

import builtins
import inspect
import re
from collections.abc import Callable, Sequence
from functools import cache, lru_cache

import sympy as sp
from sympy.printing.numpy import SciPyPrinter
from sympy.printing.pycode import PythonCodePrinter

from implicitop._cancellation import accurate_cse, accurate_sums
from implicitop._options import Starts
from implicitop._problem import ImplicitProblem, residual_scale

__all__ = [
    "KernelPrinter",
    "called_names",
    "check_evaluable",
    "compiled_slopes",
    "defined_names",
    "element_functions",
    "element_source",
    "kernel_printable",
    "unprintable_functions",
]


ElementFunctions = dict[str, Callable[..., tuple[float, ...]]]

_UNKNOWNS = sp.IndexedBase("u")
_PARAMS = sp.IndexedBase("p")
_UNKNOWN = sp.Symbol("x")
_COLUMNS = sp.IndexedBase("columns")
_LANE = sp.Symbol("i", integer=True)


def _expressions(problem: ImplicitProblem, starts: Starts) -> dict[str, tuple[sp.Expr, ...]]:
    """The functions' names and the expressions they return, in the element variables
    ``x`` (or ``u[j]``) and ``p[j]``."""
    return dict(_derived_expressions(problem, starts))


@lru_cache(maxsize=64)
def _derived_expressions(
    problem: ImplicitProblem, starts: Starts
) -> tuple[tuple[str, tuple[sp.Expr, ...]], ...]:
    """:func:`_expressions`, derived once for each problem and starts a process has
    built lately: the op's construction checks them, its solver prints them."""
    element = {theta: _PARAMS[j] for j, theta in enumerate(problem.params)}
    if problem.size == 1:
        (residual,) = problem.residuals
        element[problem.unknowns[0]] = _UNKNOWN
        functions = {
            "residual": (residual,),
            "residual_and_slope": (residual, problem.jacobian[0, 0]),
            "residual_slope_and_scale": (
                residual,
                problem.jacobian[0, 0],
                residual_scale(residual),
            ),
            "halley_parts": problem.halley_parts,
            "slope_and_partials": (
                _slope_and_partials(problem)
                if compiled_slopes(problem)
                else (sp.nan,) * (len(problem.params) + 1)
            ),
            "scale": (residual_scale(residual),),
            "lane_parameters": tuple(_COLUMNS[j, _LANE] for j in range(len(problem.params))),
        }
    else:
        element |= {u: _UNKNOWNS[j] for j, u in enumerate(problem.unknowns)}
        objective = sp.S.Zero if problem.objective is None else problem.objective
        functions = {
            "residuals_and_jacobian": (*problem.residuals, *problem.jacobian, objective),
            "scales": tuple(residual_scale(r) for r in problem.residuals),
        }
    functions["guess"] = tuple(sp.nan if g is None else g for g in starts.guess)
    functions["bracket"] = tuple(sp.nan if end is None else end for end in starts.bracket)
    # sums that cancel rewritten while the symbols still carry their assumptions (the
    # rule for (1 + r)**n - 1 needs them); accurate_cse rewrites what cse rebuilds
    return tuple(
        (name, tuple(_floating(accurate_sums(expr).xreplace(element)) for expr in exprs))
        for name, exprs in functions.items()
    )


def _floating(expr: sp.Expr) -> sp.Expr:
    """``expr`` with number values as floats, so that the functions return tuples of
    floats only (numba indexes those at run time, not tuples mixing ints and floats)."""
    if expr.is_Number:
        return sp.Float(expr)
    return expr.replace(
        lambda e: isinstance(e, sp.Piecewise),
        lambda e: sp.Piecewise(*((_floating(value), condition) for value, condition in e.args)),
    )


def _arguments(problem: ImplicitProblem, name: str) -> list[sp.Basic]:
    if name in ("guess", "bracket"):
        return [_PARAMS]
    if name == "lane_parameters":
        return [_COLUMNS, _LANE]
    return [_UNKNOWN if problem.size == 1 else _UNKNOWNS, _PARAMS]


def _returned(name: str, exprs: Sequence[sp.Expr]) -> sp.Expr | tuple[sp.Expr, ...]:
    """One equation's residual and scale are returned as floats, everything else as a
    tuple."""
    return exprs[0] if name in ("residual", "scale") else tuple(exprs)


#: SymPy functions :class:`KernelPrinter` prints as the special function of that name.
_RENAMED = {
    "besseli": "iv",
    "besselj": "jv",
    "besselk": "kv",
    "erfinv": "erfinv",
    "erfcinv": "erfcinv",
    "Ei": "expi",
}


class KernelPrinter(PythonCodePrinter):
    """Python over ``math`` and the special functions of
    :mod:`implicitop._solvers.special` (SciPy's, in compiled code), for numba."""

    def __init__(self) -> None:
        super().__init__(
            {
                "fully_qualified_modules": False,
                "inline": True,
                "allow_unknown_functions": True,
                "user_functions": dict(_RENAMED),
            }
        )

    def _print_Pow(self, expr: sp.Pow, rational: bool = False) -> str:
        # numba raises ZeroDivisionError for 0.0 ** -n, whatever its error model
        if expr.exp.is_Integer and expr.exp < 0:
            return f"(1.0/({self._print(sp.Pow(expr.base, -expr.exp))}))"
        return super()._print_Pow(expr, rational)

    def _call(self, name: str, *args: sp.Basic) -> str:
        return f"{name}({', '.join(self._print(arg) for arg in args)})"

    def _print_lowergamma(self, expr: sp.Expr) -> str:
        a, x = expr.args
        return f"({self._call('gamma', a)}*{self._call('gammainc', a, x)})"

    def _print_uppergamma(self, expr: sp.Expr) -> str:
        a, x = expr.args
        return f"({self._call('gamma', a)}*{self._call('gammaincc', a, x)})"

    def _print_betainc_regularized(self, expr: sp.Expr) -> str:
        a, b, start, stop = expr.args
        return f"({self._call('betainc', a, b, stop)} - {self._call('betainc', a, b, start)})"

    def _print_polygamma(self, expr: sp.Expr) -> str:
        order, x = expr.args
        if order == 0:
            return self._call("psi", x)
        if not (order.is_Integer and order > 0):
            return self._print_not_supported(expr)
        return self._call("polygamma", order, x)


def kernel_printable(expr: sp.Expr) -> bool:
    """Whether :class:`KernelPrinter` prints ``expr`` (compiled code can evaluate it)."""
    try:
        KernelPrinter().doprint(expr)
    except NotImplementedError:
        return False
    return True


def _slope_and_partials(problem: ImplicitProblem) -> tuple[sp.Expr, ...]:
    """One equation's ``dR/du`` and ``dR/dtheta_j`` for every parameter."""
    return (problem.jacobian[0, 0], *problem.param_jacobian)


def compiled_slopes(problem: ImplicitProblem) -> bool:
    """Whether compiled code can evaluate one equation's slope and every partial
    derivative in a parameter: the op's gradient then takes its implicit derivatives
    from compiled code (:func:`~implicitop._solvers.lockstep.slopes_block`, whose
    ``slope_and_partials`` are NaN otherwise). Where it cannot (a partial derivative of
    a special function in a parameter, say), the gradient keeps its graph, and the
    residual's own functions still compile."""
    return all(kernel_printable(expr) for expr in _slope_and_partials(problem))


def _curvature_or_zero(expr: sp.Expr, index: int) -> sp.Expr:
    """A second derivative among the Halley parts (``A''``, ``B''``: indices 2 and 5) as
    it is, or 0 where compiled code cannot evaluate it (a function without a compiled
    implementation): Halley's step is then Newton's, and the residual still compiles."""
    if index % 3 != 2 or kernel_printable(expr):
        return expr
    return sp.Float(0.0)


def element_source(problem: ImplicitProblem, starts: Starts) -> str:
    """Python source (over ``math`` and :mod:`implicitop._solvers.special`, see
    :class:`KernelPrinter`) defining the problem's element functions."""
    definitions = []
    for name, exprs in _expressions(problem, starts).items():
        if name == "halley_parts":
            exprs = tuple(_curvature_or_zero(expr, i) for i, expr in enumerate(exprs))
        function = sp.lambdify(
            _arguments(problem, name),
            _returned(name, exprs),
            modules="math",
            printer=KernelPrinter(),
            cse=accurate_cse,
        )
        source = inspect.getsource(function)
        definitions.append(source.replace("def _lambdifygenerated(", f"def {name}(", 1))
    return "\n\n".join(definitions)


def element_functions(problem: ImplicitProblem, starts: Starts) -> ElementFunctions:
    """The problem's element functions as callables over SciPy and NumPy."""
    return {
        name: sp.lambdify(
            _arguments(problem, name),
            _returned(name, exprs),
            modules=["scipy", "numpy"],
            cse=accurate_cse,
        )
        for name, exprs in _expressions(problem, starts).items()
    }


def defined_names(source: str) -> list[str]:
    """The names of the functions ``source`` defines at its top level, in order."""
    return re.findall(r"^def (\w+)\(", source, flags=re.MULTILINE)


def called_names(source: str) -> set[str]:
    """The names ``source`` calls (not attributes: ``numpy.logical_and.reduce``) and does
    not define."""
    calls = set(re.findall(r"(?<![\w.])([A-Za-z_]\w*)\(", source))
    return calls - set(defined_names(source))


def unprintable_functions(
    problem: ImplicitProblem, starts: Starts, printer: PythonCodePrinter
) -> list[str]:
    """The names of the functions in the problem's element functions that ``printer``
    cannot print (not those it fails on only for an argument's sake, as ``Abs`` in
    ``Abs(fresnels(x))``)."""
    calls = set()
    for exprs in _expressions(problem, starts).values():
        for expr in exprs:
            calls |= expr.atoms(sp.Function)
    failing = set()
    for call in calls:
        try:
            printer.doprint(call)
        except (NotImplementedError, TypeError, ValueError):
            failing.add(call)
    return sorted(
        {
            type(call).__name__
            for call in failing
            if not any(inner != call and inner in failing for inner in call.atoms(sp.Function))
        }
    )


#: Rewrites, in functions that compile, of SymPy functions with no numeric code.
_REWRITES = {
    "expint": "expint(1, x) is -Ei(-x) for x > 0 (Theis' well function)",
    "li": "li(x) is Ei(log(x)) for x > 1",
    "Chi": "Chi(x) is (Ei(x) + Ei(-x))/2 for x > 0",
    "Shi": "Shi(x) is (Ei(x) - Ei(-x))/2 for x > 0",
}


#: How :func:`sympy.lambdify` prints code over SciPy and NumPy (:func:`element_functions`).
_SCIPY_SETTINGS = {
    "fully_qualified_modules": False,
    "inline": True,
    "allow_unknown_functions": True,
}


@cache
def _scipy_namespace() -> frozenset[str]:
    """The names the code :func:`sympy.lambdify` writes over SciPy and NumPy can call:
    those of its namespace, and Python's builtins."""
    function = sp.lambdify([], sp.S.Zero, modules=["scipy", "numpy"])
    return frozenset(function.__globals__) | frozenset(dir(builtins))


def _undefined_names(problem: ImplicitProblem, starts: Starts) -> set[str]:
    """The names the problem's functions over SciPy and NumPy (:func:`element_functions`)
    would call that neither defines, from each expression printed as ``lambdify``
    prints it (which imports what the printer asks for, ``functools.reduce`` say):
    sharing subexpressions and rewriting sums, as those functions do, keeps the
    functions called, and printing alone takes a fraction of the time."""
    printer = SciPyPrinter(_SCIPY_SETTINGS)
    called: set[str] = set()
    for exprs in _expressions(problem, starts).values():
        for expr in exprs:
            called |= called_names(printer.doprint(expr))
    imported = {name for names in printer.module_imports.values() for name in names}
    return called - _scipy_namespace() - imported


def check_evaluable(problem: ImplicitProblem, starts: Starts) -> None:
    """Raise ``ValueError`` naming the functions of the residual (or of its derivatives,
    or the initial guess) that neither numba nor SciPy and NumPy can evaluate."""
    missing = set(unprintable_functions(problem, starts, SciPyPrinter(_SCIPY_SETTINGS)))
    if not missing:  # printed, but as a name neither SciPy nor NumPy defines
        missing = _undefined_names(problem, starts)
    if missing:
        hints = "".join(f" {_REWRITES[name]}." for name in sorted(missing) if name in _REWRITES)
        raise ValueError(
            f"the residual or its derivative in the unknown uses {', '.join(sorted(missing))}, "
            "which SymPy cannot turn into SciPy or NumPy code, so no root can be "
            "computed. Rewrite it with other functions, or make its value another unknown "
            f"of a system.{hints}"
        )
