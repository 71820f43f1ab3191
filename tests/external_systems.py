"""Systems nobody here wrote: the 23 More-Garbow-Hillstrom / MINPACK test problems as
SciML's NonlinearProblemLibrary.jl defines them, each with its start, in SymPy. The
problems of any size have 5 unknowns here (the library takes 10; Watson and Chebyquad
2, as there); problem 20 is one equation.

One constant of each is a parameter ``q`` (its value in the library given as
``value``), so the derivative of the root can be checked too; the two problems without
a constant (18, 19) get ``q`` as a factor of their first equation, value 1.
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


def _watson() -> SystemCase:
    x = _unknowns(2)
    residuals = [sp.Integer(0), sp.Integer(0)]
    for i in range(1, 30):
        t = sp.Rational(i, 29)
        first = sp.Add(*(j * t ** (j - 2) * x[j - 1] for j in range(2, 3)))
        second = sp.Add(*(t**j * x[j] for j in range(2)))
        for k in range(2):
            residuals[k] += t ** (k - 1) * (first - second**2 - 1) * (k + 1 - 2 * t * second)
    residuals[0] += x[0] * (3 - 2 * x[1] + 2 * x[0] ** 2)
    residuals[1] += x[1] * (1 - x[1]) - Q
    return SystemCase("watson", tuple(residuals), x, (0.0, 0.0), 1.0, None)


def _chebyquad(n: int = 2) -> SystemCase:
    x = _unknowns(n)
    residuals = tuple(
        sp.Add(*(sp.chebyshevt(i, x[j]) for j in range(n))) / n
        + (Q / (i * i - 1) * 3 if i % 2 == 0 else 0)
        for i in range(1, n + 1)
    )
    start = tuple((2 * (i + 1) - n) / (n + 1) for i in range(n))
    root = 1 / np.sqrt(3)
    return SystemCase("chebyquad", residuals, x, start, 1 / 3, (-root, root))


def _discrete_integral_equation(n: int = 5) -> SystemCase:
    x = _unknowns(n)
    h = sp.Rational(1, n + 1)

    def cube(j: int) -> sp.Expr:
        return (x[j] + (j + 1) * h + Q) ** 3

    residuals = []
    for k in range(n):
        t = (k + 1) * h
        below = sp.Add(*((j + 1) * h * cube(j) for j in range(k + 1)))
        above = sp.Add(*((1 - (j + 1) * h) * cube(j) for j in range(k, n)))
        residuals.append(x[k] + h * ((1 - t) * below + t * above) / 2)
    start = tuple(float((i + 1) * (i - n) / (n + 1) ** 2) for i in range(n))
    return SystemCase("discrete_integral_equation", tuple(residuals), x, start, 1.0, None)


def _trigonometric(n: int = 5) -> SystemCase:
    x = _unknowns(n)
    cosines = sp.Add(*(sp.cos(v) for v in x))
    residuals = tuple(Q - cosines + (k + 1) * (1 - sp.cos(x[k])) - sp.sin(x[k]) for k in range(n))
    return SystemCase("trigonometric", residuals, x, (1 / n,) * n, float(n), None)


def _hammarling_3x3() -> SystemCase:
    x = _unknowns(9)
    small = sp.Float("0.0001")
    matrix = sp.Matrix(3, 3, x)
    square = matrix * matrix
    target = sp.Matrix([[small, Q, 0], [0, small, 0], [0, 0, small]])
    residuals = tuple(square[i, j] - target[i, j] for i in range(3) for j in range(3))
    start = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0)
    return SystemCase("hammarling_3x3", residuals, x, start, 1.0,
                      (0.01, 50.0, 0.0, 0.0, 0.01, 0.0, 0.0, 0.0, 0.01))  # fmt: skip


def _sample_18() -> SystemCase:
    x = _unknowns(2)
    residuals = (
        Q
        * sp.Piecewise((0, sp.Eq(x[0], 0)), (x[1] ** 2 * (1 - sp.exp(-(x[0] ** 2))) / x[0], True)),
        sp.Piecewise((0, sp.Eq(x[1], 0)), (x[0] * (1 - sp.exp(-(x[1] ** 2))) / x[1], True)),
    )
    return SystemCase("sample_18", residuals, x, (2.0, 2.0), 1.0, (0.0, 0.0))


def _sample_19() -> SystemCase:
    x = _unknowns(2)
    size = x[0] ** 2 + x[1] ** 2
    return SystemCase("sample_19", (Q * x[0] * size, x[1] * size), x, (3.0, 3.0), 1.0, (0.0, 0.0))


def _scalar_20() -> SystemCase:
    x = _unknowns(1)
    return SystemCase("scalar_20", (x[0] * (x[0] - Q) ** 2,), x, (1.0,), 5.0, None)


def _freudenstein_roth() -> SystemCase:
    x = _unknowns(2)
    residuals = (
        x[0] - x[1] ** 3 + 5 * x[1] ** 2 - 2 * x[1] - Q,
        x[0] + x[1] ** 3 + x[1] ** 2 - 14 * x[1] - 29,
    )
    return SystemCase("freudenstein_roth", residuals, x, (0.5, -2.0), 13.0, (5.0, 4.0))


def _boggs() -> SystemCase:
    x = _unknowns(2)
    residuals = (x[0] ** 2 - x[1] + Q, x[0] - sp.cos(sp.pi / 2 * x[1]))
    return SystemCase("boggs", residuals, x, (1.0, 0.0), 1.0, (0.0, 1.0))


def _chandrasekhar(n: int = 5) -> SystemCase:
    x = _unknowns(n)
    mu = [sp.Rational(i + 1, n) for i in range(n)]
    residuals = tuple(
        x[i] - 1 / (1 - Q * sp.Add(*(mu[i] * x[j] / (mu[i] + mu[j]) for j in range(n))) / (2 * n))
        for i in range(n)
    )
    return SystemCase("chandrasekhar", residuals, x, (1.0,) * n, 0.9, None)


def system_cases() -> list[SystemCase]:
    """The external systems."""
    builders = (
        _rosenbrock, _powell_singular, _powell_badly_scaled, _wood, _helical_valley,
        _watson, _chebyquad, _brown_almost_linear, _discrete_boundary_value,
        _discrete_integral_equation, _trigonometric, _variably_dimensioned,
        _broyden_tridiagonal, _broyden_banded, _hammarling_2x2, _hammarling_3x3,
        _dennis_schnabel, _sample_18, _sample_19, _scalar_20, _freudenstein_roth, _boggs,
        _chandrasekhar,
    )  # fmt: skip
    return [build() for build in builders]


def numeric(case: SystemCase) -> Callable[[np.ndarray], np.ndarray]:
    """``F(x) -> residuals`` at the library's value of ``q``, for SciPy."""
    residuals = [r.subs(Q, case.value) for r in case.residuals]
    function = sp.lambdify([case.unknowns], residuals, modules="numpy")
    return lambda x: np.array(function(x), dtype=float)


def numeric_with_jacobian(case: SystemCase) -> Callable[[np.ndarray], tuple]:
    """``F(x) -> (residuals, Jacobian)`` at the library's value of ``q``, for MINPACK's
    hybrj (``scipy.optimize.root(..., jac=True, method="hybr")``); the derivative of a
    ``Piecewise`` jump (SymPy's ``DiracDelta``) is taken as 0."""
    residuals = [r.subs(Q, case.value) for r in case.residuals]
    jacobian = sp.Matrix(residuals).jacobian(case.unknowns).replace(sp.DiracDelta, lambda *_: 0)
    function = sp.lambdify([case.unknowns], [residuals, jacobian], modules="numpy")

    def both(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        values, matrix = function(x)
        return np.array(values, dtype=float), np.array(matrix, dtype=float)

    return both


def scaled_start(case: SystemCase, factor: float) -> tuple[float, ...]:
    """MINPACK's starts for its test problems: the library's start times ``factor``,
    or, for a farther start (``factor`` > 1) where the start is 0, ``factor`` for every
    unknown (More, Garbow and Hillstrom, "Testing unconstrained optimization software",
    1981)."""
    if factor == 1 or any(case.start):
        return tuple(factor * s for s in case.start)
    return (float(factor),) * len(case.start)
