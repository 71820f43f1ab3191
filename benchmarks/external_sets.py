"""Solved / total on test sets nobody here wrote, beside SciPy's solver in the same run.

- SciPy's 45 Chandrupatla cases (``scipy.optimize._tstutils``): implicitop from each
  bracket beside ``scipy.optimize.brentq`` (default tolerances, maxiter 500); solved
  means converged and within 1e-10 (relative, absolute near 0) of the known root.
- Alefeld, Potra and Shi's 154 cases (the same module): from each bracket beside
  ``brentq``, and from each start beside ``scipy.optimize.newton`` with the analytic
  derivative (SciPy's ``fprime``); solved means as above (brentq, for aps13, stops on
  the plateau where the function underflows to 0, near but not at the root 0).
- The 23 More-Garbow-Hillstrom / MINPACK systems as NonlinearProblemLibrary.jl defines
  them (``tests/external_systems.py``), from the library's start and from ten and a
  hundred times it (MINPACK's own tests), beside ``scipy.optimize.root(method="hybr")``
  without the Jacobian (MINPACK's hybrd) and with it (hybrj); solved means converged
  (SciPy's success flag) with every residual below 1e-8, and SciPy solved means
  either of the two did.
- Textbook models (``tests/black_scholes.py``, ``tests/textbook.py``):
  - implied volatilities of calls priced by ``scipy.stats.norm`` (strikes 0.5 to 1.75
    times the spot, 0.01 to 3 years, volatilities 0.02 to 1.5), from the residual with
    ``(1 + erf(z/sqrt 2))/2``, beside ``brentq`` on that residual. The cases are the
    prices that pin the volatility to 1% (eight ulps of the spot over vega, what the
    price's rounding leaves, is below 1% of it); solved means within that or 1e-10 of
    the volatility;
  - the same far out of the money (strikes 1.05 to 1.75 times the spot, 0.01 to 0.5
    years, volatilities 0.02 to 0.63, every price from 1e-300 to 1e-3 of the spot),
    solved meaning within 1e-9 of the volatility;
  - the pH of phosphoric acid at 1e-10 to 1 mol/L titrated with 0 to 3.5 equivalents
    of NaOH, beside ``brentq`` on ``[1e-16, 10]``; solved means within 1e-10 of
    mpmath's root, or within the residual's rounding of it (eight ulps of the charge
    balance's largest term over its slope);
  - the Peng-Robinson volume of carbon dioxide at 0.7 to 3 times the critical
    temperature and 1e-4 to 10 times the critical pressure, beside ``newton`` with the
    analytic derivative and a relative tolerance of 1e-12 (its default, 1.48e-8, is
    absolute), both from the ideal gas; solved means within 1e-9 of a real
    root of the cubic (NumPy's ``roots``) above the co-volume;
  - two residuals written with ``exp(z) - 1``: the time by which first-order
    absorption (rates 1e-3 to 1e3) takes up a fraction 1e-300 to 0.1 of a dose (and
    the same in log form, ``log(1 - exp(-k t)) = log(c)``, solved within 4 eps times
    ``1 + |log c|``, the rounding of its residual), and
    the brightness temperature of a black body's radiance at 1 MHz to 1e15 Hz with
    ``h nu / k T`` from 1e-12 to 30, beside ``brentq`` on the residual as written in a
    bracket of half to twice the root; solved means within 1e-13 (relative) of the
    closed form in ``numpy.log1p``;
  - compound annual growth rates, ``(1 + r)**n - 1 = g`` for 1 to 400 periods and total
    growths 1e-300 to 10, beside ``brentq`` on the residual as written in a bracket of
    half to twice the rate, solved as above;
  - the catenary parameter of a cable from its span (1 to 1,000) and sag (1e-12 to 3
    times the span), ``a (cosh(L / 2a) - 1) = s``, and the time at which an oral dose's
    concentration first reaches a level 1e-14 to nearly 1 of its peak, ``exp(-k_e t) -
    exp(-k_a t) = q``, against 60 digits of mpmath, solved as above.

Run: ``.venv/bin/python benchmarks/external_sets.py`` (compiles one kernel per function:
minutes on a cold cache).
"""

import sys
import warnings
from collections.abc import Callable
from pathlib import Path

