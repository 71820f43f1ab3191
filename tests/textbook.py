"""Textbook implicit equations, for the tests and the external sets' benchmark: the pH
of phosphoric acid titrated with a strong base (chemistry), the Peng-Robinson equation
of state of carbon dioxide (thermodynamics), and two written with ``exp(z) - 1``: the
time by which a fraction of a dose is absorbed (pharmacokinetics) and the brightness
temperature of a radiance (astronomy, Planck's law); the first in log form too, with
``log(1 - exp(-k t))``; one with ``cosh(z) - 1``: the parameter of a hanging cable's
catenary from its span and sag (engineering); and one with ``exp(x) - exp(y)``: the
time at which an oral dose's concentration first reaches a level (Bateman's function,
pharmacokinetics)."""

import mpmath
import numpy as np
import sympy as sp

from implicitop import ImplicitOp, make_implicit_op

K1, K2, K3, KW = 7.1e-3, 6.3e-8, 4.5e-13, 1.0e-14  # phosphoric acid and water at 25 C
H = sp.Symbol("h", positive=True)
ACID, BASE = sp.symbols("c b", nonnegative=True)


def charge_balance(h, acid, base):
    """``[H+] + [Na+] - [OH-] - [H2PO4-] - 2[HPO4 2-] - 3[PO4 3-]`` (mol/L)."""
    bound = (K1 * h**2 + 2 * K1 * K2 * h + 3 * K1 * K2 * K3) / (
        h**3 + K1 * h**2 + K1 * K2 * h + K1 * K2 * K3
    )
    return h + base - KW / h - acid * bound


def phosphoric_acid_op() -> ImplicitOp:
    """``[H+]`` (mol/L) of phosphoric acid at ``c`` mol/L with ``b`` mol/L of NaOH."""
    return make_implicit_op(charge_balance(H, ACID, BASE), H, [ACID, BASE])


R_GAS, T_CRITICAL, P_CRITICAL, OMEGA = 8.314462618, 304.13, 7.3773e6, 0.22394  # CO2
A_PR = 0.45724 * R_GAS**2 * T_CRITICAL**2 / P_CRITICAL
B_PR = 0.07780 * R_GAS * T_CRITICAL / P_CRITICAL
KAPPA = 0.37464 + 1.54226 * OMEGA - 0.26992 * OMEGA**2


def peng_robinson_roots(t, p):
    """Every molar volume above the co-volume b at which the Peng-Robinson pressure is
    ``p``: the real roots of its cubic, from NumPy."""
    attraction = A_PR * (1 + KAPPA * (1 - np.sqrt(t / T_CRITICAL))) ** 2
    quadratic, linear = np.array([1, 2 * B_PR, -(B_PR**2)]), np.array([1, -B_PR])
    cubic = np.polyadd(np.polysub(p * np.polymul(linear, quadratic), R_GAS * t * quadratic),
                       attraction * linear)  # fmt: skip
    roots = np.roots(cubic)
    real = roots[np.abs(roots.imag) <= 1e-9 * np.abs(roots.real)].real
    return np.sort(real[real > B_PR])


def peng_robinson_op() -> ImplicitOp:
    """The molar volume V (m^3/mol) of carbon dioxide at temperature T (K) and pressure
    P (Pa), started from the ideal gas's ``R T / P``."""
    volume = sp.Symbol("V", positive=True)
    t, p = sp.symbols("T P", positive=True)
    attraction = A_PR * (1 + KAPPA * (1 - sp.sqrt(t / T_CRITICAL))) ** 2
    pressure = R_GAS * t / (volume - B_PR) - attraction / (volume**2 + 2 * B_PR * volume - B_PR**2)
    return make_implicit_op(pressure - p, volume, [t, p], x0=R_GAS * t / p)


RATE_K, FRACTION, TIME = sp.symbols("k c t", positive=True)


def absorption_op() -> ImplicitOp:
    """The time ``t`` by which first-order absorption at rate ``k`` has taken up the
    fraction ``c`` of a dose: ``1 - exp(-k t) = c``."""
    return make_implicit_op(1 - sp.exp(-RATE_K * TIME) - FRACTION, TIME, [RATE_K, FRACTION])


def log_absorption_op() -> ImplicitOp:
    """:func:`absorption_op` in log form, ``log(1 - exp(-k t)) = log(c)``: for fractions
    too small for their ratio to one to be written (or a log-likelihood's own form)."""
    return make_implicit_op(
        sp.log(1 - sp.exp(-RATE_K * TIME)) - sp.log(FRACTION), TIME, [RATE_K, FRACTION]
    )


def absorption_time(k, c):
    """:func:`absorption_op`'s root in closed form."""
    return -np.log1p(-c) / k


