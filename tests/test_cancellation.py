"""Sums that cancel (``1 + erf(z)``, SymPy's ``2 - erfc(z)`` for ``erfc(-z)``) are
printed as one ``erfc`` term, so the element functions and the tensor graphs keep the
digits of a normal CDF's tail."""

import numpy as np
import pytest
import sympy as sp
from scipy import special

from implicitop._cancellation import accurate_cse, accurate_sums
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


def test_sums_that_do_not_cancel_are_left_as_they_are():
    for expr in (sp.erf(Z) + 2, 2 * sp.erfc(Z) - 2, S * sp.erf(Z) + 1, sp.exp(Z) + 1):
        assert accurate_sums(expr) == expr


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
