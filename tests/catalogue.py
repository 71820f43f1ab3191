"""Test problems with answers from sources independent of implicitop.

Each entry builds an op and knows the root and its gradient from closed forms,
``scipy.special`` / ``scipy.stats`` or a bracketing solver from SciPy.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import sympy as sp
from scipy import optimize, special, stats

from implicitop import ImplicitOp, make_argmin_op, make_fixed_point_op, make_implicit_op
from references import seed_derivative, seed_root


@dataclass(frozen=True)
class CatalogueProblem:
    """One implicit function with an independent reference."""

    name: str
    build: Callable[[], ImplicitOp]
    ranges: dict[str, tuple[float, float]]
    root: Callable[..., float]
    gradient: Callable[..., tuple[float, ...]]
    rtol: float = 1e-10
    #: The roots' absolute tolerance: above the tiniest only where a root may be 0 and
    #: the reference computes it as a difference (accurate to its terms' rounding).
    atol: float = 1e-300
    gradient_atol: float = 1e-12  # larger where the reference gradient is numerical
    #: How closely the compiled and the plain-Python solvers agree: to rounding, unless
    #: they call different implementations of a special function.
    plain_rtol: float = 1e-14
    #: Whether PyTensor's JAX backend has every function of the residual (it has no
    #: Bessel function iv without TensorFlow Probability).
    jax: bool = True


def build_seed() -> ImplicitOp:
    mu, theta = sp.symbols("mu theta", positive=True)
    return make_implicit_op(mu + mu * sp.exp(theta * mu) - 1, mu, theta)


def build_lambert() -> ImplicitOp:
    w, x = sp.symbols("w x", positive=True)
    return make_implicit_op(w * sp.exp(w) - x, w, x)


def lambert_gradient(x: float) -> tuple[float]:
    w = special.lambertw(x).real
    return (w / (x * (1 + w)),)


def build_quantile() -> ImplicitOp:
    q = sp.Symbol("q", real=True)
    p = sp.Symbol("p", positive=True)
    return make_implicit_op((1 + sp.erf(q / sp.sqrt(2))) / 2 - p, q, p)


def build_kepler() -> ImplicitOp:
    anomaly, e, mean_anomaly = sp.symbols("E e M", real=True)
    return make_implicit_op(
        anomaly - e * sp.sin(anomaly) - mean_anomaly, anomaly, [e, mean_anomaly]
    )


def kepler_root(e: float, mean_anomaly: float) -> float:
    """Eccentric anomaly by Brent's method: E lies within [M - 1, M + 1] for e < 1."""

    def kepler(anomaly: float) -> float:
        return anomaly - e * np.sin(anomaly) - mean_anomaly

    return optimize.brentq(kepler, mean_anomaly - 1, mean_anomaly + 1, xtol=1e-300, rtol=8.9e-16)


def kepler_gradient(e: float, mean_anomaly: float) -> tuple[float, float]:
    """dE/de = sin E / (1 - e cos E), dE/dM = 1 / (1 - e cos E), by hand."""
    anomaly = kepler_root(e, mean_anomaly)
    denominator = 1 - e * np.cos(anomaly)
    return np.sin(anomaly) / denominator, 1 / denominator


def build_saturation() -> ImplicitOp:
    """A response mu to a dose x that saturates at rate theta: mu = x exp(-theta mu)."""
    mu, theta, x = sp.symbols("mu theta x", positive=True)
    return make_implicit_op(mu - x * sp.exp(-theta * mu), mu, [theta, x])


def saturation_root(theta: float, x: float) -> float:
    """mu = W(theta x) / theta."""
    return special.lambertw(theta * x).real / theta


def saturation_gradient(theta: float, x: float) -> tuple[float, float]:
    """dmu/dtheta = -W^2 / ((1 + W) theta^2), dmu/dx = W / ((1 + W) theta x), by hand."""
    w = special.lambertw(theta * x).real
    return -(w**2) / ((1 + w) * theta**2), w / ((1 + w) * theta * x)


def build_circle_line() -> ImplicitOp:
    """The positive intersection of x**2 + y**2 = r**2 and y = a*x."""
    x, y, r, a = sp.symbols("x y r a", positive=True)
    return make_implicit_op([x**2 + y**2 - r**2, y - a * x], [x, y], [r, a])