import mpmath
import numpy as np
import sympy as sp
from scipy import optimize

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from black_scholes import black_scholes, black_scholes_op
from external_scalar import C, X, aps_families, chandrupatla_cases
from external_systems import Q, numeric, numeric_with_jacobian, scaled_start, system_cases
from implicitop import SolveStatus, make_implicit_op
from textbook import (
    B_PR,
    BOLTZMANN,
    KW,
    P_CRITICAL,
    PLANCK,
    R_GAS,
    T_CRITICAL,
    absorption_op,
    absorption_time,
    bateman_op,
    bateman_time,
    brightness_op,
    brightness_temperature,
    catenary_op,
    catenary_parameter,
    charge_balance,
    log_absorption_op,
    peng_robinson_op,
    peng_robinson_roots,
    phosphoric_acid_op,
    radiance,
)

Row = tuple[str, bool, bool]


def near(value: float, root: float, tolerance: float = 1e-10) -> bool:
    return abs(value - root) <= tolerance * max(abs(root), 1.0)


def scipy_root(finder: Callable[..., float], *args: object, **options: object) -> float:
    """``finder(*args, **options)``, NaN where it raises (no convergence)."""
    try:
        return float(finder(*args, **options))
    except (RuntimeError, ValueError, ZeroDivisionError, OverflowError):
        return float("nan")


def scalar_rows() -> list[Row]:
    rows = []
    for case in chandrupatla_cases():
        result = make_implicit_op(case.expression, X, C, bracket=case.bracket).solve(0.0)
        ours = result.status == SolveStatus.CONVERGED and near(float(result.root), case.root)
        brent = scipy_root(optimize.brentq, case.function, *case.bracket, maxiter=500)
        rows.append((case.case_id, bool(ours), near(brent, case.root)))
    return rows


def aps_rows(start: str) -> list[Row]:
    """The APS cases from their brackets (``start="bracket"``) or their starts."""
    rows = []
    for family in aps_families():
        derivative = getattr(optimize._tstutils, family.name.replace("_f", "_fp"))
        for case in family.cases:
            options = {"bracket": case.bracket} if start == "bracket" else {"x0": case.x0}
            op = make_implicit_op(family.expression, X, family.params, **options)
            result = op.solve(0.0, *case.args)
            ours = result.status == SolveStatus.CONVERGED and near(float(result.root), case.root)
            function, args = family.function, case.args
            if start == "bracket":
                theirs = scipy_root(optimize.brentq, function, *case.bracket, args)
            else:
                theirs = scipy_root(optimize.newton, function, case.x0, derivative, args)
            rows.append((case.case_id, bool(ours), near(theirs, case.root)))
    return rows


def system_rows(factor: float) -> list[Row]:
    rows = []
    for case in system_cases():
        function = numeric(case)
        start = scaled_start(case, factor)
        minpack = [
            optimize.root(function, start, method="hybr"),
            optimize.root(numeric_with_jacobian(case), start, jac=True, method="hybr"),
        ]
        theirs = any(
            found.success and np.max(np.abs(function(found.x))) <= 1e-8 for found in minpack
        )
        op = make_implicit_op(list(case.residuals), list(case.unknowns), Q, x0=start)
        result = op.solve(case.value)
        ours = result.status == SolveStatus.CONVERGED
        ours = bool(ours and np.max(np.abs(function(np.atleast_1d(result.root)))) <= 1e-8)
        rows.append((f"{case.name} ({SolveStatus(int(result.status)).name})", ours, theirs))
    return rows


#: Cases of each textbook model.
TEXTBOOK_CASES = 2000
#: The most cases a set lists of those not solved by both.
LISTED = 40


def converged(status: np.ndarray) -> np.ndarray:
    return status == SolveStatus.CONVERGED


#: The spot and the rate of the implied volatilities' calls.
SPOT, RATE = 100.0, 0.02


def volatility_cases(
    seed: int, strikes: tuple[float, float], years: tuple[float, float], volatilities: tuple
) -> tuple[np.ndarray, ...]:
    """Strikes (times the spot), maturities and volatilities drawn (the last two
    log-uniform) in the ranges given, and the calls' prices and vegas from
    ``scipy.stats.norm``."""
    rng = np.random.default_rng(seed)
    strike = SPOT * rng.uniform(*strikes, TEXTBOOK_CASES)
    tau = 10 ** rng.uniform(*np.log10(years), TEXTBOOK_CASES)
    sigma = 10 ** rng.uniform(*np.log10(volatilities), TEXTBOOK_CASES)
    price, _, vega = black_scholes(sigma, SPOT, strike, RATE, tau)
    return strike, tau, sigma, price, vega


