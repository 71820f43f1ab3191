"""Textbook implicit equations over their whole ranges, beside ``scipy.optimize.brentq``
(or NumPy's cubic roots) in the same run:

- engineering's Colebrook-White friction factor of turbulent pipe flow,
  ``1/sqrt(f) = -2 log10(eps/(3.7 D) + 2.51/(Re sqrt(f)))``: the Darcy friction factor
  ``f`` of a pipe of relative roughness ``eps/D`` at Reynolds number ``Re``, over the
  Moody chart;
- finance's implied volatility of a call, out of the money as far as the price keeps
  digits (:mod:`black_scholes`);
- chemistry's pH of phosphoric acid titrated with a strong base, from 1e-10 to 1 mol/L:
  a charge balance whose root, ``[H+]``, spans twelve orders of magnitude;
- thermodynamics' Peng-Robinson equation of state of carbon dioxide: the molar volume
  at a temperature and pressure, from a tenth of a millibar to ten times the critical
  pressure, with one or three roots;
- pharmacokinetics' first-order absorption, ``1 - exp(-k t) = c``: the time by which a
  fraction ``c`` of a dose is absorbed, from 1e-300 to nearly all of it;
- astronomy's brightness temperature, Planck's law solved for the temperature, into
  the Rayleigh-Jeans regime where ``exp(h nu / k T) - 1`` is 1e-12;
- finance's compound annual growth rate, ``(1 + r)**n - 1 = g``, for total growths
  down to 1e-300.

The last three are written with ``exp(z) - 1`` or ``(1 + r)**n - 1``, whose small values
keep their digits only as ``expm1``; their references are closed forms in ``numpy.log1p``.
"""

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
import sympy as sp
from scipy import optimize

