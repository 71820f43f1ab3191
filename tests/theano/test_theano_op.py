"""implicitop.theano: the Theano op's values, gradients, shapes, failures and errors."""

import math
import pickle
import warnings

import numpy as np
import pytest
import sympy as sp
import theano
import theano.tensor as tt
from hypothesis import given
from hypothesis import strategies as st

from implicitop import ImplicitSolveError
from implicitop.testing import check_implicit_op
from implicitop.theano import ImplicitOp, make_argmin_op, make_fixed_point_op, make_implicit_op
from references import (
    BADLY_SCALED_EQUILIBRIUM,
    log_gradient_by_differences,
    seed_derivative,
    seed_root,
)

mu, theta, x = sp.symbols("mu theta x", positive=True)
SEED = mu + mu * sp.exp(theta * mu) - 1
RNG = np.random.RandomState(0)  # Theano's verify_grad takes a RandomState


@pytest.fixture(scope="module")
def seed_op() -> ImplicitOp:
    return make_implicit_op(SEED, mu, theta)


def test_the_op_is_a_theano_op_with_the_seed_pages_derivative(seed_op):
    assert isinstance(seed_op, theano.graph.op.Op)
    page = -(mu**2) / (1 + theta * mu + sp.exp(-theta * mu))
    assert sp.simplify(seed_op.derivative - page) == 0


def test_roots_and_gradients_match_the_references(seed_op):
    thetas = np.geomspace(1e-5, 1e5, 41)
    variable = tt.dvector("theta")
    roots = seed_op(variable)
    function = theano.function([variable], [roots, theano.grad(roots.sum(), variable)])
    values, gradients = function(thetas)
    np.testing.assert_allclose(values, [seed_root(t) for t in thetas], rtol=1e-13)
    np.testing.assert_allclose(gradients, [seed_derivative(t) for t in thetas], rtol=1e-10)


@pytest.mark.parametrize("point", [0.2, 1e-5, 1e5])
def test_verify_grad_at_the_seed_pages_points(seed_op, point):
    theano.gradient.verify_grad(seed_op, [np.array(point)], rng=RNG)


def test_the_gradient_is_differentiable_again(seed_op):
    variable = tt.dscalar("theta")
    slope = theano.grad(seed_op(variable), variable)
    curvature = theano.function([variable], theano.grad(slope, variable))
    for point in (0.05, 0.4, 3.0, 40.0):
        step = 1e-5 * point
        expected = (seed_derivative(point + step) - seed_derivative(point - step)) / (2 * step)
        assert float(curvature(point)) == pytest.approx(expected, rel=1e-6)


def test_check_implicit_op_passes_for_the_op_and_catches_a_wrong_gradient(seed_op):
    check_implicit_op(seed_op, {"theta": (1e-5, 1e5)}, max_examples=15)

    class WrongGradient(ImplicitOp):
        def L_op(self, inputs, outputs, output_grads):
            return [1.01 * g for g in super().L_op(inputs, outputs, output_grads)]

    wrong = WrongGradient(seed_op.problem, seed_op.options)
    with pytest.raises(AssertionError, match="disagrees with central differences"):
        check_implicit_op(wrong, {"theta": (0.1, 10.0)}, max_examples=5)


def test_inputs_broadcast_and_shared_data_may_change_length():
    op = make_implicit_op(mu + mu * sp.exp(theta * mu * x) - 1, mu, [theta, x])
    data = theano.shared(np.array([0.5, 1.0, 2.0]))
    scalar = tt.dscalar("theta")
    roots = op(scalar, data)
    assert roots.ndim == 1
    function = theano.function(
        [scalar], [roots, *theano.grad(roots.sum(), [scalar, data])], on_unused_input="ignore"
    )
    for values in ([0.5, 1.0, 2.0], np.geomspace(0.1, 50.0, 7)):
        data.set_value(np.asarray(values))
        products = 0.7 * np.asarray(values)
        mus, d_theta, d_x = function(0.7)
        slopes = np.array([seed_derivative(p) for p in products])
        np.testing.assert_allclose(mus, [seed_root(p) for p in products], rtol=1e-13)
        # mu(theta, x) = seed_root(theta * x), so the chain rule gives the references
        np.testing.assert_allclose(d_theta, np.sum(slopes * values), rtol=1e-10)
        np.testing.assert_allclose(d_x, slopes * 0.7, rtol=1e-10)
    matrix = op(np.full((2, 1), 0.7), np.array([[0.5, 1.0, 2.0]])).eval()
    assert matrix.shape == (2, 3)