def volatility_rows_of(
    strikes: np.ndarray, taus: np.ndarray, sigmas: np.ndarray, prices: np.ndarray,
    allowed: np.ndarray,
) -> list[Row]:  # fmt: skip
    """The implied volatilities of the calls, by implicitop and by ``brentq`` on the
    same residual, each solved where within ``allowed`` of the volatility."""
    op = black_scholes_op()
    residual = sp.lambdify((op.problem.unknowns[0], *op.params), op.problem.residuals[0], "scipy")
    result = op.solve(prices, SPOT, strikes, RATE, taus)
    rows = []
    for i, (price, strike, tau) in enumerate(zip(prices, strikes, taus, strict=True)):
        brent = scipy_root(
            optimize.brentq, residual, 1e-3, 5.0, (price, SPOT, strike, RATE, tau),
            xtol=1e-300, rtol=8.9e-16,
        )  # fmt: skip
        ours = converged(result.status[i]) and abs(result.root[i] - sigmas[i]) <= allowed[i]
        rows.append((f"K={strike:.4g}, tau={tau:.3g}, sigma={sigmas[i]:.3g}", bool(ours),
                     abs(brent - sigmas[i]) <= allowed[i]))  # fmt: skip
    return rows


def volatility_rows() -> list[Row]:
    strikes, taus, sigmas, prices, vegas = volatility_cases(11, (0.5, 1.75), (0.01, 3), (0.02, 1.5))
    with np.errstate(divide="ignore"):
        allowed = np.maximum(1e-10 * sigmas, 8 * np.spacing(SPOT) / vegas)
    pinned = allowed <= 1e-2 * sigmas
    return volatility_rows_of(strikes[pinned], taus[pinned], sigmas[pinned], prices[pinned],
                              allowed[pinned])  # fmt: skip


def far_volatility_rows() -> list[Row]:
    strikes, taus, sigmas, prices, _ = volatility_cases(14, (1.05, 1.75), (0.01, 0.5), (0.02, 0.63))
    far = (prices > 1e-300) & (prices < 1e-3 * SPOT)
    return volatility_rows_of(strikes[far], taus[far], sigmas[far], prices[far],
                              1e-9 * sigmas[far])  # fmt: skip


def exact_ph_root(acid: float, base: float, start: float) -> float:
    """The charge balance's root ``[H+]`` by mpmath (40 digits) in a bracket around
    ``start`` (half to twice it)."""
    mpmath.mp.dps = 40
    c, b, h = mpmath.mpf(acid), mpmath.mpf(base), mpmath.mpf(start)
    found = mpmath.findroot(lambda x: charge_balance(x, c, b), (h / 2, 2 * h), solver="anderson")
    return float(found)


def ph_slope(h: float, acid: float) -> float:
    """``|d(charge balance)/d[H+]|`` at ``h`` (central differences of mpmath's values)."""
    step = mpmath.mpf(h) * mpmath.mpf("1e-20")
    c, h = mpmath.mpf(acid), mpmath.mpf(h)
    change = charge_balance(h + step, c, 0) - charge_balance(h - step, c, 0)
    return float(abs(change / (2 * step)))


def ph_rows() -> list[Row]:
    rng = np.random.default_rng(12)
    acids = 10 ** rng.uniform(-10, 0, TEXTBOOK_CASES)
    bases = acids * rng.uniform(0, 3.5, TEXTBOOK_CASES)
    result = phosphoric_acid_op().solve(acids, bases)
    rows = []
    for i, (acid, base) in enumerate(zip(acids, bases, strict=True)):
        brent = scipy_root(
            optimize.brentq, charge_balance, 1e-16, 10.0, (acid, base), xtol=1e-300, rtol=8.9e-16
        )
        exact = exact_ph_root(acid, base, brent if np.isfinite(brent) else result.root[i])
        rounding = 8 * np.spacing(max(exact, base, KW / exact, acid)) / ph_slope(exact, acid)
        allowed = max(1e-10 * exact, rounding)
        ours = converged(result.status[i]) and abs(result.root[i] - exact) <= allowed
        rows.append((f"c={acid:.3g}, b={base:.3g}", bool(ours), abs(brent - exact) <= allowed))
    return rows