from black_scholes import black_scholes, black_scholes_op
from implicitop import SolveStatus, make_implicit_op
from textbook import (
    BOLTZMANN,
    P_CRITICAL,
    PLANCK,
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

F, RE, ROUGHNESS = sp.symbols("f Re roughness", positive=True)


def colebrook(f, reynolds, roughness):
    return 1 / np.sqrt(f) + 2 * np.log10(roughness / 3.7 + 2.51 / (reynolds * np.sqrt(f)))


def brent_friction(reynolds, roughness):
    return optimize.brentq(
        colebrook, 1e-6, 1.0, args=(reynolds, roughness), xtol=1e-300, rtol=8.9e-16
    )


@pytest.fixture(scope="module")
def op():
    residual = 1 / sp.sqrt(F) + 2 * sp.log(ROUGHNESS / 3.7 + 2.51 / (RE * sp.sqrt(F)), 10)
    return make_implicit_op(residual, F, [RE, ROUGHNESS])


def test_friction_factors_over_the_moody_chart_are_brentqs(op):
    rng = np.random.default_rng(3)
    reynolds = 10 ** rng.uniform(np.log10(2300), 8, 2000)
    roughness = 10 ** rng.uniform(-9, np.log10(0.05), 2000)
    result = op.solve(reynolds, roughness)
    assert (result.status == SolveStatus.CONVERGED).all()
    expected = [brent_friction(r, e) for r, e in zip(reynolds, roughness, strict=True)]
    np.testing.assert_allclose(result.root, expected, rtol=2e-15)
    assert np.all((0.005 < result.root) & (result.root < 0.075))  # the Moody chart's span


def test_the_limits_of_the_moody_chart(op):
    """A smooth pipe at Re = 1e5 reads f = 0.0180 off the chart; a fully rough pipe
    follows von Karman's law 1/sqrt(f) = -2 log10(eps/(3.7 D)) as Re grows."""
    smooth, rough = op.solve(np.array([1e5, 1e9]), np.array([1e-12, 0.01])).root
    assert smooth == pytest.approx(0.0180, rel=5e-3)
    assert rough == pytest.approx((2 * np.log10(3.7 / 0.01)) ** -2, rel=1e-5)


def test_the_gradient_matches_differences_of_brentqs_roots(op):
    reynolds, roughness = pt.dvector("Re"), pt.dvector("roughness")
    friction = op(reynolds, roughness).sum()
    gradient = pytensor.function(
        [reynolds, roughness], pytensor.grad(friction, [reynolds, roughness])
    )
    points = np.array([[4e3, 1e-6], [1e5, 1e-4], [1e7, 1e-3], [5e7, 0.02]])
    by_re, by_roughness = gradient(points[:, 0], points[:, 1])
    for (re, eps), d_re, d_eps in zip(points, by_re, by_roughness, strict=True):
        h_re, h_eps = 1e-5 * re, 1e-5 * eps
        expected_re = (brent_friction(re + h_re, eps) - brent_friction(re - h_re, eps)) / (2 * h_re)
        expected_eps = (brent_friction(re, eps + h_eps) - brent_friction(re, eps - h_eps)) / (
            2 * h_eps
        )
        assert d_re == pytest.approx(expected_re, rel=1e-6)
        assert d_eps == pytest.approx(expected_eps, rel=1e-6)


def test_deep_out_of_the_money_implied_volatilities_are_brentqs():
    """Calls priced at 1e-300 to 1e-3 of the spot, with the normal CDF written
    ``(1 + erf(z))/2``: every volatility is solved, and is Brent's root of the price
    from ``scipy.stats.norm`` to 1e-11. As written, the sum loses every digit where
    ``erf(z)`` is near -1; the printed code computes it as ``erfc(-z)``
    (:mod:`implicitop._cancellation`). Before, 1,234 of these 2,137 prices had no root, and
    one, priced at 3.3e-13, came back 1% off at a point of the scan's grid (10^-1.5)
    whose residual was under its noise bound (``scalar.refine``)."""
    op = black_scholes_op()
    rng = np.random.default_rng(5)
    spot, rate = 100.0, 0.02
    strikes = np.append(rng.uniform(105, 175, 3000), 111.17)
    taus = np.append(10 ** rng.uniform(-2, -0.3, 3000), 0.209)
    sigmas = np.append(10 ** rng.uniform(-1.7, -0.2, 3000), 0.0319)
    price, _, _ = black_scholes(sigmas, spot, strikes, rate, taus)
    kept = (price > 1e-300) & (price < 0.1)
    result = op.solve(price[kept], spot, strikes[kept], rate, taus[kept])
    assert kept.sum() >= 2000 and kept[-1]  # the case once 1% off is the last
    assert (result.status == SolveStatus.CONVERGED).all()

    def priced(sigma, c, k, t):
        return black_scholes(sigma, spot, k, rate, t)[0] - c

    for root, c, k, t in zip(
        result.root, price[kept], strikes[kept], taus[kept], strict=True
    ):  # fmt: skip
        brent = optimize.brentq(priced, 1e-3, 5.0, args=(c, k, t), xtol=1e-300, rtol=8.9e-16)
        assert root == pytest.approx(brent, rel=1e-11)
    assert result.root[-1] == pytest.approx(0.0319, rel=1e-11)


def test_an_implied_volatility_written_with_erfc_keeps_its_digits():
    """Written with ``erfc(-d/sqrt 2)`` (unevaluated: SymPy would make it ``2 - erfc``),
    a call far out of the money, priced at 1e-150 to 1e-13, keeps its digits: every
    volatility is solved, as Brent's method solves it in the same residual. The
    solver's code was printed from SymPy's ``2 - erfc`` (rebuilt by ``cse``), which
    rounds such prices to 0: 606 of 4,000 prices then had no root where Brent's method
    found one within 1e-6."""
    op = black_scholes_op("erfc")
    sigma = op.problem.unknowns[0]
    residual = sp.lambdify((sigma, *op.params), op.problem.residuals[0], "scipy")
    spot, rate = 100.0, 0.02
    strikes, taus = (
        np.array([126.351, 146.332, 164.919, 130.47]),
        np.array([0.1835, 0.1268, 0.3162, 0.0516]),
    )
    sigmas = np.array([0.0209, 0.0941, 0.0489, 0.1637])
    price, _, _ = black_scholes(sigmas, spot, strikes, rate, taus)
    assert (price < 1e-12).all() and (price > 1e-150).all()
    result = op.solve(price, spot, strikes, rate, taus)
    assert (result.status == SolveStatus.CONVERGED).all()
    for root, c, k, t, s in zip(result.root, price, strikes, taus, sigmas, strict=True):
        brent = optimize.brentq(residual, 1e-3, 5.0, args=(c, spot, k, rate, t), xtol=1e-300)
        assert root == pytest.approx(brent, rel=1e-9)
        assert root == pytest.approx(s, rel=1e-9)


def test_the_ph_of_titrated_phosphoric_acid_is_brentqs():
    op = phosphoric_acid_op()
    rng = np.random.default_rng(0)
    acid = 10 ** rng.uniform(-10, 0, 2000)
    base = acid * rng.uniform(0, 3.5, 2000)  # 0 to 3.5 equivalents of NaOH
    result = op.solve(acid, base)
    assert (result.status == SolveStatus.CONVERGED).all()
    expected = [
        optimize.brentq(charge_balance, 1e-16, 10.0, args=(c, b), xtol=1e-300, rtol=8.9e-16)
        for c, b in zip(acid, base, strict=True)
    ]
    np.testing.assert_allclose(result.root, expected, rtol=1e-12)
    ph = -np.log10(result.root)
    assert ph.min() < 1.5 and ph.max() > 13.0


def test_peng_robinson_volumes_are_roots_of_the_cubic():
    op = peng_robinson_op()
    rng = np.random.default_rng(1)
    temperatures = T_CRITICAL * rng.uniform(0.7, 3.0, 2000)
    pressures = P_CRITICAL * 10 ** rng.uniform(-4, 1, 2000)
    result = op.solve(temperatures, pressures)
    assert (result.status == SolveStatus.CONVERGED).all()
    three = 0
    for root, t_value, p_value in zip(result.root, temperatures, pressures, strict=True):
        roots = peng_robinson_roots(t_value, p_value)
        three += roots.size == 3
        # one of the cubic's roots (the gas's, the liquid's or the unstable one between)
        assert np.min(np.abs(root / roots - 1)) <= 1e-9
    assert three >= 50  # two-phase states, where the start picks the root


def absorbed_times(op, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Rates 1e-3 to 1e3, fractions 1e-300 to 0.1 (the first 1,000) and 0.1 to 0.999,
    the op's times (every one converged) and ``dt/dc`` through its gradient."""
    rng = np.random.default_rng(seed)
    rates = 10 ** rng.uniform(-3, 3, 2000)
    fractions = np.concatenate([10 ** rng.uniform(-300, -1, 1000), rng.uniform(0.1, 0.999, 1000)])
    result = op.solve(rates, fractions)
    assert (result.status == SolveStatus.CONVERGED).all()
    k, c = pt.dvector("k"), pt.dvector("c")
    times = op(k, c)
    slope = pytensor.function([k, c], pytensor.grad(times.sum(), c))(rates, fractions)
    return rates, fractions, result.root, slope


def test_first_order_absorption_times_keep_every_digit_of_a_small_fraction():
    # 1 - exp(-k t) loses the digits of a small fraction absorbed unless it is
    # computed as -expm1(-k t): the times came out up to 1e-4 off
    rates, fractions, times, slope = absorbed_times(absorption_op(), 2)
    expected = absorption_time(rates, fractions)
    np.testing.assert_allclose(times[:1000], expected[:1000], rtol=1e-15)
    # near c = 1 the time is ill-conditioned in c: a condition number up to 145
    np.testing.assert_allclose(times[1000:], expected[1000:], rtol=1e-13)
    # dt/dc = 1 / (k (1 - c)) (as exp(k t)/k: near c = 1 the time's rounding, times
    # k t up to 7, is the slope's)
    np.testing.assert_allclose(slope, 1 / (rates * (1 - fractions)), rtol=1e-13)


def test_first_order_absorption_times_in_log_form_from_1e_300_to_nearly_all():
    # log(1 - exp(-k t)) as written is -inf where k t is below 1e-16 (no root: every
    # fraction up to 1e-10 failed) and loses the digits of a small k t above it (times
    # 4e-12 off at c = 1e-5, called converged); computed as log(-expm1(-k t)) there and
    # as log1p(-exp(-k t)) for k t above log 2, it keeps them
    rates, fractions, times, slope = absorbed_times(log_absorption_op(), 4)
    error = np.abs(times / absorption_time(rates, fractions) - 1)
    # a residual of log(c) is rounded to eps |log c|: so is the time, relative to it
    assert (error <= 4 * np.finfo(float).eps * (1 + np.abs(np.log(fractions)))).all()
    # near c = 1 the time's condition number in c is up to 145 (as in the plain form)
    assert (error[1000:] <= 1e-13).all()
    np.testing.assert_allclose(slope, 1 / (rates * (1 - fractions)), rtol=1e-12)


def test_catenary_parameters_of_taut_and_slack_cables():
    # cosh(L/2a) - 1 as written keeps only the digits of L/2a beyond one: for sags below
    # about 1e-4 of the span the roots were up to 2% off and called converged, or had
    # no root; computed as 2 sinh(L/4a)^2 every digit stays
    rng = np.random.default_rng(5)
    spans = 10 ** rng.uniform(0, 3, 150)
    sags = spans * 10 ** rng.uniform(-12, 0.5, 150)
    op = catenary_op()
    result = op.solve(spans, sags)
    assert (result.status == SolveStatus.CONVERGED).all()
    expected = np.array([catenary_parameter(L, s) for L, s in zip(spans, sags, strict=True)])
    np.testing.assert_allclose(result.root, expected[:, 0], rtol=1e-14)
    span, sag = pt.dvector("L"), pt.dvector("s")
    parameters = op(span, sag)
    slope = pytensor.function([span, sag], pytensor.grad(parameters.sum(), sag))(spans, sags)
    np.testing.assert_allclose(slope, expected[:, 1], rtol=1e-12)


def test_times_an_oral_dose_first_reaches_a_level_from_1e_14_of_its_peak():
    # exp(-k_e t) - exp(-k_a t) as written keeps only the digits of (k_a - k_e) t
    # beyond one: 134 of 300 times were up to 0.4% off and called converged, 111 had no
    # root; as exp of the larger exponent times expm1 of the difference, every digit
    rng = np.random.default_rng(6)
    eliminations = 10 ** rng.uniform(-2, 0, 200)
    absorptions = eliminations * 10 ** rng.uniform(0.05, 2, 200)
    peaks = np.log(absorptions / eliminations) / (absorptions - eliminations)
    highest = np.exp(-eliminations * peaks) - np.exp(-absorptions * peaks)
    levels = highest * 10 ** rng.uniform(-14, -0.01, 200)
    result = bateman_op().solve(absorptions, eliminations, levels)
    assert (result.status == SolveStatus.CONVERGED).all()
    cases = zip(absorptions, eliminations, levels, strict=True)
    np.testing.assert_allclose(result.root, [bateman_time(*case) for case in cases], rtol=2e-15)


def test_brightness_temperatures_into_the_rayleigh_jeans_regime():
    """Planck's law solved for the temperature from the radiance, from the Wien regime
    (``h nu / k T`` up to 30) to 1e-12, where ``exp(h nu / k T) - 1`` keeps its digits
    only as ``expm1`` and the closed form needs ``log1p``."""
    rng = np.random.default_rng(3)
    frequencies = 10 ** rng.uniform(6, 15, 2000)  # 1 MHz to the ultraviolet
    hnu_over_kt = 10 ** rng.uniform(-12, np.log10(30), 2000)
    temperatures = PLANCK * frequencies / (BOLTZMANN * hnu_over_kt)
    radiances = radiance(temperatures, frequencies)
    result = brightness_op().solve(radiances, frequencies)
    assert (result.status == SolveStatus.CONVERGED).all()
    np.testing.assert_allclose(
        result.root, brightness_temperature(radiances, frequencies), rtol=1e-14
    )
    np.testing.assert_allclose(result.root, temperatures, rtol=1e-13)


@pytest.mark.parametrize(
    ("rate", "years"),
    [
        sp.symbols("r n", positive=True),
        (sp.Symbol("r", real=True), sp.Symbol("n", positive=True, integer=True)),
    ],
    ids=["r positive", "r real, n an integer"],
)
def test_compound_annual_growth_rates_of_small_growths(rate, years):
    # (1 + r)**n - 1 keeps only the digits of n*r beyond one: the rate came out 8e-4 off
    # for a growth of 1e-12 over 360 periods, with CONVERGED; with r real and n an
    # integer (1 + r may be negative, so not expm1(n*log1p(r)) everywhere), 1,977 of
    # these 2,000 rates were called converged and were up to 78 times the rate
    growth = sp.Symbol("g", positive=True)
    op = make_implicit_op((1 + rate) ** years - 1 - growth, rate, [years, growth])
    rng = np.random.default_rng(5)
    periods = rng.integers(1, 400, 2000).astype(float)
    growths = 10 ** rng.uniform(-300, 1, 2000)
    result = op.solve(periods, growths)
    assert (result.status == SolveStatus.CONVERGED).all()
    np.testing.assert_allclose(result.root, np.expm1(np.log1p(growths) / periods), rtol=1e-15)
