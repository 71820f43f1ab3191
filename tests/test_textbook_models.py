"""Engineering's implicit equation: the Colebrook-White friction factor of turbulent
pipe flow, over the Moody chart's whole range, beside ``scipy.optimize.brentq`` in the
same run.

``1/sqrt(f) = -2 log10(eps/(3.7 D) + 2.51/(Re sqrt(f)))``: the Darcy friction factor
``f`` of a pipe of relative roughness ``eps/D`` at Reynolds number ``Re``.
"""

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
import sympy as sp
from scipy import optimize

from implicitop import SolveStatus, make_implicit_op

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