def circle_line_root(r: float, a: float) -> np.ndarray:
    """x = r / sqrt(1 + a^2), y = a r / sqrt(1 + a^2)."""
    return np.array([r, a * r]) / np.sqrt(1 + a**2)


def circle_line_gradient(r: float, a: float) -> np.ndarray:
    """[[dx/dr, dx/da], [dy/dr, dy/da]] in closed form."""
    norm = np.sqrt(1 + a**2)
    return np.array([[1 / norm, -r * a / norm**3], [a / norm, r / norm**3]])


def build_equilibrium() -> ImplicitOp:
    """Chemical equilibrium 2A <-> B, A + B <-> C with mass balance A + 2B + 3C = T."""
    a, b, c, k1, k2, total = sp.symbols("a b c K1 K2 T", positive=True)
    residuals = [b - k1 * a**2, c - k2 * a * b, a + 2 * b + 3 * c - total]
    return make_implicit_op(residuals, [a, b, c], [k1, k2, total])


def equilibrium_root(k1: float, k2: float, total: float) -> np.ndarray:
    """Concentrations by scipy.optimize.root (MINPACK hybrd) from the dilute limit."""

    def residuals(u: np.ndarray) -> list[float]:
        a, b, c = u
        return [b - k1 * a**2, c - k2 * a * b, a + 2 * b + 3 * c - total]

    # A alone solves a + 2 K1 a^2 + 3 K1 K2 a^3 = T; start from its positive real root.
    a = max(r.real for r in np.roots([3 * k1 * k2, 2 * k1, 1, -total]) if abs(r.imag) < 1e-9)
    solution = optimize.root(residuals, [a, k1 * a**2, k1 * k2 * a**3], tol=1e-14)
    assert solution.success
    return solution.x


#: The tax schedule: a rate of r1 up to gross income G0, r2 above it.
TAX_THRESHOLD = 50


def net_income_piecewise(gross: sp.Symbol, r1: sp.Symbol, r2: sp.Symbol) -> sp.Expr:
    tax = sp.Piecewise(
        (r1 * gross, gross <= TAX_THRESHOLD),
        (r1 * TAX_THRESHOLD + r2 * (gross - TAX_THRESHOLD), True),
    )
    return gross - tax


def net_income_min_max(gross: sp.Symbol, r1: sp.Symbol, r2: sp.Symbol) -> sp.Expr:
    over = sp.Max(gross - TAX_THRESHOLD, 0)
    return gross - r1 * sp.Min(gross, TAX_THRESHOLD) - r2 * over


def tax_schedule_builder(net_income: Callable[..., sp.Expr]) -> Callable[[], ImplicitOp]:
    """The gross income that leaves net income ``n`` after a two-rate income tax."""

    def build() -> ImplicitOp:
        gross, n, r1, r2 = sp.symbols("g n r1 r2", positive=True)
        return make_implicit_op(net_income(gross, r1, r2) - n, gross, [n, r1, r2])

    return build


def tax_schedule_root(n: float, r1: float, r2: float) -> float:
    """Gross income by hand: below the kink n / (1 - r1), above it the second rate."""
    kink = TAX_THRESHOLD * (1 - r1)
    if n <= kink:
        return n / (1 - r1)
    return TAX_THRESHOLD + (n - kink) / (1 - r2)


def tax_schedule_gradient(n: float, r1: float, r2: float) -> tuple[float, float, float]:
    """(dg/dn, dg/dr1, dg/dr2) by hand, branch by branch."""
    kink = TAX_THRESHOLD * (1 - r1)
    if n <= kink:
        return 1 / (1 - r1), n / (1 - r1) ** 2, 0.0
    return 1 / (1 - r2), TAX_THRESHOLD / (1 - r2), (n - kink) / (1 - r2) ** 2


#: Where the asymmetric response bends (a value no float drawn from a range hits).
BEND = np.pi