def peng_robinson_rows() -> list[Row]:
    op = peng_robinson_op()
    volume, (t, p) = op.problem.unknowns[0], op.params
    residual = sp.lambdify((volume, t, p), op.problem.residuals[0])
    slope = sp.lambdify((volume, t, p), sp.diff(op.problem.residuals[0], volume))
    rng = np.random.default_rng(13)
    temperatures = T_CRITICAL * rng.uniform(0.7, 3.0, TEXTBOOK_CASES)
    pressures = P_CRITICAL * 10 ** rng.uniform(-4, 1, TEXTBOOK_CASES)
    result = op.solve(temperatures, pressures)

    def a_root(volume: float, roots: np.ndarray) -> bool:
        return bool(volume > B_PR and np.min(np.abs(volume / roots - 1)) <= 1e-9)

    rows = []
    for i, (temperature, pressure) in enumerate(zip(temperatures, pressures, strict=True)):
        roots = peng_robinson_roots(temperature, pressure)
        ideal = R_GAS * temperature / pressure
        theirs = scipy_root(
            optimize.newton, residual, ideal, slope, (temperature, pressure), tol=1e-300, rtol=1e-12
        )
        ours = converged(result.status[i]) and a_root(result.root[i], roots)
        rows.append((f"T={temperature:.4g}, P={pressure:.4g}", bool(ours), a_root(theirs, roots)))
    return rows


def expm1_rows(
    op: object,
    columns: tuple[np.ndarray, ...],
    roots: np.ndarray,
    tolerance: np.ndarray | float = 1e-13,
) -> list[Row]:
    """The roots of ``op``'s residual (written with ``exp(z) - 1``, ``(1 + r)**n - 1``,
    ``log(1 - exp(z))``, ``cosh(z) - 1`` or ``exp(x) - exp(y)``) at the parameter
    ``columns``, by implicitop and by ``brentq`` on the residual as written in a bracket
    of half to twice the reference ``roots``, each solved where within ``tolerance``
    (relative; one per root or for all) of it."""
    problem = op.problem
    residual = sp.lambdify((problem.unknowns[0], *op.params), problem.residuals[0], "numpy")
    result = op.solve(*columns)
    tolerances = np.broadcast_to(tolerance, roots.shape)
    rows = []
    for i, root in enumerate(roots):
        args = tuple(float(column[i]) for column in columns)
        brent = scipy_root(
            optimize.brentq, residual, root / 2, 2 * root, args, xtol=1e-300, rtol=8.9e-16
        )
        within = tolerances[i] * root
        ours = converged(result.status[i]) and abs(result.root[i] - root) <= within
        label = ", ".join(
            f"{name}={value:.4g}" for name, value in zip(op.params, args, strict=True)
        )
        rows.append((label, bool(ours), abs(brent - root) <= within))
    return rows


def absorption_rows() -> list[Row]:
    rng = np.random.default_rng(15)
    rates = 10 ** rng.uniform(-3, 3, TEXTBOOK_CASES)
    fractions = 10 ** rng.uniform(-300, -1, TEXTBOOK_CASES)
    return expm1_rows(absorption_op(), (rates, fractions), absorption_time(rates, fractions))


def log_absorption_rows() -> list[Row]:
    """The absorption times in log form, ``log(1 - exp(-k t)) = log(c)``, within 4 eps
    times ``1 + |log c|`` (the rounding of a residual of size ``|log c|``)."""
    rng = np.random.default_rng(15)
    rates = 10 ** rng.uniform(-3, 3, TEXTBOOK_CASES)
    fractions = 10 ** rng.uniform(-300, -1, TEXTBOOK_CASES)
    tolerance = 4 * np.finfo(float).eps * (1 + np.abs(np.log(fractions)))
    roots = absorption_time(rates, fractions)
    return expm1_rows(log_absorption_op(), (rates, fractions), roots, tolerance)


def catenary_rows() -> list[Row]:
    """Catenary parameters of cables of spans 1 to 1,000 sagging 1e-12 to 3 times
    their span, against 60 digits of mpmath, within 1e-13."""
    rng = np.random.default_rng(18)
    spans = 10 ** rng.uniform(0, 3, TEXTBOOK_CASES)
    sags = spans * 10 ** rng.uniform(-12, 0.5, TEXTBOOK_CASES)
    roots = np.array([catenary_parameter(L, s)[0] for L, s in zip(spans, sags, strict=True)])
    return expm1_rows(catenary_op(), (spans, sags), roots)


