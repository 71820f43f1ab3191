"""The PyTensor op: inputs, broadcasting, gradients, second derivatives."""

import numpy as np
import pymc as pm
import pytensor
import pytensor.tensor as pt
import pytest
import sympy as sp
from pytensor.graph.utils import MethodNotDefined
from scipy import special

from catalogue import (
    build_kepler,
    build_lambert,
    build_seed,
    kepler_gradient,
    kepler_root,
    seed_derivative,
    seed_root,
)
from implicitop import make_implicit_op
from implicitop._solvers.parallel import THREADED_FROM


@pytest.fixture(scope="module")
def seed():
    return build_seed()


@pytest.fixture(scope="module")
def kepler():
    return build_kepler()


@pytest.mark.parametrize(
    "value",
    [0.4, np.float64(0.4), np.array(0.4), np.array([0.4, 2.0]), np.full((2, 3), 0.4)],
    ids=["float", "numpy-scalar", "0d-array", "vector", "matrix"],
)
def test_numbers_and_arrays_give_the_reference_roots(seed, value):
    result = seed(value).eval()
    assert result.shape == np.shape(value)
    np.testing.assert_allclose(result, np.vectorize(seed_root)(value), rtol=1e-13)


def test_shared_variables_and_pm_data_are_inputs(seed):
    shared = pytensor.shared(np.array([0.2, 5.0]))
    np.testing.assert_allclose(seed(shared).eval(), [seed_root(0.2), seed_root(5.0)], rtol=1e-13)
    with pm.Model():
        data = pm.Data("theta_data", np.array([1.0, 3.0, 7.0]))
        mu = seed(data)
        np.testing.assert_allclose(mu.eval(), [seed_root(v) for v in (1.0, 3.0, 7.0)], rtol=1e-13)
        pm.set_data({"theta_data": np.array([0.5])})
        np.testing.assert_allclose(mu.eval(), [seed_root(0.5)], rtol=1e-13)


def test_inputs_broadcast_and_gradients_sum_back(kepler):
    e = pt.dscalar("e")
    mean_anomaly = pt.dmatrix("M")
    anomaly = kepler(e, mean_anomaly)
    grad_e, grad_m = pytensor.grad(anomaly.sum(), [e, mean_anomaly])
    function = pytensor.function([e, mean_anomaly], [anomaly, grad_e, grad_m])
    ms = np.linspace(-2, 3, 12).reshape(3, 4)
    values, d_e, d_m = function(0.6, ms)
    assert values.shape == (3, 4) and d_m.shape == (3, 4) and np.shape(d_e) == ()
    expected = np.array([[kepler_gradient(0.6, m) for m in row] for row in ms])
    np.testing.assert_allclose(values, np.vectorize(kepler_root)(0.6, ms), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(d_e, expected[..., 0].sum(), rtol=1e-10)
    np.testing.assert_allclose(d_m, expected[..., 1], rtol=1e-10)


def test_the_c_op_reads_every_layout_of_its_inputs(kepler):
    # Inputs that are one value or C-contiguous are copied into the parameter rows
    # directly, the others through NumPy's broadcasting iterator: the same roots as
    # the Python solve, whatever the layout.
    e, mean_anomaly = pt.dmatrix("e"), pt.dmatrix("M")
    function = pytensor.function([e, mean_anomaly], kepler(e, mean_anomaly))
    ms = np.linspace(-2, 3, 24).reshape(4, 6)
    layouts = [
        (np.full((1, 1), 0.6), ms),  # one value and contiguous: directly
        (np.linspace(0.1, 0.9, 24).reshape(4, 6), ms),  # both contiguous: directly
        (np.full((1, 1), 0.6), ms.T),  # transposed: the iterator
        (np.linspace(0.1, 0.9, 6).reshape(1, 6), ms),  # a row broadcast: the iterator
        (np.full((1, 1), 0.6), np.linspace(-2, 3, 48).reshape(4, 12)[:, ::2]),  # strided
    ]
    for es, values in layouts:
        expected = kepler.solve(*np.broadcast_arrays(es, values)).root
        np.testing.assert_array_equal(function(es, values), expected)


def test_static_shapes_broadcast(kepler):
    output = kepler(pt.dvector("e", shape=(5,)), pt.dmatrix("M", shape=(1, None)))
    assert output.type.shape == (1, 5)
    assert output.dtype == "float64"


def test_second_derivative_matches_central_differences_of_the_seed_formula(seed):
    theta = pt.dvector("theta")
    hessian = pytensor.function([theta], pytensor.gradient.hessian(seed(theta).sum(), theta))
    values = np.array([0.05, 0.4, 3.0, 40.0])
    steps = 1e-5 * values
    expected = (
        np.vectorize(seed_derivative)(values + steps)
        - np.vectorize(seed_derivative)(values - steps)
    ) / (2 * steps)
    np.testing.assert_allclose(hessian(values), np.diag(expected), rtol=1e-6, atol=1e-300)


def test_grad_of_grad_for_lambert_w_matches_the_closed_form():
    op = build_lambert()
    x = pt.dscalar("x")
    first = pytensor.grad(op(x), x)
    second = pytensor.function([x], pytensor.grad(first, x))
    for value in (0.1, 1.0, 30.0):
        w = special.lambertw(value).real
        # d2W/dx2 = -W^2 (W + 2) / (x^2 (1 + W)^3)
        expected = -(w**2) * (w + 2) / (value**2 * (1 + w) ** 3)
        np.testing.assert_allclose(second(value), expected, rtol=1e-10)


def test_float32_inputs_give_float32_outputs(seed):
    theta = pt.fvector("theta")
    output = seed(theta)
    assert output.dtype == "float32"
    gradient = pytensor.grad(output.sum(), theta)
    assert gradient.dtype == "float32"
    values = output.eval({theta: np.array([0.4], dtype="float32")})
    np.testing.assert_allclose(values, [seed_root(0.4)], rtol=1e-6)


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ((), "takes 1 input"),
        ((0.4, 0.5), "takes 1 input"),
        ((pt.zvector("theta"),), "dtype complex128"),
        ((np.array([True, False]),), "dtype bool"),
        ((True,), "boolean"),
        (("theta",), "must be a tensor, number or array"),
    ],
)
def test_bad_call_input_gets_a_clear_error(seed, inputs, message):
    with pytest.raises(TypeError, match=message):
        seed(*inputs)


