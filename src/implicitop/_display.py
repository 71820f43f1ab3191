"""How an implicit op shows itself in Jupyter: the equation, the unknowns and
parameters with their domains, the derivative and the options, as LaTeX and HTML.

Framework-neutral: it reads the op's problem, options and solver only.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from implicitop._options import ImplicitOptions
from implicitop._problem import Domain, ImplicitProblem

if TYPE_CHECKING:
    import sympy as sp
else:
    from implicitop._lazy import sympy as sp

__all__ = ["domain_latex", "html_summary", "latex_summary"]


def _number_latex(value: float) -> str:
    if math.isinf(value):
        return r"\infty" if value > 0 else r"-\infty"
    if 0 < abs(value) < 1e-300:
        return "0" if value > 0 else "-0"  # the smallest normal double stands for 0
    return sp.latex(sp.Float(value, 4)) if value != int(value) else str(int(value))


def domain_latex(domain: Domain) -> str:
    """``domain`` as an interval in LaTeX: open where the bound is excluded or infinite."""
    lower, upper = domain.lower, domain.upper
    left = "(" if math.isinf(lower) or 0 < abs(lower) < 1e-300 else "["
    right = ")" if math.isinf(upper) or 0 < abs(upper) < 1e-300 else "]"
    return rf"{left}{_number_latex(lower)}, {_number_latex(upper)}{right}"


def _derivative_rows(problem: ImplicitProblem) -> list[tuple[str, str]]:
    """``(left side, right side)`` in LaTeX for each ``du_i/dtheta_k`` (n x k of them)."""
    matrix = problem.derivative_matrix
    return [
        (
            rf"\frac{{\partial {sp.latex(u)}}}{{\partial {sp.latex(theta)}}}",
            sp.latex(matrix[i, k]),
        )
        for i, u in enumerate(problem.unknowns)
        for k, theta in enumerate(problem.params)
    ]


def _minimised_latex(problem: ImplicitProblem) -> str:
    """``u* = argmin_u f``, for a minimum's problem."""
    unknowns = ", ".join(map(sp.latex, problem.unknowns))
    objective = sp.latex(problem.objective)
    return rf"{unknowns} = \operatorname{{argmin}}_{{{unknowns}}} \left({objective}\right)"


def latex_summary(problem: ImplicitProblem) -> str:
    """The equations ``R = 0`` (after the objective, for a minimum) and the derivatives,
    one aligned LaTeX display."""
    lines = [rf"{sp.latex(r)} &= 0" for r in problem.residuals]
    if problem.objective is not None:
        lines.insert(0, _minimised_latex(problem).replace(" = ", " &= ", 1))
    lines += [rf"{left} &= {right}" for left, right in _derivative_rows(problem)]
    return r"$$\begin{aligned}" + r" \\ ".join(lines) + r"\end{aligned}$$"


def _symbols_html(symbols: Sequence[sp.Symbol], domains: Sequence[Domain]) -> str:
    return ", ".join(
        rf"\({sp.latex(s)} \in {domain_latex(d)}\)" for s, d in zip(symbols, domains, strict=True)
    )


def _options_html(options: ImplicitOptions) -> str:
    shown = {
        "x0": options.x0,
        "bracket": options.bracket,
        "tol": options.tol,
        "maxiter": options.maxiter,
        "on_failure": options.on_failure,
    }
    return ", ".join(f"{name}={html.escape(repr(value))}" for name, value in shown.items())


def html_summary(
    title: str,
    problem: ImplicitProblem,
    options: ImplicitOptions,
    search_domains: Sequence[Domain],
) -> str:
    """A table of the op: equations, unknowns (where roots are searched), parameters
    (the values they may take), derivatives and options; maths as MathJax."""
    objective = problem.objective is not None
    minimum = [("minimum", rf"\({_minimised_latex(problem)}\)")] if objective else []
    rows = [
        *minimum,
        ("equation" if problem.size == 1 else "equations", "<br>".join(
            rf"\({sp.latex(r)} = 0\)" for r in problem.residuals
        )),
        ("unknowns", _symbols_html(problem.unknowns, search_domains)),
        ("parameters", _symbols_html(problem.params, problem.param_domains)),
        ("derivative", "<br>".join(
            rf"\({left} = {right}\)" for left, right in _derivative_rows(problem)
        )),
        ("options", _options_html(options)),
    ]  # fmt: skip
    body = "".join(
        f'<tr><th style="text-align:left">{name}</th><td style="text-align:left">{value}</td></tr>'
        for name, value in rows
    )
    # "mathjax_process": MathJax typesets the table where the page around it is left
    # alone (MyST-NB's pages; Jupyter typesets outputs anyway).
    return (
        f'<table class="implicitop-summary mathjax_process">'
        f"<caption>{html.escape(title)}</caption>{body}</table>"
    )