def test_a_system_gives_the_closed_form_and_its_gradient():
    # x^2 + y^2 = a and x - y = b meet at x = (b + sqrt(2a - b^2)) / 2, y = x - b.
    u, v, a, b = sp.symbols("u v a b", real=True)
    op = make_implicit_op([u**2 + v**2 - a, u - v - b], [u, v], [a, b], x0=[1.0, 0.0])
    a_values, b_values = tt.dvector("a"), tt.dvector("b")
    first, second = op(a_values, b_values)
    objective = (first + 2 * second).sum()
    function = theano.function(
        [a_values, b_values], [first, second, *theano.grad(objective, [a_values, b_values])]
    )
    av, bv = np.array([1.0, 2.0, 4.0]), np.array([0.0, 0.5, -1.0])
    root = np.sqrt(2 * av - bv**2)
    first_value, second_value, d_a, d_b = function(av, bv)
    np.testing.assert_allclose(first_value, (bv + root) / 2, rtol=1e-14)
    np.testing.assert_allclose(second_value, (bv + root) / 2 - bv, rtol=1e-14)
    # d(x + 2y)/da = 3 dx/da, with dx/da = 1/(2 root); d/db = 3 dx/db - 2, dx/db = (1 - b/root)/2
    np.testing.assert_allclose(d_a, 3 / (2 * root), rtol=1e-12)
    np.testing.assert_allclose(d_b, 3 * (1 - bv / root) / 2 - 2, rtol=1e-12)
    check_implicit_op(op, {"a": (1.0, 4.0), "b": (-0.5, 0.5)}, max_examples=8)


def test_the_gradient_of_a_badly_scaled_system_matches_finite_differences():
    # The adjoint system is solved with its rows and columns scaled, as in PyTensor's op:
    # where its entries span dozens of decades, the gradient matches central differences
    # of the reduced equation solved by Brent's method, with no warning on the way.
    a, b, c = sp.symbols("a b c", positive=True)
    k1, k2, total = sp.symbols("K1 K2 T", positive=True)
    op = make_implicit_op(
        [b - k1 * a**2, c - k2 * a * b, a + 2 * b + 3 * c - total], [a, b, c], [k1, k2, total]
    )
    inputs = tt.dvector("point")
    free_a = op(inputs[0], inputs[1], inputs[2])[0]
    point = np.array(BADLY_SCALED_EQUILIBRIUM)
    with warnings.catch_warnings():
        # unscaled, constant folding divided by the zero entries of dR/du
        warnings.simplefilter("error")
        gradient = theano.function([inputs], theano.grad(tt.log(free_a), inputs))
        computed = gradient(point)
    np.testing.assert_allclose(computed, log_gradient_by_differences(point), rtol=1e-6)


def test_a_fixed_point_gives_the_closed_form_and_its_gradient():
    # the steady-state trough of repeated doses: c = (c + d) exp(-k tau), c = d / expm1(k tau)
    c, d, k, tau = sp.symbols("c d k tau", positive=True)
    op = make_fixed_point_op((c + d) * sp.exp(-k * tau), c, [d, k, tau])
    inputs = [tt.dvector(name) for name in ("d", "k", "tau")]
    troughs = op(*inputs)
    function = theano.function(inputs, [troughs, theano.grad(troughs.sum(), inputs[1])])
    doses, rates, intervals = np.array([1.0, 5.0, 0.2]), np.array([0.1, 1e-3, 2.0]), np.ones(3)
    values, slopes = function(doses, rates, intervals)
    np.testing.assert_allclose(values, doses / np.expm1(rates * intervals), rtol=1e-12)
    expected = -doses * intervals * np.exp(rates * intervals) / np.expm1(rates * intervals) ** 2
    np.testing.assert_allclose(slopes, expected, rtol=1e-9)