def test_python_ints_are_taken_as_floats(seed):
    assert float(seed(2).eval()) == pytest.approx(seed_root(2.0), rel=1e-13)


def test_integer_data_is_taken_as_arithmetic_takes_it(seed):
    """Data such as counts comes as integers (``pm.Data`` of an ``int64`` array): the
    op takes it as ``theta + 0.0`` would, and its gradient is the float input's."""
    theta = pt.lvector("theta")
    root = seed(theta)
    assert root.dtype == "float64"
    function = pytensor.function([theta], [root, pytensor.grad(root.sum(), theta)])
    values = np.array([1, 2, 3, 40])  # theta > 0
    roots, slopes = function(values)
    np.testing.assert_allclose(roots, [seed_root(v) for v in values], rtol=1e-13)
    np.testing.assert_allclose(slopes, [seed_derivative(v) for v in values], rtol=1e-12)


@pytest.mark.parametrize(("integer", "expected"), [("int8", "float32"), ("int64", "float64")])
def test_integer_data_beside_float32_takes_pytensors_upcast(kepler, integer, expected):
    # int8 fits float32 exactly, int64 does not: float32 + int64 is float64 in PyTensor
    eccentricity, anomaly = pt.fvector("e"), pt.vector("M", dtype=integer)
    root = kepler(eccentricity, anomaly)
    assert root.dtype == expected
    function = pytensor.function(
        [eccentricity, anomaly], [root, *pytensor.grad(root.sum(), [eccentricity, anomaly])]
    )
    es, anomalies = np.array([0.1, 0.5, 0.9], dtype="float32"), np.array([1, 2, 3])
    roots, d_e, d_anomaly = function(es, anomalies.astype(integer))
    rtol = 1e-6 if expected == "float32" else 1e-13
    expected_roots = [kepler_root(float(e), float(m)) for e, m in zip(es, anomalies, strict=True)]
    np.testing.assert_allclose(roots, expected_roots, rtol=rtol)
    slopes = [kepler_gradient(float(e), float(m)) for e, m in zip(es, anomalies, strict=True)]
    np.testing.assert_allclose(d_e, [slope[0] for slope in slopes], rtol=1e-5)  # as e: float32
    np.testing.assert_allclose(d_anomaly, [slope[1] for slope in slopes], rtol=100 * rtol)