def build_asymmetric_response() -> ImplicitOp:
    """x + a |x - pi| = y: a response with different slopes on either side of pi."""
    x, a, y = sp.symbols("x a y", real=True)
    return make_implicit_op(x + a * sp.Abs(x - sp.pi) - y, x, [a, y])


def asymmetric_response_root(a: float, y: float) -> float:
    """x = pi + (y - pi) / (1 + a) above the bend, pi + (y - pi) / (1 - a) below."""
    side = 1.0 if y >= BEND else -1.0
    return BEND + (y - BEND) / (1 + a * side)


def asymmetric_response_gradient(a: float, y: float) -> tuple[float, float]:
    """(dx/da, dx/dy) = (-s (y - pi) / (1 + a s)^2, 1 / (1 + a s)), s the side of pi."""
    side = 1.0 if y >= BEND else -1.0
    return -side * (y - BEND) / (1 + a * side) ** 2, 1 / (1 + a * side)


def build_von_mises_concentration() -> ImplicitOp:
    """The von Mises concentration kappa with mean resultant length I1/I0(kappa) = r."""
    kappa, r = sp.symbols("kappa r", positive=True)
    return make_implicit_op(sp.besseli(1, kappa) / sp.besseli(0, kappa) - r, kappa, r)


def build_trigamma_inverse() -> ImplicitOp:
    """The x > 0 where the trigamma function psi'(x) equals t (a method-of-moments step
    for the beta and gamma distributions)."""
    x, t = sp.symbols("x t", positive=True)
    return make_implicit_op(sp.polygamma(1, x) - t, x, t)


def trigamma_inverse(t: float) -> float:
    """By Brent's method on SciPy's polygamma (trigamma falls from inf to 0 on x > 0)."""
    return optimize.brentq(
        lambda x: special.polygamma(1, x) - t, 1e-8, 1e8, xtol=1e-300, rtol=8.9e-16
    )


def trigamma_inverse_gradient(t: float) -> tuple[float]:
    """dx/dt = 1 / psi''(x)."""
    return (1 / special.polygamma(2, trigamma_inverse(t)),)


def build_gamma_shape() -> ImplicitOp:
    """The maximum-likelihood shape a of a gamma distribution, from
    s = log(mean(x)) - mean(log(x)) > 0: log(a) - psi(a) = s (Minka's fixed point, in
    one call). Its slope is 1/a - psi'(a), the trigamma function."""
    a, s = sp.symbols("a s", positive=True)
    return make_implicit_op(sp.log(a) - sp.digamma(a) - s, a, s)


def gamma_shape(s: float) -> float:
    """By Brent's method on SciPy's digamma (log(a) - psi(a) falls from inf to 0)."""
    return optimize.brentq(
        lambda a: np.log(a) - special.digamma(a) - s,
        1e-12,
        1e12,
        xtol=1e-300,
        rtol=8.9e-16,
        maxiter=1000,
    )


def gamma_shape_gradient(s: float) -> tuple[float]:
    """da/ds = 1 / (1/a - psi'(a))."""
    a = gamma_shape(s)
    return (1 / (1 / a - special.polygamma(1, a)),)


FRESNEL_PEAK = float(np.sqrt(2.0))  # S(x) rises from 0 to its maximum 0.7139 on [0, sqrt 2]


def build_fresnel_inverse() -> ImplicitOp:
    """The x in (0, sqrt 2) where Fresnel's integral S(x) equals t (SciPy has S; numba
    has no compiled one)."""
    x, t = sp.symbols("x t", positive=True)
    return make_implicit_op(sp.fresnels(x) - t, x, t, bracket=(0, FRESNEL_PEAK))


def fresnel_inverse(t: float) -> float:
    """By Brent's method on SciPy's fresnel."""
    return optimize.brentq(
        lambda x: special.fresnel(x)[0] - t, 0, FRESNEL_PEAK, xtol=1e-300, rtol=8.9e-16
    )


def fresnel_inverse_gradient(t: float) -> tuple[float]:
    """dx/dt = 1 / S'(x) = 1 / sin(pi x^2 / 2)."""
    return (1 / np.sin(np.pi * fresnel_inverse(t) ** 2 / 2),)