def test_elements_without_a_root_are_nan_or_raise():
    t = sp.Symbol("t", real=True)
    u = sp.Symbol("u", real=True)
    residual = sp.exp(u) - t  # a root log(t) only for t > 0
    values = tt.dvector("t")
    nan_op = make_implicit_op(residual, u, t)
    roots, converged = nan_op(values), nan_op.converged(values)
    function = theano.function([values], [roots, converged])
    got, flags = function(np.array([2.0, -1.0, 0.5]))
    np.testing.assert_allclose(got[[0, 2]], np.log([2.0, 0.5]), rtol=1e-14)
    assert np.isnan(got[1])
    assert flags.tolist() == [True, False, True]
    raising_op = make_implicit_op(residual, u, t, on_failure="raise")
    raising = theano.function([values], raising_op(values))
    with pytest.raises(ImplicitSolveError, match="t="):
        raising(np.array([2.0, -1.0]))


@pytest.mark.parametrize(
    ("build", "error", "message"),
    [
        (lambda: make_implicit_op(SEED + x, mu, theta), ValueError, "neither unknowns"),
        (lambda: make_implicit_op(SEED, mu, theta, on_failure="ignore"), ValueError, "on_failure"),
        (
            lambda: make_implicit_op(sp.lowergamma(mu, theta) - 1, mu, theta),
            ValueError,
            "Theano cannot express",
        ),
        (lambda: make_implicit_op(SEED, mu, theta)(True), TypeError, "boolean"),
        (
            lambda: make_implicit_op(SEED, mu, theta)(np.array([1j, 2j])),
            TypeError,
            "complex128",
        ),
        (lambda: make_implicit_op(SEED, mu, theta)(0.1, 0.2), TypeError, "takes 1 input"),
    ],
)
def test_bad_input_gets_a_clear_error(build, error, message):
    with pytest.raises(error, match=message):
        build()


def test_integer_data_is_taken_as_arithmetic_takes_it(seed_op):
    # PyMC3's observed counts are int64: float64 here, as theta + 0.0 would be
    thetas = tt.lvector("theta")
    root = seed_op(thetas)
    assert root.dtype == "float64"
    function = theano.function([thetas], [root, theano.grad(root.sum(), thetas)])
    values = np.array([1, 2, 40])
    roots, slopes = function(values)
    np.testing.assert_allclose(roots, [seed_root(v) for v in values], rtol=1e-13)
    np.testing.assert_allclose(slopes, [seed_derivative(v) for v in values], rtol=1e-12)


def test_ops_pickle_and_equal_problems_give_equal_ops(seed_op):
    copy = pickle.loads(pickle.dumps(seed_op))
    assert copy == seed_op
    assert hash(copy) == hash(seed_op)
    assert make_implicit_op(SEED, mu, theta) == seed_op
    assert copy.solve(0.4).root == seed_op.solve(0.4).root


@given(st.floats(1e-4, 1e4))
def test_any_theta_agrees_with_the_reference(seed_op, value):
    assert float(seed_op(value).eval()) == pytest.approx(seed_root(value), rel=1e-13)


def test_the_op_shows_itself_and_its_picture(seed_op):
    assert "ImplicitOp for Theano" in seed_op._repr_html_()
    assert sp.latex(seed_op.derivative) in seed_op._repr_latex_()
    figure = seed_op.plot({"theta": (1e-3, 1e3)}, points=7)
    curve = figure.axes[0].lines[0].get_ydata()
    np.testing.assert_allclose(curve, [seed_root(v) for v in np.geomspace(1e-3, 1e3, 7)])


