"""Sums that cancel (``1 + erf(z)``, SymPy's ``2 - erfc(z)`` for ``erfc(-z)``,
``exp(z) - 1``, ``log(1 + z)``) are printed as one ``erfc``, ``expm1`` or ``log1p``
term, so the element functions and the tensor graphs keep the digits of a normal CDF's
tail and of a small ``exp(z) - 1``."""

import numpy as np
import pytest
import sympy as sp
from scipy import special
from sympy.codegen.cfunctions import expm1, log1p

from implicitop._cancellation import (
    accurate_cse,
    accurate_sums,
    exp_difference,
    log_one_minus_exp,
    power_minus_one,
)
from implicitop._codegen import element_functions

Z, S = sp.Symbol("z", real=True), sp.Symbol("S", positive=True)


@pytest.mark.parametrize(
    ("written", "accurate"),
    [
        (2 - sp.erfc(Z), sp.erfc(-Z, evaluate=False)),
        (sp.erfc(Z) - 2, -sp.erfc(-Z, evaluate=False)),
        ((1 + sp.erf(Z)) / 2, sp.erfc(-Z, evaluate=False) / 2),
        (1 - sp.erf(Z), sp.erfc(Z)),
        (sp.erf(Z) - 1, -sp.erfc(Z)),
        (S / 2 + S * sp.erf(Z) / 2 - 3, S * sp.erfc(-Z, evaluate=False) / 2 - 3),
    ],
)
def test_a_sum_that_cancels_becomes_one_erfc_term(written, accurate):
    rewritten = accurate_sums(written)
    assert rewritten == accurate
    assert sp.simplify(sp.expand_func(rewritten - written)) == 0


@pytest.mark.parametrize(
    ("written", "accurate"),
    [
        (sp.exp(Z) - 1, expm1(Z)),
        (1 - sp.exp(-S * Z), -expm1(-S * Z)),
        (S * sp.exp(Z) - S + 3, S * expm1(Z) + 3),
        (sp.log(1 + Z), log1p(Z)),
        ((1 + S) ** Z - 1, expm1(Z * log1p(S))),
        (2 - 2 * (1 + Z) ** sp.Rational(1, 2), -2 * expm1(log1p(Z) / 2)),
        (sp.log(1 + S * (sp.exp(Z) - 1)), log1p(S * expm1(Z))),
        (sp.log(1 - sp.exp(-S * Z)), log_one_minus_exp(-S * Z)),
        (1 - sp.cos(Z), 2 * sp.sin(Z / 2) ** 2),
        (3 + 3 * sp.cos(S * Z), 6 * sp.cos(S * Z / 2) ** 2),
        (S * sp.cosh(Z / S) - S + 3, 2 * S * sp.sinh(Z / (2 * S)) ** 2 + 3),
    ],
)
def test_a_sum_that_cancels_becomes_one_expm1_or_log1p_term(written, accurate):
    rewritten = accurate_sums(written)
    assert rewritten == accurate
    difference = sp.lambdify([Z, S], rewritten - written, "math")
    assert difference(0.3, 2.5) == pytest.approx(0.0, abs=1e-15)


def test_sums_that_do_not_cancel_are_left_as_they_are():
    for expr in (
        sp.erf(Z) + 2,
        2 * sp.erfc(Z) - 2,
        S * sp.erf(Z) + 1,
        sp.exp(Z) + 1,
        2 * sp.exp(Z) - 1,
        S * sp.exp(Z) - 1,
        sp.log(2 + Z),
        2 * sp.cos(Z) + 1,
        sp.cosh(Z) + 1,  # at least 2: nothing cancels
        2 * sp.cosh(Z) - 1,
    ):
        assert accurate_sums(expr) == expr


@pytest.mark.parametrize(
    "r", [1e-300, 1e-17, -1e-12, 0.3, -0.7, -1.0 + 1e-9, -1.0 - 1e-9, -2.5, 40.0]
)
def test_a_power_of_a_base_of_unknown_sign_minus_one_keeps_its_digits(r):
    """``(1 + r)**n - 1`` with ``r`` real (``1 + r`` may be negative, where
    ``log1p(r)`` is NaN) and ``n`` an integer: ``expm1(n*log1p(r))`` where ``1 + r`` is
    positive, as written where it is not (:func:`power_minus_one`); against mpmath. As
    written the sum is 0 below ``r`` of 1e-17: compound annual growth rates of small
    growths came out up to 78 times the rate, called converged."""
    import mpmath

    from implicitop import make_implicit_op

    rate, growth = sp.Symbol("r", real=True), sp.Symbol("g", real=True)
    periods = sp.Symbol("n", positive=True, integer=True)
    rewritten = accurate_sums((1 + rate) ** periods - 1)
    assert rewritten == power_minus_one(1 + rate, periods)
    op = make_implicit_op((1 + rate) ** periods - 1 - growth, rate, [periods, growth])
    residual = element_functions(op.problem, op.solver.starts)["residual"]
    for n in (1, 2, 3, 10, 360):
        with mpmath.workdps(400):
            reference = float((1 + mpmath.mpf(r)) ** n - 1)
        if not np.isfinite(reference):
            continue
        got = residual(r, np.array([float(n), 0.0]))
        assert got == pytest.approx(reference, rel=4e-15, abs=0), n