def bateman_rows() -> list[Row]:
    """Times an oral dose's concentration first reaches a level 1e-14 to nearly 1 of its
    peak (elimination 1e-2 to 1, absorption 1.1 to 100 times faster), against 60
    digits of mpmath, within 1e-13."""
    rng = np.random.default_rng(19)
    eliminations = 10 ** rng.uniform(-2, 0, TEXTBOOK_CASES)
    absorptions = eliminations * 10 ** rng.uniform(0.05, 2, TEXTBOOK_CASES)
    peaks = np.log(absorptions / eliminations) / (absorptions - eliminations)
    highest = np.exp(-eliminations * peaks) - np.exp(-absorptions * peaks)
    levels = highest * 10 ** rng.uniform(-14, -0.01, TEXTBOOK_CASES)
    columns = (absorptions, eliminations, levels)
    roots = np.array([bateman_time(*case) for case in zip(*columns, strict=True)])
    return expm1_rows(bateman_op(), columns, roots)


def brightness_rows() -> list[Row]:
    rng = np.random.default_rng(16)
    frequencies = 10 ** rng.uniform(6, 15, TEXTBOOK_CASES)
    ratios = 10 ** rng.uniform(-12, np.log10(30), TEXTBOOK_CASES)
    radiances = radiance(PLANCK * frequencies / (BOLTZMANN * ratios), frequencies)
    roots = brightness_temperature(radiances, frequencies)
    return expm1_rows(brightness_op(), (radiances, frequencies), roots)


def growth_rate_rows(rate: sp.Symbol, periods: sp.Symbol) -> list[Row]:
    """Compound annual growth rates, ``(1 + r)**n - 1 = g``, with ``r`` and ``n`` as
    declared (``r`` positive, or ``r`` real and ``n`` an integer: then ``1 + r`` may be
    negative, and the sum is printed in the piecewise form of ``power_minus_one``)."""
    growth = sp.Symbol("g", positive=True)
    op = make_implicit_op((1 + rate) ** periods - 1 - growth, rate, [periods, growth])
    rng = np.random.default_rng(17)
    counts = rng.integers(1, 401, TEXTBOOK_CASES).astype(float)
    growths = 10 ** rng.uniform(-300, 1, TEXTBOOK_CASES)
    return expm1_rows(op, (counts, growths), np.expm1(np.log1p(growths) / counts))


def main() -> None:
    warnings.filterwarnings("ignore")
    sets = [
        ("Chandrupatla (scipy _tstutils)", "brentq", scalar_rows()),
        ("Alefeld-Potra-Shi, from the bracket", "brentq", aps_rows("bracket")),
        ("Alefeld-Potra-Shi, from the start", "newton (fprime)", aps_rows("x0")),
        *(
            (f"More-Garbow-Hillstrom systems, {label}", "root(hybr), hybrd or hybrj",
             system_rows(factor))
            for factor, label in ((1, "the start"), (10, "10 x the start"),
                                  (100, "100 x the start"))
        ),
        ("Implied volatility, (1 + erf)/2 form", "brentq", volatility_rows()),
        ("Implied volatility far out of the money", "brentq", far_volatility_rows()),
        ("pH of titrated phosphoric acid", "brentq", ph_rows()),
        ("Peng-Robinson volume of CO2", "newton (fprime)", peng_robinson_rows()),
        ("First-order absorption time, c 1e-300..0.1", "brentq", absorption_rows()),
        ("The same in log form, log(1 - exp(-k t))", "brentq", log_absorption_rows()),
        ("Brightness temperature, h nu/kT 1e-12..30", "brentq", brightness_rows()),
        ("Catenary parameter, sag/span 1e-12..3", "brentq", catenary_rows()),
        ("Oral dose, time to a level 1e-14..1 of the peak", "brentq", bateman_rows()),
        ("Compound annual growth rate, growth 1e-300..10", "brentq",
         growth_rate_rows(*sp.symbols("r n", positive=True))),
        ("The same, r real and n an integer", "brentq",
         growth_rate_rows(sp.Symbol("r", real=True), sp.Symbol("n", positive=True, integer=True))),
    ]  # fmt: skip
    print("| set | cases | implicitop solved | SciPy | SciPy solved |")
    print("|---|---|---|---|---|")
    for name, solver, rows in sets:
        ours = sum(row[1] for row in rows)
        theirs = sum(row[2] for row in rows)
        print(f"| {name} | {len(rows)} | {ours} | {solver} | {theirs} |")
    for name, _, rows in sets:
        differ = [row for row in rows if not (row[1] and row[2])]
        print(f"\n{name}, cases not solved by both:")
        for case, ours, theirs in differ[:LISTED]:
            print(f"  {case}: implicitop {'solved' if ours else 'not solved'}, "
                  f"SciPy {'solved' if theirs else 'not solved'}")  # fmt: skip
        if len(differ) > LISTED:
            print(f"  ... and {len(differ) - LISTED} more")


if __name__ == "__main__":
    main()