def test_a_system_gradient_comes_from_the_partials_not_a_closed_form():
    # implied volatility as a 2x2 system (sigma, and v = sigma): the simplified closed
    # form of dsigma/dC overflows to NaN where the partials are tame (1/vega = 0.0525)
    sigma, v = sp.symbols("sigma v", positive=True)
    price, spot, strike, rate, tau = sp.symbols("C S K r tau", positive=True)

    def phi(z):
        return (1 + sp.erf(z / sp.sqrt(2))) / 2

    d1 = (sp.log(spot / strike) + (rate + sigma**2 / 2) * tau) / (sigma * sp.sqrt(tau))
    d2 = d1 - sigma * sp.sqrt(tau)
    call = spot * phi(d1) - strike * sp.exp(-rate * tau) * phi(d2)
    op = make_implicit_op([call - price, v - sigma], [sigma, v], [price, spot, strike, rate, tau])
    inputs = [tt.dvector(name) for name in ("C", "S", "K", "r", "tau")]
    first, _ = op(*inputs)
    gradient = theano.grad(first.sum(), inputs[0])
    values = [np.array([v_]) for v_ in (100.0, 90.0, 0.02, 0.5)]
    # the price at sigma = 0.2, and vega there, from the closed form
    d1_value = (np.log(100 / 90) + (0.02 + 0.02) * 0.5) / (0.2 * np.sqrt(0.5))
    d2_value = d1_value - 0.2 * np.sqrt(0.5)
    cdf = lambda z: 0.5 * (1 + math.erf(z / np.sqrt(2)))  # noqa: E731
    c_value = 100 * cdf(d1_value) - 90 * np.exp(-0.01) * cdf(d2_value)
    vega = 100 * np.exp(-(d1_value**2) / 2) / np.sqrt(2 * np.pi) * np.sqrt(0.5)
    root, slope = theano.function(inputs, [first, gradient])(np.array([c_value]), *values)
    np.testing.assert_allclose(root, [0.2], rtol=1e-12)
    np.testing.assert_allclose(slope, [1 / vega], rtol=1e-9)


def test_an_argmin_op_its_value_and_log_det_match_closed_forms():
    # x log x - t x: minimum at x = exp(t - 1), value -exp(t - 1), Hessian 1/x
    t = sp.Symbol("t", positive=True)
    op = make_argmin_op(x * sp.log(x) - t * x, x, t)
    ts = tt.dvector("t")
    value, log_det = op.minimum_value(ts), op.log_det_hessian(ts)
    slope = theano.grad(value.sum(), ts)
    function = theano.function([ts], [op(ts), value, slope, theano.grad(slope.sum(), ts), log_det])
    points = np.linspace(0.1, 5.0, 9)
    minimum, got_value, got_slope, curvature, got_log_det = function(points)
    closed = np.exp(points - 1)
    for got in (minimum, -got_value, -got_slope, -curvature):
        np.testing.assert_allclose(got, closed, rtol=1e-12)
    np.testing.assert_allclose(got_log_det, 1 - points, rtol=1e-12, atol=1e-15)
    maximum = make_argmin_op(-((x - t) ** 2), x, t)
    assert np.all(np.isnan(theano.function([ts], maximum(ts))(np.array([1.0, 2.0]))))


def test_llvm_14_compiles_without_a_vector_library_and_without_option_errors(capfd):
    """LLVM before 15 (this stack's llvmlite) takes a command-line option once per
    process: the vector library, set for implicitop's compile and unset after it, could
    not be unset (LLVM printed "may only occur zero or one times" and left it on for
    all numba code compiled later). There the solver's loops call the scalar functions."""
    import llvmlite.binding as llvm

    from implicitop._solvers import vector_math

    assert llvm.llvm_version_info < (15,)
    assert vector_math.library() == "none"
    x, q = sp.symbols("x q", positive=True)
    for constant in (0.3125, 0.6875):  # residuals no other test compiles
        op = make_implicit_op(x**3 + x - q + constant, x, q)
        roots = op.solve(np.array([1.0, 10.0])).root
        np.testing.assert_allclose(roots**3 + roots + constant, [1.0, 10.0], rtol=1e-14)
    assert "may only occur" not in capfd.readouterr().err
