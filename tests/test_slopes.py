"""The gradient's implicit derivatives from compiled code (``ImplicitSlopes``): the same
quotients as the graph, wherever an element sits, differentiable again, and the graph
itself where the backend or the residual calls for it."""

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
import sympy as sp
from pytensor.compile.mode import Mode

from implicitop import make_implicit_op
from implicitop._pytensor.c_implementation import has_c_code
from implicitop._pytensor.fused import ImplicitRootsAndSlopes
from implicitop._pytensor.slopes import ImplicitSlopes, has_slopes_c_code
from implicitop._solvers.parallel import THREADED_FROM

MU, THETA, X = sp.symbols("mu theta x", positive=True)


def data_op():
    """``mu + mu*exp(theta*mu*x) - 1``: the data-sized model's residual."""
    return make_implicit_op(MU + MU * sp.exp(THETA * MU * X) - 1, MU, [THETA, X])


def closed_form_slopes(mu, theta, x):
    """``dmu/dtheta`` and ``dmu/dx`` by hand: ``-R_theta / R_mu`` and ``-R_x / R_mu``."""
    growth = np.exp(theta * mu * x)
    slope = 1 + growth * (1 + theta * mu * x)
    return -(mu * mu * x * growth) / slope, -(mu * mu * theta * growth) / slope


def gradient_function(op, mode=None, dtype="float64"):
    theta, x = pt.vector("theta", dtype=dtype), pt.vector("x", dtype=dtype)
    root = op(theta, x)
    function = pytensor.function(
        [theta, x], [root, *pytensor.grad(root.sum(), [theta, x])], mode=mode
    )
    return function


def slopes_nodes(function, kind=(ImplicitSlopes, ImplicitRootsAndSlopes)) -> list:
    """The function's nodes that evaluate implicit derivatives in compiled code."""
    return [node for node in function.maker.fgraph.toposort() if isinstance(node.op, kind)]


def uses_slopes(function) -> bool:
    return bool(slopes_nodes(function))


def test_slopes_are_the_closed_form_derivatives_at_the_roots():
    rng = np.random.default_rng(3)
    theta, x = rng.uniform(0.05, 4.0, 1000), rng.uniform(0.5, 5.0, 1000)
    function = gradient_function(data_op())
    assert uses_slopes(function)
    root, d_theta, d_x = function(theta, x)
    expected_theta, expected_x = closed_form_slopes(root, theta, x)
    np.testing.assert_allclose(d_theta, expected_theta, rtol=1e-13)
    np.testing.assert_allclose(d_x, expected_x, rtol=1e-13)


def test_an_element_gets_the_same_slopes_wherever_it_sits():
    # every lane of a block takes the vector code: the first and last three once took
    # a scalar exp (LLVM peeled them off a loop over a tuple), a bit off the others
    rng = np.random.default_rng(4)
    function = gradient_function(data_op())
    for theta, x in rng.uniform([0.05, 0.5], [4.0, 5.0], size=(20, 2)):
        _, d_theta, d_x = function(np.full(200, theta), np.full(200, x))
        assert np.unique(d_theta).size == 1 and np.unique(d_x).size == 1
        assert np.isfinite(d_theta).all() and np.isfinite(d_x).all()


def test_the_second_derivative_follows_the_root_once():
    theta, x = pt.dscalar("theta"), pt.dvector("x")
    cost = (data_op()(theta, x) ** 2).sum()
    gradient = pytensor.grad(cost, theta)
    first = pytensor.function([theta, x], gradient)
    second = pytensor.function([theta, x], pytensor.grad(gradient, theta))
    data, step = np.linspace(0.5, 5.0, 50), 1e-5
    central = (first(1.3 + step, data) - first(1.3 - step, data)) / (2 * step)
    assert second(1.3, data) == pytest.approx(central, rel=1e-7)


