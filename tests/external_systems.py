"""Systems nobody here wrote: the More-Garbow-Hillstrom / MINPACK test problems as SciML's
NonlinearProblemLibrary.jl defines them (its problems 1-5, 8, 9, 12-15, 17: the ones
with a closed form in a handful of unknowns), each with its start, in SymPy.

One constant of each is a parameter ``q`` (its value in the library given as
``value``), so the derivative of the root can be checked too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import sympy as sp

Q = sp.Symbol("q", real=True)


@dataclass(frozen=True)
class SystemCase:
    """One external system: residuals in ``unknowns`` and ``q``, the library's start,
    the library's value of ``q`` and its known solution (None where it gives none)."""

    name: str
    residuals: tuple[sp.Expr, ...]
    unknowns: tuple[sp.Symbol, ...]
    start: tuple[float, ...]
    value: float
    solution: tuple[float, ...] | None


def _unknowns(n: int) -> tuple[sp.Symbol, ...]:
    return sp.symbols(f"x1:{n + 1}", real=True)


def _rosenbrock() -> SystemCase:
    x = _unknowns(2)
    return SystemCase("rosenbrock", (Q - x[0], 10 * (x[1] - x[0] ** 2)), x, (-1.2, 1.0), 1.0,
                      (1.0, 1.0))  # fmt: skip


def _powell_singular() -> SystemCase:
    x = _unknowns(4)
    residuals = (
        x[0] + 10 * x[1] - Q,
        sp.sqrt(5) * (x[2] - x[3]),
        (x[1] - 2 * x[2]) ** 2,
        sp.sqrt(10) * (x[0] - x[3]) ** 2,
    )
    return SystemCase("powell_singular", residuals, x, (3.0, -1.0, 0.0, 1.0), 0.0, (0.0,) * 4)


def _powell_badly_scaled() -> SystemCase:
    x = _unknowns(2)
    residuals = (10000 * x[0] * x[1] - 1, sp.exp(-x[0]) + sp.exp(-x[1]) - Q)
    return SystemCase("powell_badly_scaled", residuals, x, (0.0, 1.0), 1.0001,
                      (1.098159e-5, 9.106146))  # fmt: skip


def _wood() -> SystemCase:
    x = _unknowns(4)
    first, second = x[1] - x[0] ** 2, x[3] - x[2] ** 2
    residuals = (
        -200 * x[0] * first - (Q - x[0]),
        200 * first + sp.Float("20.2") * (x[1] - 1) + sp.Float("19.8") * (x[3] - 1),
        -180 * x[2] * second - (1 - x[2]),
        180 * second + sp.Float("20.2") * (x[3] - 1) + sp.Float("19.8") * (x[1] - 1),
    )
    return SystemCase("wood", residuals, x, (-3.0, -1.0, -3.0, -1.0), 1.0, (1.0,) * 4)


def _helical_valley() -> SystemCase:
    x = _unknowns(3)
    turn = sp.atan(x[1] / x[0]) / (2 * sp.pi)
    theta = sp.Piecewise((turn, x[0] > 0), (turn + sp.Rational(1, 2), x[0] < 0),
                         (sp.sign(x[1]) / 4, True))  # fmt: skip
    residuals = (10 * (x[2] - 10 * theta), 10 * (sp.sqrt(x[0] ** 2 + x[1] ** 2) - Q), x[2])
    return SystemCase("helical_valley", residuals, x, (-1.0, 0.0, 0.0), 1.0, (1.0, 0.0, 0.0))


def _brown_almost_linear(n: int = 5) -> SystemCase:
    x = _unknowns(n)
    total = sp.Add(*x)
    residuals = (*(x[i] + total - (n + 1) for i in range(n - 1)), sp.Mul(*x) - Q)
    return SystemCase("brown_almost_linear", residuals, x, (0.5,) * n, 1.0, (1.0,) * n)


def _discrete_boundary_value(n: int = 5) -> SystemCase:
    x = _unknowns(n)
    h = sp.Rational(1, n + 1)

    def kernel(k: int) -> sp.Expr:
        return 2 * x[k] + Q * h**2 * (x[k] + (k + 1) * h + 1) ** 3

    residuals = tuple(
        kernel(k) - (x[k - 1] if k > 0 else 0) - (x[k + 1] if k < n - 1 else 0) for k in range(n)
    )
    start = tuple(float((i + 1) * (i - n) / (n + 1) ** 2) for i in range(n))
    return SystemCase("discrete_boundary_value", residuals, x, start, 0.5, None)


def _variably_dimensioned(n: int = 5) -> SystemCase:
    x = _unknowns(n)
    total = sp.Add(*((j + 1) * (x[j] - 1) for j in range(n)))
    residuals = tuple(x[k] - Q + (k + 1) * total * (1 + 2 * total**2) for k in range(n))
    start = tuple(1.0 - (i + 1) / n for i in range(n))
    return SystemCase("variably_dimensioned", residuals, x, start, 1.0, (1.0,) * n)


def _broyden_tridiagonal(n: int = 5) -> SystemCase:
    x = _unknowns(n)
    residuals = tuple(
        (3 - 2 * x[k]) * x[k] + Q - (x[k - 1] if k > 0 else 0) - (2 * x[k + 1] if k < n - 1 else 0)
        for k in range(n)
    )
    return SystemCase("broyden_tridiagonal", residuals, x, (-1.0,) * n, 1.0, None)


def _broyden_banded(n: int = 5) -> SystemCase:
    x = _unknowns(n)
    residuals = []
    for k in range(n):
        band = [j for j in range(max(0, k - 5), min(n, k + 2)) if j != k]
        neighbours = sp.Add(*(x[j] * (1 + x[j]) for j in band))
        residuals.append(x[k] * (2 + 5 * x[k] ** 2) + Q - neighbours)
    return SystemCase("broyden_banded", tuple(residuals), x, (-1.0,) * n, 1.0, None)


def _hammarling_2x2() -> SystemCase:
    x = _unknowns(4)
    residuals = (
        x[0] ** 2 + x[1] * x[2] - sp.Float("0.0001"),
        x[0] * x[1] + x[1] * x[3] - Q,
        x[2] * x[0] + x[3] * x[2],
        x[2] * x[1] + x[3] ** 2 - sp.Float("0.0001"),
    )
    return SystemCase("hammarling_2x2", residuals, x, (1.0, 0.0, 0.0, 1.0), 1.0,
                      (0.01, 50.0, 0.0, 0.01))  # fmt: skip


def _dennis_schnabel() -> SystemCase:
    x = _unknowns(2)
    residuals = (x[0] + x[1] - 3, x[0] ** 2 + x[1] ** 2 - Q)
    return SystemCase("dennis_schnabel", residuals, x, (1.0, 5.0), 9.0, (0.0, 3.0))


def system_cases() -> list[SystemCase]:
    """The external systems."""
    builders = (
        _rosenbrock, _powell_singular, _powell_badly_scaled, _wood, _helical_valley,
        _brown_almost_linear, _discrete_boundary_value, _variably_dimensioned,
        _broyden_tridiagonal, _broyden_banded, _hammarling_2x2, _dennis_schnabel,
    )  # fmt: skip
    return [build() for build in builders]


def numeric(case: SystemCase) -> Callable[[np.ndarray], np.ndarray]:
    """``F(x) -> residuals`` at the library's value of ``q``, for SciPy."""
    residuals = [r.subs(Q, case.value) for r in case.residuals]
    function = sp.lambdify([case.unknowns], residuals, modules="numpy")
    return lambda x: np.array(function(x), dtype=float)
