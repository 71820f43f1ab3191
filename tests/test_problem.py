"""Construction: derivatives and clear errors for bad input."""

import numpy as np
import pytest
import sympy as sp

from catalogue import seed_root
from implicitop import make_implicit_op
from implicitop._problem import ImplicitProblem, positive_parts

mu, theta = sp.symbols("mu theta", positive=True)
x, y = sp.symbols("x y", real=True)
SEED = mu + mu * sp.exp(theta * mu) - 1


def test_several_parameters_give_a_tuple_of_derivatives():
    a, b = sp.symbols("a b", positive=True)
    op = make_implicit_op(mu**3 + a * mu - b, mu, [a, b])
    d_a, d_b = op.derivative
    assert sp.simplify(d_a + mu / (3 * mu**2 + a)) == 0
    assert sp.simplify(d_b - 1 / (3 * mu**2 + a)) == 0


def test_derivative_prints_as_latex():
    assert "e^{" in sp.latex(make_implicit_op(SEED, mu, theta).derivative)


@pytest.mark.parametrize(
    ("residual", "unknown", "params", "error", "message"),
    [
        (theta - 1, mu, theta, ValueError, "does not contain the unknown mu"),
        (SEED, mu, [theta, mu], ValueError, "both an unknown and a parameter"),
        (SEED + x * y, mu, theta, ValueError, "x, y"),
        ("mu - theta", mu, theta, TypeError, "SymPy expression"),
        (1.5, mu, theta, TypeError, "SymPy expression"),
        (sp.sin(mu) ** 2 + sp.cos(mu) ** 2 - theta, mu, theta, ValueError, "identically zero"),
        # dependent equations: the determinant is zero at every probe point, and SymPy
        # simplifies it to zero
        ([mu + x - theta, sp.exp(mu + x) - theta], [mu, x], theta, ValueError, "singular"),
        (sp.Eq(mu, theta), mu, theta, TypeError, "lhs - rhs"),
        # the same name with other assumptions is another SymPy symbol
        (sp.Symbol("mu") ** 3 - theta, mu, theta, ValueError, "mu .* different assumptions"),
        # a symbol without assumptions is taken as real: the message says so
        (
            sp.Symbol("mu") ** 3 - theta,
            mu,
            theta,
            ValueError,
            r"residuals' mu \(real=True, or none: a symbol without assumptions is taken as "
            r"real\) and the mu passed as an unknown or parameter \(positive=True\)",
        ),
        (mu**3 - sp.Symbol("theta", negative=True), mu, theta, ValueError, "negative=True\\) and"),
        (SEED, mu + 1, theta, TypeError, "Symbol"),
        (SEED, mu, [theta, theta], ValueError, "repeat"),
        (SEED, mu, [], ValueError, "at least one parameter"),
        (SEED, mu, 3, TypeError, "Symbol"),
        (mu - theta * sp.I, mu, theta, ValueError, "complex"),
        (sp.Function("f")(mu) - theta, mu, theta, ValueError, "undefined function"),
        (sp.Integral(mu * x, (x, 0, theta)) - 1, mu, theta, ValueError, "Integral"),
        (mu - sp.LambertW(theta), mu, theta, ValueError, "LambertW.*w\\*exp\\(w\\)"),
        (sp.lowergamma(mu, theta) - 1, mu, theta, ValueError, "PyTensor cannot express"),
    ],
)
def test_bad_construction_input_gets_a_clear_error(residual, unknown, params, error, message):
    with pytest.raises(error, match=message):
        make_implicit_op(residual, unknown, params)


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"tol": -1e-3}, ValueError, "tol"),
        ({"tol": "small"}, TypeError, "tol"),
        ({"maxiter": 0}, ValueError, "maxiter"),
        ({"maxiter": 2.5}, TypeError, "maxiter"),
        ({"bracket": (2.0, 1.0)}, ValueError, "lo < hi"),
        ({"bracket": (-3.0, -1.0)}, ValueError, "does not overlap"),
        ({"bracket": 1.0}, TypeError, "pair"),
        ({"on_failure": "ignore"}, ValueError, "on_failure"),
        ({"x0": -1.0}, ValueError, "outside the search domain"),
        ({"x0": x}, ValueError, "only use the parameters"),
        ({"x_zero": 1.0}, TypeError, "unknown option"),
    ],
)
def test_bad_options_get_a_clear_error(options, error, message):
    with pytest.raises(error, match=message):
        make_implicit_op(SEED, mu, theta, **options)