PLANCK, BOLTZMANN, LIGHT = 6.62607015e-34, 1.380649e-23, 299792458.0
TEMPERATURE, RADIANCE, FREQUENCY = sp.symbols("T I nu", positive=True)


def radiance(temperature, frequency):
    """Planck's law: the spectral radiance of a black body (W sr^-1 m^-2 Hz^-1)."""
    return (
        2
        * PLANCK
        * frequency**3
        / LIGHT**2
        / np.expm1(PLANCK * frequency / (BOLTZMANN * temperature))
    )


def brightness_op() -> ImplicitOp:
    """The temperature ``T`` of a black body whose radiance at frequency ``nu`` is
    ``I``: Planck's law written ``I (exp(h nu / k T) - 1) = 2 h nu^3 / c^2``."""
    ratio = sp.Float(PLANCK / BOLTZMANN) * FREQUENCY / TEMPERATURE
    scale = sp.Float(2 * PLANCK / LIGHT**2) * FREQUENCY**3
    return make_implicit_op(
        RADIANCE * (sp.exp(ratio) - 1) - scale, TEMPERATURE, [RADIANCE, FREQUENCY]
    )


def brightness_temperature(intensity, frequency):
    """:func:`brightness_op`'s root in closed form."""
    quantum = PLANCK * frequency / BOLTZMANN
    return quantum / np.log1p(2 * PLANCK * frequency**3 / (LIGHT**2 * intensity))


SPAN, SAG, CATENARY = sp.symbols("L s a", positive=True)


def catenary_op() -> ImplicitOp:
    """The parameter ``a`` of the catenary ``y = a cosh(x/a)`` of a cable hung between
    two supports at one height ``L`` apart that sags ``s`` at its middle:
    ``a (cosh(L / 2a) - 1) = s``. A taut cable (``s`` small against ``L``) has a large
    ``a``, where ``cosh(L / 2a) - 1`` keeps only the digits of ``L / 2a`` beyond one."""
    return make_implicit_op(
        CATENARY * (sp.cosh(SPAN / (2 * CATENARY)) - 1) - SAG, CATENARY, [SPAN, SAG]
    )


def catenary_parameter(span: float, sag: float) -> tuple[float, float]:
    """:func:`catenary_op`'s root and its derivative in the sag, ``1 / (cosh(u) - 1 -
    u sinh(u))`` with ``u = L / 2a``, from 60 digits of mpmath: ``u`` by bisection on
    ``(cosh(u) - 1) / 2u = s / L``, which rises from 0 with ``u``."""
    with mpmath.workdps(60):
        ratio = mpmath.mpf(sag) / mpmath.mpf(span)
        low, high = mpmath.mpf("1e-30"), mpmath.mpf(800)
        for _ in range(400):
            middle = mpmath.sqrt(low * high) if high > 4 * low else (low + high) / 2
            if (mpmath.cosh(middle) - 1) / (2 * middle) > ratio:
                high = middle
            else:
                low = middle
        u = (low + high) / 2
        slope = 1 / (mpmath.cosh(u) - 1 - u * mpmath.sinh(u))
        return float(mpmath.mpf(span) / (2 * u)), float(slope)


ABSORPTION, ELIMINATION, LEVEL = sp.symbols("k_a k_e q", positive=True)


def bateman_op() -> ImplicitOp:
    """The time ``t`` at which the concentration of an oral dose absorbed at rate
    ``k_a`` and eliminated at rate ``k_e`` first reaches the level ``q`` (in units of
    ``D k_a / V (k_a - k_e)``): ``exp(-k_e t) - exp(-k_a t) = q``, bracketed by 0 and
    the peak's time ``log(k_a / k_e) / (k_a - k_e)``. Early on the two exponentials
    cancel."""
    peak = sp.log(ABSORPTION / ELIMINATION) / (ABSORPTION - ELIMINATION)
    residual = sp.exp(-ELIMINATION * TIME) - sp.exp(-ABSORPTION * TIME) - LEVEL
    return make_implicit_op(residual, TIME, [ABSORPTION, ELIMINATION, LEVEL], bracket=(0, peak))


def bateman_time(absorption: float, elimination: float, level: float) -> float:
    """:func:`bateman_op`'s root by bisection in 60 digits of mpmath (the concentration
    rises from 0 to its peak)."""
    with mpmath.workdps(60):
        a, e, q = (mpmath.mpf(value) for value in (absorption, elimination, level))
        low, high = mpmath.mpf(0), mpmath.log(a / e) / (a - e)
        for _ in range(300):
            middle = (low + high) / 2
            if mpmath.exp(-e * middle) - mpmath.exp(-a * middle) > q:
                high = middle
            else:
                low = middle
        return float((low + high) / 2)