def test_failed_elements_have_nan_slopes_and_float32_stays_float32():
    function = gradient_function(data_op())
    _, d_theta, d_x = function(np.array([1.3, np.nan, -1.0]), np.array([2.0, 2.0, 2.0]))
    assert np.isfinite(d_theta[0]) and np.isnan(d_theta[1:]).all() and np.isnan(d_x[1:]).all()
    single = gradient_function(data_op(), dtype="float32")
    values = [np.array([0.7, 2.5], dtype="float32"), np.array([1.0, 4.0], dtype="float32")]
    outputs = single(*values)
    assert all(output.dtype == np.float32 for output in outputs)
    expected = function(*(v.astype(float) for v in values))
    for output, wanted in zip(outputs, expected, strict=True):
        np.testing.assert_allclose(output, wanted, rtol=1e-6)


@pytest.mark.parametrize("mode", ["NUMBA", "JAX"])
def test_numba_and_jax_backends_take_the_graph(mode):
    if mode == "JAX":
        pytest.importorskip("jax")
    theta, x = np.array([0.3, 1.3, 3.0]), np.array([0.5, 2.0, 5.0])
    function = gradient_function(data_op(), mode=mode)
    assert not uses_slopes(function)
    for value, expected in zip(
        function(theta, x), gradient_function(data_op())(theta, x), strict=True
    ):
        np.testing.assert_allclose(value, expected, rtol=1e-13)


def test_python_perform_gives_the_c_values():
    theta, x = np.linspace(0.1, 3.0, 150), np.linspace(0.5, 5.0, 150)
    in_python = gradient_function(data_op(), mode=Mode(linker="py", optimizer="fast_run"))
    assert uses_slopes(in_python)
    in_c = gradient_function(data_op())(theta, x)
    np.testing.assert_allclose(in_c[1:], closed_form_slopes(in_c[0], theta, x), rtol=1e-13)
    for value, expected in zip(in_python(theta, x), in_c, strict=True):
        np.testing.assert_array_equal(value, expected)


def test_partials_compiled_code_cannot_evaluate_leave_the_graph(monkeypatch, rebuilt_problems):
    import implicitop._codegen as codegen

    monkeypatch.setattr(codegen, "kernel_printable", lambda expr: False)
    theta, x = np.array([0.3, 1.3]), np.array([0.5, 5.0])
    function = gradient_function(data_op())
    assert not uses_slopes(function)
    root, d_theta, d_x = function(theta, x)
    expected_theta, expected_x = closed_form_slopes(root, theta, x)
    np.testing.assert_allclose(d_theta, expected_theta, rtol=1e-13)
    np.testing.assert_allclose(d_x, expected_x, rtol=1e-13)


def test_a_scalar_root_keeps_the_fused_graph():
    # a call of the slopes' op costs more than PyTensor's fused arithmetic for a few
    # elements: the seed model's logp+dlogp took 8.1-8.4 us with it against 7.4 without
    op = make_implicit_op(MU + MU * sp.exp(THETA * MU) - 1, MU, THETA)
    theta = pt.dscalar("theta")
    root = op(theta)
    function = pytensor.function([theta], [root, pytensor.grad(root, theta)])
    assert not uses_slopes(function)
    value, slope = function(0.8)
    growth = np.exp(0.8 * value)
    assert slope == pytest.approx(-(value * value * growth) / (1 + growth * (1 + 0.8 * value)))


def test_derivatives_the_graph_does_not_use_are_not_computed():
    # a model differentiates in its parameters, not in its data (x here)
    theta, x = pt.dvector("theta"), pt.dvector("x")
    root = data_op()(theta, x)
    function = pytensor.function([theta, x], pytensor.grad(root.sum(), theta))
    (node,) = slopes_nodes(function)
    assert node.op.wanted == (0,) and len(node.outputs) == 2  # the roots and dmu/dtheta
    values = np.array([0.3, 1.3, 3.0]), np.array([0.5, 2.0, 5.0])
    roots, expected, _ = gradient_function(data_op())(*values)
    np.testing.assert_allclose(expected, closed_form_slopes(roots, *values)[0], rtol=1e-13)
    np.testing.assert_array_equal(function(*values), expected)
    python = pytensor.function(
        [theta, x], pytensor.grad(root.sum(), theta), mode=Mode(linker="py", optimizer="fast_run")
    )
    np.testing.assert_array_equal(python(*values), expected)