def von_mises_concentration(r: float) -> float:
    """kappa by Brent's method on the exponentially scaled ratio i1e / i0e."""

    def ratio(kappa: float) -> float:
        return special.i1e(kappa) / special.i0e(kappa) - r

    return optimize.brentq(ratio, 1e-12, 1e4, xtol=1e-300, rtol=8.9e-16)


def von_mises_gradient(r: float) -> tuple[float]:
    """dkappa/dr = 1 / A'(kappa) with A' = 1 - A / kappa - A^2 (a Bessel identity)."""
    kappa = von_mises_concentration(r)
    return (1 / (1 - r / kappa - r**2),)


SYSTEMS: tuple[CatalogueProblem, ...] = (
    CatalogueProblem(
        "circle_line",
        build_circle_line,
        {"r": (1e-3, 1e3), "a": (1e-3, 1e3)},
        circle_line_root,
        circle_line_gradient,
    ),
    CatalogueProblem(
        "equilibrium",
        build_equilibrium,
        {"K1": (0.1, 10.0), "K2": (0.1, 10.0), "T": (0.1, 10.0)},
        equilibrium_root,
        lambda *point: central_differences(equilibrium_root, point),
        rtol=1e-9,
        gradient_atol=1e-9,
    ),
)


def central_differences(function: Callable[..., np.ndarray], point: tuple) -> np.ndarray:
    """d function / d point by central differences with relative steps, shape (n, k)."""
    columns = []
    for i, value in enumerate(point):
        step = 1e-6 * abs(value)
        up = function(*point[:i], value + step, *point[i + 1 :])
        down = function(*point[:i], value - step, *point[i + 1 :])
        columns.append((up - down) / (2 * step))
    return np.stack(columns, axis=1)


def build_poisson_normal_mode() -> ImplicitOp:
    """The mode of a Poisson count's latent log-rate with a normal prior (a Laplace
    approximation's centre): argmin over eta of exp(eta) - y eta + (eta - m)^2 / (2 s^2)."""
    eta, y, m = sp.symbols("eta y m", real=True)
    s = sp.Symbol("s", positive=True)
    return make_argmin_op(sp.exp(eta) - y * eta + (eta - m) ** 2 / (2 * s**2), eta, [y, m, s])


def poisson_normal_mode(y: float, m: float, s: float) -> float:
    """exp(eta) + (eta - m) / s^2 = y: eta = z - W(s^2 exp(z)), z = m + s^2 y, with
    W(exp(.)) as Wright's omega."""
    z = m + s**2 * y
    return z - special.wrightomega(np.log(s**2) + z).real


def poisson_normal_gradient(y: float, m: float, s: float) -> tuple[float, float, float]:
    eta = poisson_normal_mode(y, m, s)
    hessian = np.exp(eta) + 1 / s**2
    return 1 / hessian, 1 / (s**2 * hessian), 2 * (eta - m) / (s**3 * hessian)


def build_dosing_trough() -> ImplicitOp:
    """The steady-state trough of doses d every tau, eliminated at rate k: the fixed
    point of c -> (c + d) exp(-k tau)."""
    c, d, k, tau = sp.symbols("c d k tau", positive=True)
    return make_fixed_point_op((c + d) * sp.exp(-k * tau), c, [d, k, tau])


def dosing_trough(d: float, k: float, tau: float) -> float:
    return d / np.expm1(k * tau)


def dosing_trough_gradient(d: float, k: float, tau: float) -> tuple[float, float, float]:
    growth, squared = np.exp(k * tau), np.expm1(k * tau) ** 2
    return 1 / np.expm1(k * tau), -d * tau * growth / squared, -d * k * growth / squared