def test_failed_elements_have_nan_gradients(seed):
    theta = pt.dvector("theta")
    gradient = pytensor.function([theta], pytensor.grad(seed(theta).sum(), theta))
    values = gradient(np.array([0.4, np.nan, -1.0]))
    assert np.isfinite(values[0]) and np.isnan(values[1:]).all()


def test_compiled_graph_and_solve_agree_bit_for_bit(seed):
    """perform's one-kernel path and the full solver must give the same bits."""
    theta = pt.dvector("theta")
    function = pytensor.function([theta], seed(theta))
    values = np.concatenate([np.geomspace(1e-5, 1e5, 400), [45.263456176258764, 76879.9197646]])
    np.testing.assert_array_equal(function(values), seed.solve(values).root)
    scalar = pt.dscalar("theta")
    one = pytensor.function([scalar], seed(scalar))
    for value in values[::40]:
        assert float(one(value)) == float(seed.solve(value).root)


def test_the_c_backend_runs_the_op_in_c_on_both_sides_of_the_thread_threshold(kepler):
    e, m = pt.dvector("e"), pt.dmatrix("m")
    node = kepler(e, m).owner
    sub = {"params": "params", "fail": "fail;"}
    assert "implicitop_solve" in node.op.c_code(node, "node", ["e", "m"], ["out"], sub)
    function = pytensor.function([e, m], kepler(e, m))
    rng = np.random.default_rng(11)
    for rows in (3, 4000):  # 3 x 4: the kernel from C; 4000 x 4: threads from C too
        eccentricity = rng.uniform(0.0, 0.95, 4)
        anomaly = rng.uniform(-np.pi, np.pi, (rows, 4))
        np.testing.assert_array_equal(
            function(eccentricity, anomaly), kepler.solve(eccentricity, anomaly).root
        )
    single_e, single_m = pt.fvector("e"), pt.fvector("m")
    single = pytensor.function([single_e, single_m], kepler(single_e, single_m))
    values = single(np.float32([0.1, 0.5]), np.float32([1.0, -2.0]))
    assert values.dtype == np.float32
    np.testing.assert_allclose(values, kepler.solve([0.1, 0.5], [1.0, -2.0]).root, rtol=1e-6)
    raising = make_implicit_op(kepler.residual, kepler.unknown, kepler.params, on_failure="raise")
    node = raising(e, m).owner
    with pytest.raises(MethodNotDefined):
        node.op.c_code(node, "node", ["e", "m"], ["out"], sub)


def test_the_c_op_shares_large_batches_alike_on_any_thread_count(seed, monkeypatch):
    """The C op builds a large batch's job itself and shares it with helper threads (or
    claims every chunk alone): the same bits as the solver's, on 1 to 3 threads."""
    theta = pt.dvector("theta")
    function = pytensor.function([theta], seed(theta))
    rng = np.random.default_rng(12)
    values = np.exp(rng.uniform(np.log(1e-3), np.log(1e3), 3 * THREADED_FROM + 5))
    values[::997] = np.nan
    expected = seed.solve(values).root
    assert np.isnan(expected[::997]).all() and np.isfinite(expected[1::997]).all()
    for count in ("1", "2", "3"):
        monkeypatch.setenv("IMPLICITOP_NUM_THREADS", count)
        np.testing.assert_array_equal(function(values), expected)


def test_more_parameters_than_numpy_broadcasts_at_once_run_in_python():
    x = sp.Symbol("x", real=True)
    weights = sp.symbols("w0:33", real=True)
    op = make_implicit_op(x - sum(weights), x, list(weights))
    inputs = [pt.dvector(w.name) for w in weights]
    function = pytensor.function(inputs, op(*inputs))
    values = [np.full(3, 0.5 + i) for i in range(33)]
    np.testing.assert_allclose(function(*values), np.full(3, sum(0.5 + i for i in range(33))))


def test_the_c_code_version_covers_the_parameters_each_node_is_given(monkeypatch):
    from pytensor.scalar import int64

    from implicitop._pytensor import c_implementation

    before = c_implementation.version()
    monkeypatch.setitem(c_implementation.FIELDS, "another_setting", int64)
    assert c_implementation.version() != before