def test_matrices_and_a_transposed_input():
    theta, x = pt.dmatrix("theta"), pt.dmatrix("x")
    root = data_op()(theta.T, x)  # a view with other strides: copied in C order
    function = pytensor.function(
        [theta, x], [root, *pytensor.grad((root * root).sum(), [theta, x])]
    )
    assert uses_slopes(function)
    rng = np.random.default_rng(5)
    thetas, xs = rng.uniform(0.1, 3.0, (40, 30)), rng.uniform(0.5, 5.0, (30, 40))
    root, d_theta, d_x = function(thetas, xs)
    expected_theta, expected_x = closed_form_slopes(root, thetas.T, xs)
    np.testing.assert_allclose(d_theta, (2 * root * expected_theta).T, rtol=1e-13)
    np.testing.assert_allclose(d_x, 2 * root * expected_x, rtol=1e-13)


WITHOUT_FUSION = pytensor.compile.mode.get_default_mode().excluding("implicitop_roots_with_slopes")


@pytest.mark.parametrize("size", [100, 3 * THREADED_FROM + 5])
@pytest.mark.parametrize("threads", ["1", "3"])
def test_roots_and_slopes_in_one_node_are_the_two_nodes_values(monkeypatch, size, threads):
    # each part of a batch gets its derivatives from the thread that solved its roots
    monkeypatch.setenv("IMPLICITOP_NUM_THREADS", threads)
    rng = np.random.default_rng(6)
    theta, x = rng.uniform(0.05, 4.0, size), rng.uniform(0.5, 5.0, size)
    theta[::97] = np.nan
    fused, apart = gradient_function(data_op()), gradient_function(data_op(), WITHOUT_FUSION)
    assert slopes_nodes(fused, ImplicitRootsAndSlopes) and not slopes_nodes(fused, ImplicitSlopes)
    assert slopes_nodes(apart, ImplicitSlopes)
    values = fused(theta, x)
    for value, expected in zip(values, apart(theta, x), strict=True):
        np.testing.assert_array_equal(value, expected)
    assert np.isnan(values[1][::97]).all() and np.isfinite(values[1][1::97]).all()
    np.testing.assert_allclose(
        values[1][1::97], closed_form_slopes(values[0], theta, x)[0][1::97], rtol=1e-13
    )


def test_roots_and_slopes_stay_apart_where_the_op_raises_or_gives_float32():
    raising = make_implicit_op(
        MU + MU * sp.exp(THETA * MU * X) - 1, MU, [THETA, X], on_failure="raise"
    )
    for function in (gradient_function(raising), gradient_function(data_op(), dtype="float32")):
        assert slopes_nodes(function, ImplicitSlopes)
        assert not slopes_nodes(function, ImplicitRootsAndSlopes)


@pytest.mark.parametrize(("count", "fused"), [(31, True), (32, False)])
def test_roots_and_slopes_join_only_where_both_nodes_have_c_code(count, fused):
    """The op's C code takes up to 32 inputs, the derivatives' node the roots and up to
    31 parameters: 31 parameters give one node, 32 the op's C code beside the
    derivatives' Python. ``x = w_1 + ... + w_k``: every derivative is 1."""
    x = sp.Symbol("x", real=True)
    weights = sp.symbols(f"w0:{count}", real=True)
    op = make_implicit_op(x - sum(weights), x, list(weights))
    inputs = [pt.dvector(w.name) for w in weights]
    root = op(*inputs)
    function = pytensor.function(inputs, [root, *pytensor.grad(root.sum(), inputs)])
    assert bool(slopes_nodes(function, ImplicitRootsAndSlopes)) == fused
    assert bool(slopes_nodes(function, ImplicitSlopes)) != fused
    # the op's node has C code either way, the derivatives' node up to 31 parameters
    assert has_c_code(op.solver, False, "float64", count)
    assert has_slopes_c_code("float64", 1 + count) == fused
    values = [np.linspace(0.5, 1.5, 20) + i for i in range(count)]
    root_value, *slopes = function(*values)
    np.testing.assert_allclose(root_value, np.sum(values, axis=0), rtol=1e-14)
    np.testing.assert_array_equal(slopes, np.ones((count, 20)))