CATALOGUE: tuple[CatalogueProblem, ...] = (
    CatalogueProblem(
        "seed",
        build_seed,
        {"theta": (1e-5, 1e5)},
        seed_root,
        lambda theta: (seed_derivative(theta),),
    ),
    CatalogueProblem(
        "lambert_w",
        build_lambert,
        {"x": (1e-5, 1e5)},
        lambda x: special.lambertw(x).real,
        lambert_gradient,
    ),
    CatalogueProblem(
        "normal_quantile",
        build_quantile,
        # The erf form loses relative accuracy in the tails (1/2 + erf/2 cancels).
        {"p": (1e-3, 1 - 1e-3)},
        stats.norm.ppf,
        lambda p: (1 / stats.norm.pdf(stats.norm.ppf(p)),),
        rtol=1e-9,
    ),
    CatalogueProblem(
        "saturation",
        build_saturation,
        {"theta": (1e-3, 1e2), "x": (1e-3, 1e3)},
        saturation_root,
        saturation_gradient,
    ),
    CatalogueProblem(
        "kepler",
        build_kepler,
        {"e": (0.0, 0.95), "M": (-np.pi, np.pi)},
        kepler_root,
        kepler_gradient,
        rtol=1e-9,
    ),
    CatalogueProblem(
        "tax_schedule_piecewise",
        tax_schedule_builder(net_income_piecewise),
        {"n": (1.0, 100.0), "r1": (0.1, 0.25), "r2": (0.3, 0.6)},
        tax_schedule_root,
        tax_schedule_gradient,
    ),
    CatalogueProblem(
        "tax_schedule_min_max",
        tax_schedule_builder(net_income_min_max),
        {"n": (1.0, 100.0), "r1": (0.1, 0.25), "r2": (0.3, 0.6)},
        tax_schedule_root,
        tax_schedule_gradient,
    ),
    CatalogueProblem(
        "asymmetric_response",
        build_asymmetric_response,
        {"a": (-0.5, 0.5), "y": (2.0, 10.0)},
        asymmetric_response_root,
        asymmetric_response_gradient,
    ),
    CatalogueProblem(
        "von_mises_concentration",
        build_von_mises_concentration,
        {"r": (0.01, 0.99)},
        von_mises_concentration,
        von_mises_gradient,
        rtol=1e-9,
        gradient_atol=1e-9,
        # I0, I1 from cython_special (compiled) and SciPy's ufunc (plain): their last
        # bits differ, and the ratio flattens towards r = 1 (a slope of ~1e-3 at 0.99)
        plain_rtol=1e-12,
        jax=False,
    ),
    CatalogueProblem(
        "poisson_normal_mode",
        build_poisson_normal_mode,
        {"y": (0.0, 60.0), "m": (-3.0, 4.0), "s": (0.1, 3.0)},
        poisson_normal_mode,
        poisson_normal_gradient,
        # the mode is 0 where y = exp(0) and m = 0; the reference z - W(s^2 exp(z)) is
        # then a difference of terms of size z (up to 30), accurate to 30 * eps
        atol=1e-14,
    ),
    CatalogueProblem(
        "dosing_trough",
        build_dosing_trough,
        {"d": (0.1, 10.0), "k": (0.05, 2.0), "tau": (0.5, 24.0)},
        dosing_trough,
        dosing_trough_gradient,
    ),
)

#: Problems over SciPy's special functions that compile (the polygamma functions, which
#: the kernels compute by SciPy's algorithm), solved in C and checked by the catalogue's tests.
SPECIAL_FUNCTION_CATALOGUE: tuple[CatalogueProblem, ...] = (
    CatalogueProblem(
        "trigamma_inverse",
        build_trigamma_inverse,
        {"t": (0.05, 100.0)},
        trigamma_inverse,
        trigamma_inverse_gradient,
        rtol=1e-9,
        gradient_atol=1e-9,
    ),
    CatalogueProblem(
        "gamma_shape",
        build_gamma_shape,
        {"s": (1e-3, 20.0)},
        gamma_shape,
        gamma_shape_gradient,
        rtol=1e-9,
        gradient_atol=1e-9,
    ),
)

#: Problems whose residual uses a function numba cannot compile (here Fresnel's ``S``,
#: which SciPy has only as a ufunc): their values run as plain Python over SciPy, their
#: gradients in PyTensor.
PLAIN_PYTHON_CATALOGUE: tuple[CatalogueProblem, ...] = (
    CatalogueProblem(
        "fresnel_inverse",
        build_fresnel_inverse,
        {"t": (0.001, 0.7)},
        fresnel_inverse,
        fresnel_inverse_gradient,
        rtol=1e-9,
        gradient_atol=1e-9,
    ),
)
