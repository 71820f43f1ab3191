"""The picture a modeller checks before sampling: the root and its derivative over
a parameter's range, with the elements that have no root marked, and why.

:func:`curve_data` computes what is drawn (tested as numbers); :func:`plot` draws it
with matplotlib. Framework-neutral: roots from the op's solver, derivatives from the
symbolic implicit derivative evaluated with NumPy.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass

import numpy as np
import sympy as sp

from implicitop._extras import missing_extra
from implicitop._problem import ImplicitProblem
from implicitop._ranges import Ranges, check_names, is_log_scaled, parameter_range
from implicitop._solvers import Solver, SolveStatus

try:
    from matplotlib.figure import Figure
except ModuleNotFoundError as error:
    raise missing_extra(error, "plot", "op.plot") from None

__all__ = ["CurveData", "ShownFigure", "curve_data", "plot"]


class ShownFigure(Figure):
    """A matplotlib figure that Jupyter shows when it is a cell's value, without pyplot
    (a plain :class:`~matplotlib.figure.Figure` shows as text unless pyplot's inline
    backend is active)."""

    def _repr_png_(self) -> bytes:
        buffer = io.BytesIO()
        self.savefig(buffer, format="png", dpi=100)
        return buffer.getvalue()


@dataclass(frozen=True)
class CurveData:
    """The root and its derivative along one parameter, the others held fixed.

    Attributes
    ----------
    parameter
        The parameter varied.
    values
        Its values, shape (m,).
    fixed
        The values the other parameters are held at.
    roots
        The roots, shape (m, n), NaN where there is none.
    derivatives
        ``du_i/d(parameter)`` at the roots, shape (m, n), NaN where there is no root.
    status
        One :class:`~implicitop.SolveStatus` code per value, shape (m,).
    log_scaled
        Whether the values are spaced (and drawn) on a log scale.
    """

    parameter: sp.Symbol
    values: np.ndarray
    fixed: dict[sp.Symbol, float]
    roots: np.ndarray
    derivatives: np.ndarray
    status: np.ndarray
    log_scaled: bool

    @property
    def failed(self) -> np.ndarray:
        """Where no root was found, shape (m,)."""
        return self.status != SolveStatus.CONVERGED

    def failures(self) -> dict[SolveStatus, int]:
        """How many values failed, by reason."""
        codes, counts = np.unique(self.status[self.failed], return_counts=True)
        return {SolveStatus(int(c)): int(n) for c, n in zip(codes, counts, strict=True)}


def _solver_of(op: object) -> Solver:
    solver = getattr(op, "solver", op)
    if not isinstance(solver, Solver):
        raise TypeError(f"expected an implicit op or its Solver, got {type(op).__name__}")
    return solver


def _midpoint(lo: float, hi: float) -> float:
    if is_log_scaled(lo, hi):
        return math.copysign(math.sqrt(lo * hi), hi)
    return (lo + hi) / 2


def _derivatives(
    problem: ImplicitProblem, index: int, roots: np.ndarray, params: list[np.ndarray]
) -> np.ndarray:
    """``du/dtheta_index`` (m, n) at ``roots`` (m, n) from the residuals' partials,
    ``-(dR/du)^-1 dR/dtheta_index``, as the op's gradient is built."""
    symbols = [*problem.unknowns, *problem.params]
    partials = sp.lambdify(
        symbols,
        [*problem.jacobian, *problem.param_jacobian[:, index]],
        modules=["scipy", "numpy"],
        cse=True,
    )
    n, m = problem.size, roots.shape[0]
    values = [np.broadcast_to(v, m) for v in partials(*roots.T, *params)]
    jacobian = np.stack(values[: n * n], axis=-1).reshape(m, n, n)
    column = np.stack(values[n * n :], axis=-1)[..., None]
    with np.errstate(all="ignore"):
        if n == 1:
            return -column[..., 0] / jacobian[..., 0]
        return -np.linalg.solve(jacobian, column)[..., 0]