@pytest.mark.parametrize("z", [1e-300, 1e-17, 1e-9, -1e-12])
def test_exp_minus_one_and_log_of_one_plus_keep_their_digits(z):
    """The element functions of ``exp(x) - 1 - t`` and ``x - log(1 + t)`` against
    ``numpy.expm1`` and ``numpy.log1p``: the sums as written are 0 below 1e-16."""
    from implicitop import make_implicit_op

    x, t = sp.Symbol("x", real=True), sp.Symbol("t", real=True)
    for written, reference in (
        (sp.exp(x) - 1 - t, np.expm1(z)),
        (x - sp.log(1 + t), -np.log1p(z)),
    ):
        op = make_implicit_op(written, x, t)
        residual = element_functions(op.problem, op.solver.starts)["residual"]
        at = (z, 0.0) if written.has(sp.exp) else (0.0, z)
        assert residual(at[0], np.array([at[1]])) == pytest.approx(reference, rel=1e-15, abs=0)


@pytest.mark.parametrize("x", [1e-300, 1e-20, 1e-9, 0.3, 0.6931, 0.6932, 5.0, 40.0, 700.0])
def test_log_of_one_minus_exp_keeps_its_digits_at_both_ends(x):
    """The element function of ``log(1 - exp(-x)) - t`` against mpmath: as written it is
    -inf below 1e-16 and 0 above 37."""
    import mpmath

    from implicitop import make_implicit_op

    u, t = sp.Symbol("u", positive=True), sp.Symbol("t", real=True)
    op = make_implicit_op(sp.log(1 - sp.exp(-u)) - t, u, t)
    residual = element_functions(op.problem, op.solver.starts)["residual"]
    with mpmath.workdps(400):  # enough digits for 1 - 1e-304, and expm1 for 1e-300
        reference = float(mpmath.log(-mpmath.expm1(-mpmath.mpf(x))))
    assert residual(x, np.array([0.0])) == pytest.approx(reference, rel=4e-16, abs=0)


@pytest.mark.parametrize("x", [1e-150, 1e-9, 1e-3, 0.5, 3.0])
def test_one_minus_cos_and_cosh_minus_one_keep_their_digits(x):
    """The element functions of ``1 - cos(t) - u`` and ``cosh(t) - 1 - u`` at ``u = 0``,
    ``t = x``, and of ``1 + cos(t) - u`` at ``t = pi - x``, against mpmath: as written
    all are 0 for ``x`` below 1e-8."""
    import mpmath

    from implicitop import make_implicit_op

    u, t = sp.Symbol("u", real=True), sp.Symbol("t", real=True)
    near_pi = float(np.pi - x)
    with mpmath.workdps(400):  # 1 - cos(1e-150) is 5e-301
        references = (
            float(1 - mpmath.cos(mpmath.mpf(x))),
            float(mpmath.cosh(mpmath.mpf(x)) - 1),
            float(1 + mpmath.cos(mpmath.mpf(near_pi))),  # the double's own distance to pi
        )
    forms = ((1 - sp.cos(t), x), (sp.cosh(t) - 1, x), (1 + sp.cos(t), near_pi))
    for (written, at), reference in zip(forms, references, strict=True):
        op = make_implicit_op(written - u, u, t)
        residual = element_functions(op.problem, op.solver.starts)["residual"]
        assert residual(0.0, np.array([at])) == pytest.approx(reference, rel=4e-16, abs=0)


@pytest.mark.parametrize(
    ("x", "y"), [(-1e-10, -2e-10), (-0.3, -0.3 - 1e-9), (-1.0, -800.0), (700.0, 1.0), (-5.0, 2.0)]
)
def test_a_difference_of_exponentials_keeps_its_digits_and_does_not_overflow(x, y):
    """``exp(x) - exp(y)`` against mpmath, near ``x = y`` (as written it keeps only the
    digits of ``x - y`` beyond one) and far from it (``exp(y)`` 0, ``exp(x)`` near the
    largest double), where ``expm1`` of the difference alone would overflow."""
    import mpmath

    u, a, b = sp.Symbol("u", real=True), sp.Symbol("a", real=True), sp.Symbol("b", real=True)
    rewritten = accurate_sums(sp.exp(a) - sp.exp(b) - u)
    assert rewritten.has(sp.Piecewise)
    assert sp.simplify(rewritten.subs(u, 0) - exp_difference(a, b)) == 0
    function = sp.lambdify([u, a, b], rewritten, "math")
    with mpmath.workdps(50):
        reference = float(mpmath.exp(x) - mpmath.exp(y))
    assert function(0.0, x, y) == pytest.approx(reference, rel=4e-16, abs=0)


def test_the_shared_subexpressions_are_rewritten_too():
    """SymPy's ``cse`` rebuilds ``erfc(-z)`` as ``2 - erfc(z)``; the rewrite comes after,
    in the shared subexpression that holds it."""
    written = (S * sp.erfc(-Z, evaluate=False), abs(sp.erfc(-Z, evaluate=False)) * S)
    shared, _ = accurate_cse(written)
    accurate = sp.erfc(-Z, evaluate=False)
    assert [value for _, value in shared] in ([accurate], [-accurate])
    function = sp.lambdify([Z, S], written, "scipy", cse=accurate_cse)
    expected = special.erfc(15.0)  # 7.2e-100: the sum as SymPy writes it rounds to 0
    assert function(-15.0, 1.0) == pytest.approx((expected, expected), rel=1e-14, abs=0)


@pytest.mark.parametrize("z", [-3.0, -8.0, -20.0, -37.0])
def test_the_normal_cdf_written_with_erf_keeps_its_tail(z):
    """``(1 + erf(z/sqrt 2))/2`` against ``scipy.special.ndtr``: every digit, where the
    sum as written rounds to 0 from z = -8.3 down."""
    from implicitop import make_implicit_op

    x, p = sp.Symbol("x", real=True), sp.Symbol("p", real=True)
    op = make_implicit_op((1 + sp.erf(x / sp.sqrt(2))) / 2 - p, x, p)
    residual = element_functions(op.problem, op.solver.starts)["residual"]
    assert residual(z, np.array([0.0])) == pytest.approx(special.ndtr(z), rel=1e-13, abs=0)