def test_one_element_sequences_are_accepted():
    op = make_implicit_op([SEED], [mu], [theta])
    assert float(op(0.4).eval()) == pytest.approx(seed_root(0.4), rel=1e-12)


def test_equal_problems_give_equal_ops_and_a_single_graph_node():
    first, second = make_implicit_op(SEED, mu, theta), make_implicit_op(SEED, mu, theta)
    assert first == second and hash(first) == hash(second)
    assert first != make_implicit_op(SEED, mu, theta, tol=1e-8)
    assert np.isclose(float((first(0.3) - second(0.3)).eval()), 0.0)


def test_residuals_split_into_parts_sympy_proves_positive():
    t = sp.Symbol("t", real=True)
    growth = mu * sp.exp(theta * mu)
    assert positive_parts(mu + growth - 1) == (mu + growth, sp.S.One)
    assert positive_parts(mu**2 - theta) == (mu**2, theta)
    assert positive_parts(x - t) is None  # the signs of x and t are unknown
    assert positive_parts(mu + theta) is None  # no negative side: no root
    cubic = ImplicitProblem.build(x**3 - t, x, t)
    assert cubic.halley_parts == (x**3 - t, 3 * x**2, 6 * x, 0, 0, 0)
    seed = ImplicitProblem.build(mu + growth - 1, mu, theta)
    a, a1, a2, b, b1, b2 = seed.halley_parts
    assert (a, b, b1, b2) == (mu + growth, 1, 0, 0)
    assert sp.simplify(a1 - sp.diff(mu + growth, mu)) == 0
    assert sp.simplify(a2 - sp.diff(mu + growth, mu, 2)) == 0


def test_a_large_derivative_is_shown_as_derived_not_simplified():
    # simplify on the derivative of the helical valley's minimum ran for minutes; an
    # expression of more than 100 operations is kept as the implicit function theorem
    # gives it
    u, v, q = sp.symbols("u v q", real=True)
    residuals = [sp.atan(v / u) * sp.exp(u * v) - q * u**3 + sp.cos(q * v), u**2 + v**2 - q]
    op = make_implicit_op(residuals, [u, v], q, x0=[1.0, 0.5])
    derived = op.problem.jacobian.LUsolve(-op.problem.param_jacobian)
    assert sp.count_ops(derived[0, 0]) > 100
    assert op.derivative[0, 0] == derived[0, 0]
    # a small one is still simplified: d/dtheta of mu (sin^2 + cos^2) = theta is 1
    trigonometric = make_implicit_op(
        mu * (sp.sin(theta) ** 2 + sp.cos(theta) ** 2) - theta, mu, theta
    )
    assert trigonometric.derivative == 1


def test_an_op_built_again_for_the_same_residual_derives_and_checks_nothing_again(
    monkeypatch, rebuilt_problems
):
    """Another x0 or bracket for a residual built before (a notebook's cell run again,
    a family of cases) reuses the checked problem and what was derived from it."""
    first = make_implicit_op(SEED, mu, theta, x0=0.5)
    assert first.problem.derivatives
    checked = []
    monkeypatch.setattr(ImplicitProblem, "_check_not_singular", lambda self: checked.append(self))
    again = make_implicit_op(SEED, mu, theta, bracket=(0.0, 1.0))
    assert again.problem is first.problem
    assert "derivatives" in vars(again.problem) and checked == []
    # another residual, or the same with other assumptions, is another problem
    make_implicit_op(mu**3 + mu - theta * sp.Rational(7919, 7907), mu, theta)
    real_mu = sp.Symbol("mu", real=True)
    other_assumptions = make_implicit_op(SEED.subs(mu, real_mu), real_mu, theta)
    assert len(checked) == 2
    assert other_assumptions.problem != first.problem
    # a subclass's build gives its own type
    named = type("NamedProblem", (ImplicitProblem,), {})
    assert type(named.build(SEED, mu, theta)) is named
