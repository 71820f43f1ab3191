"""The seed page's answers (and a chemical equilibrium's) from SciPy alone: no
PyTensor, Theano or PyMC, so both test environments (PyMC 5 and PyMC3) check against
the same numbers."""

from collections.abc import Sequence

import numpy as np
from scipy import integrate, optimize, stats

#: The seed page's observations.
OBSERVED = (0.2, 0.21, 0.3)


def seed_root(theta: float) -> float:
    """Root of the seed's residual by Brent's method on its log form."""

    def log_residual(mu: float) -> float:
        return np.log(mu) + np.logaddexp(0.0, theta * mu)

    return optimize.brentq(log_residual, 1e-300, 1.0, xtol=1e-300, rtol=8.9e-16, maxiter=2000)


def seed_derivative(theta: float) -> float:
    """The seed page's dmu/dtheta = -mu**2 / (1 + theta*mu + exp(-theta*mu))."""
    mu = seed_root(theta)
    return -(mu**2) / (1 + theta * mu + np.exp(-theta * mu))


def seed_posterior_moments(
    observed: Sequence[float] = OBSERVED, sigma: float = 0.1
) -> tuple[float, float]:
    """Posterior mean and standard deviation of theta for theta ~ HalfNormal(1),
    y ~ Normal(mu(theta), sigma), by quadrature with the root from Brent's method."""

    def unnormalised(theta: float) -> float:
        mu = seed_root(theta)
        return stats.halfnorm.pdf(theta) * np.prod(stats.norm.pdf(observed, mu, sigma))

    moments = [
        integrate.quad(lambda t, k=k: t**k * unnormalised(t), 0, 12, limit=200)[0] for k in range(3)
    ]
    mean = moments[1] / moments[0]
    return mean, float(np.sqrt(moments[2] / moments[0] - mean**2))


def seed_posterior_mean(observed: Sequence[float] = OBSERVED, sigma: float = 0.1) -> float:
    """E[theta | y] (:func:`seed_posterior_moments`)."""
    return seed_posterior_moments(observed, sigma)[0]


#: The equilibrium system's ``(K1, K2, T)`` where NUTS's first steps go: its adjoint
#: system's entries span dozens of decades.
BADLY_SCALED_EQUILIBRIUM = (np.exp(-15.591155064854894), np.exp(25.374631454107647), 0.05)


def equilibrium_reference(k1: float, k2: float, total: float) -> float:
    """a from the one-line reduction a + 2 K1 a^2 + 3 K1 K2 a^3 = T (Brent's method)."""

    def reduced(a: float) -> float:
        return a + 2 * k1 * a**2 + 3 * k1 * k2 * a**3 - total

    return optimize.brentq(reduced, 0.0, total, xtol=1e-300, rtol=8.9e-16)


def log_gradient_by_differences(point: Sequence[float]) -> list[float]:
    """d log a / d (K1, K2, T) of :func:`equilibrium_reference` by central differences
    (relative steps of 1e-6)."""
    point = np.asarray(point, dtype=float)
    steps = 1e-6 * point
    return [
        (
            np.log(equilibrium_reference(*(point + np.eye(3)[i] * steps[i])))
            - np.log(equilibrium_reference(*(point - np.eye(3)[i] * steps[i])))
        )
        / (2 * steps[i])
        for i in range(3)
    ]