def curve_data(
    op: object,
    ranges: Ranges | None = None,
    *,
    vary: sp.Symbol | str | None = None,
    at: dict[sp.Symbol | str, float] | None = None,
    points: int = 200,
) -> CurveData:
    """Roots and derivatives along one parameter.

    Parameters
    ----------
    op
        An implicit op (PyTensor's or Theano's), or its :class:`~implicitop.Solver`.
    ranges
        ``{parameter: (lo, hi)}``; parameters left out use
        :data:`~implicitop._ranges.DEFAULT_RANGES` for their assumptions.
    vary
        The parameter along the horizontal axis (a symbol or its name); the first
        parameter by default.
    at
        Values of the other parameters; by default the middle of their ranges
        (geometric for wide same-signed ranges).
    points
        How many values of ``vary``: log-spaced over a wide same-signed range, else
        evenly spaced.

    Raises
    ------
    ValueError
        For a parameter name the op does not have, or a range outside a domain.
    """
    solver = _solver_of(op)
    problem = solver.problem
    params = problem.params
    check_names(params, ranges)
    check_names(params, at)
    by_name = {p.name: p for p in params}
    varied = params[0] if vary is None else by_name.get(str(vary))
    if varied is None:
        raise ValueError(f"vary={vary!r} is not a parameter; the parameters are {list(by_name)}")
    if points < 2:
        raise ValueError(f"points must be at least 2, got {points}")
    lo, hi = parameter_range(varied, ranges)
    log_scaled = is_log_scaled(lo, hi)
    if log_scaled:
        values = math.copysign(1, hi) * np.geomspace(abs(lo), abs(hi), points)
        values = np.sort(values)
    else:
        values = np.linspace(lo, hi, points)
    given = {str(k): float(v) for k, v in (at or {}).items()}
    fixed = {
        p: given.get(p.name, _midpoint(*parameter_range(p, ranges))) for p in params if p != varied
    }
    columns = [values if p == varied else np.full(points, fixed[p]) for p in params]
    result = solver.solve(*columns)
    roots = np.asarray(result.root, dtype=float).reshape(points, problem.size)
    derivatives = np.full_like(roots, np.nan)
    good = np.asarray(result.status) == SolveStatus.CONVERGED
    if good.any():
        index = params.index(varied)
        good_columns = [column[good] for column in columns]
        derivatives[good] = _derivatives(problem, index, roots[good], good_columns)
    return CurveData(
        varied, values, fixed, roots, derivatives, np.asarray(result.status), log_scaled
    )


def plot(
    op: object,
    ranges: Ranges | None = None,
    *,
    vary: sp.Symbol | str | None = None,
    at: dict[sp.Symbol | str, float] | None = None,
    points: int = 200,
) -> Figure:
    """Draw the roots and their derivatives along one parameter (see
    :func:`curve_data` for the arguments): one row per unknown, the root on the left
    and ``du/d(parameter)`` on the right, with the values that have no root marked
    on the axis and listed by reason in the legend.

    Returns
    -------
    ShownFigure
        A matplotlib figure, shown by Jupyter when it is a cell's value;
        ``fig.savefig(path)`` writes it.
    """
    data = curve_data(op, ranges, vary=vary, at=at, points=points)
    problem = _solver_of(op).problem
    figure = ShownFigure(figsize=(10, 3.2 * problem.size), layout="constrained")
    axes = figure.subplots(problem.size, 2, squeeze=False)
    name = sp.latex(data.parameter)
    held = ", ".join(f"${sp.latex(p)}$ = {v:.4g}" for p, v in data.fixed.items())
    for row, unknown in enumerate(problem.unknowns):
        symbol = sp.latex(unknown)
        for column, (curve, label) in enumerate(
            [
                (data.roots[:, row], f"${symbol}$"),
                (data.derivatives[:, row], rf"$\partial {symbol} / \partial {name}$"),
            ]
        ):
            ax = axes[row, column]
            ax.plot(data.values, curve, color="tab:blue" if column == 0 else "tab:green")
            if data.log_scaled:
                ax.set_xscale("symlog" if data.values[0] < 0 else "log")
            ax.set(xlabel=f"${name}$", ylabel=label)
            for status, count in data.failures().items():
                where = data.values[data.status == status]
                reason = status.name.lower().replace("_", " ")
                ax.plot(
                    where, np.zeros_like(where), "x", transform=ax.get_xaxis_transform(),
                    clip_on=False, label=f"{reason} ({count})",
                )  # fmt: skip
            if data.failures():
                ax.legend(fontsize="small")
    equations = ", ".join(f"{r} = 0" for r in problem.residuals)
    if problem.objective is not None:
        unknowns = ", ".join(u.name for u in problem.unknowns)
        equations = f"{unknowns} = argmin {problem.objective}"
    figure.suptitle(equations + (f"  at {held}" if held else ""), fontsize="medium")
    return figure
