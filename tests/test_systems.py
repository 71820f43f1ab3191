"""Systems of equations: shapes, symbolic pieces, failures (values: test_catalogue)."""

import warnings

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
import sympy as sp

from catalogue import build_circle_line, circle_line_gradient, circle_line_root
from implicitop import SolveStatus, make_implicit_op
from references import BADLY_SCALED_EQUILIBRIUM, equilibrium_reference, log_gradient_by_differences


def test_symbolic_pieces_of_the_circle_line_system():
    op = build_circle_line()
    x, y = op.unknown
    r, a = op.params
    assert op.jacobian == sp.Matrix([[2 * x, 2 * y], [-a, 1]])
    derivative = op.derivative.subs({x: r / sp.sqrt(1 + a**2), y: a * r / sp.sqrt(1 + a**2)})
    numeric = np.array(derivative.subs({r: 2.0, a: 0.5}).evalf(), dtype=float)
    np.testing.assert_allclose(numeric, circle_line_gradient(2.0, 0.5), rtol=1e-12)


def test_outputs_broadcast_and_gradients_sum_back():
    op = build_circle_line()
    r = pt.dvector("r")
    a = pt.dscalar("a")
    x, y = op(r, a)
    cost = (x + 2 * y).sum()
    grad_r, grad_a = pytensor.grad(cost, [r, a])
    function = pytensor.function([r, a], [x, y, grad_r, grad_a])
    radii = np.array([0.5, 1.0, 3.0])
    xs, ys, d_r, d_a = function(radii, 0.7)
    expected = np.array([circle_line_root(v, 0.7) for v in radii])
    np.testing.assert_allclose(np.stack([xs, ys], axis=1), expected, rtol=1e-13)
    gradients = np.array([circle_line_gradient(v, 0.7) for v in radii])
    weights = np.array([1.0, 2.0])
    np.testing.assert_allclose(d_r, weights @ gradients[:, :, 0].T, rtol=1e-10)
    np.testing.assert_allclose(d_a, (weights @ gradients[:, :, 1].T).sum(), rtol=1e-10)


def test_gradient_of_one_output_ignores_the_other():
    op = build_circle_line()
    r, a = pt.dscalars("r", "a")
    _, y = op(r, a)
    function = pytensor.function([r, a], pytensor.grad(y, [r, a]))
    np.testing.assert_allclose(function(2.0, 0.5), circle_line_gradient(2.0, 0.5)[1], rtol=1e-12)


def test_second_derivatives_of_a_system():
    op = build_circle_line()
    r, a = pt.dscalars("r", "a")
    x, _ = op(r, a)
    d2x_da2 = pytensor.function([r, a], pytensor.grad(pytensor.grad(x, a), a))
    # x = r (1 + a^2)^(-1/2)  =>  d2x/da2 = r (2 a^2 - 1) (1 + a^2)^(-5/2)
    for radius, slope in [(2.0, 0.5), (1.0, 3.0)]:
        expected = radius * (2 * slope**2 - 1) * (1 + slope**2) ** -2.5
        np.testing.assert_allclose(d2x_da2(radius, slope), expected, rtol=1e-10)


def test_systems_without_a_root_give_nan_per_element():
    x, y = sp.symbols("x y", real=True)
    c = sp.Symbol("c", real=True)
    # circle of radius^2 c meets the line y = 2: no real root when c < 4
    op = make_implicit_op([x**2 + y**2 - c, y - 2], [x, y], c, x0=(1.0, 1.0))
    result = op.solve(np.array([8.0, 1.0]))
    np.testing.assert_allclose(np.abs(result.root[0]), [2.0, 2.0], rtol=1e-12)
    assert np.isnan(result.root[1]).all()
    assert result.status[1] in {SolveStatus.NO_PROGRESS, SolveStatus.SINGULAR_JACOBIAN}


@pytest.mark.parametrize(
    ("residuals", "unknowns", "options", "error", "message"),
    [
        (["x + y - a", "x - y"], ["x", "y", "z"], {}, ValueError, "not square"),
        (["x + y - a", "2*x + 2*y - 2*a"], ["x", "y"], {}, ValueError, "singular"),
        (["x + y - a", "x - y"], ["x", "x"], {}, ValueError, "repeat"),
        (["x + y - a", "x - y"], ["x", "y"], {"bracket": (0, 1)}, ValueError, "one equation"),
        (["x + y - a", "x - y"], ["x", "y"], {"x0": (1.0, 2.0, 3.0)}, ValueError, "3 entries"),
    ],
)
def test_bad_systems_get_a_clear_error(residuals, unknowns, options, error, message):
    symbols = {name: sp.Symbol(name, real=True) for name in "xyza"}
    exprs = [sp.sympify(r, locals=symbols) for r in residuals]
    with pytest.raises(error, match=message):
        make_implicit_op(exprs, [symbols[u] for u in unknowns], symbols["a"], **options)


def test_a_singular_default_start_is_not_the_end():
    # real unknowns used to start at 0, where both Jacobians are singular
    x, y = sp.symbols("x y", real=True)
    r, s = sp.symbols("r s", positive=True)
    circle = make_implicit_op([x**2 + y**2 - r**2, y - s * x], [x, y], [r, s])
    radius, slope = np.array([2.0, 1.0, 5.0]), np.array([0.5, 3.0, 0.1])
    result = circle.solve(radius, slope)
    assert result.converged.all()
    expected_x = radius / np.sqrt(1 + slope**2)  # the root on the side of the start
    np.testing.assert_allclose(result.root[:, 0], expected_x, rtol=1e-12)  # tol: 1e-12
    np.testing.assert_allclose(result.root[:, 1], slope * expected_x, rtol=1e-12)
    u, v = sp.symbols("u v", real=True)
    p = sp.Symbol("p", positive=True)
    cubic = make_implicit_op([u**3 - p, v - u], [u, v], p)
    ps = np.array([8.0, 1e-3, 1e3])
    np.testing.assert_allclose(cubic.solve(ps).root, np.stack([np.cbrt(ps)] * 2, 1), rtol=1e-12)


def test_equilibrium_system_solves_across_orders_of_magnitude():
    a, b, c = sp.symbols("a b c", positive=True)
    k1, k2, total = sp.symbols("K1 K2 T", positive=True)
    op = make_implicit_op(
        [b - k1 * a**2, c - k2 * a * b, a + 2 * b + 3 * c - total], [a, b, c], [k1, k2, total]
    )
    rng = np.random.default_rng(11)
    # the two points that stopped at the first bad iterate, five where the iteration
    # wandered at the rounding floor of the mass balance (dilute: c down to 1e-21), then
    # log-uniform draws
    k1s = np.r_[
        0.01535, 0.03268, 0.491, 0.0161, 0.00177, 2.34, 0.0236, 10 ** rng.uniform(-3, 3, 400)
    ]
    k2s = np.r_[0.01878, 0.09153, 0.6, 0.00599, 406.0, 0.0166, 83.7, 10 ** rng.uniform(-3, 3, 400)]
    totals = np.r_[
        0.02088, 0.06758, 1.06e-5, 2.13e-6, 3.34e-6, 1.95e-6, 5.7e-6, 10 ** rng.uniform(-6, 2, 400)
    ]
    result = op.solve(k1s, k2s, totals)
    assert result.converged.all()
    expected = [equilibrium_reference(*point) for point in zip(k1s, k2s, totals, strict=True)]
    solved = result.converged
    np.testing.assert_allclose(result.root[solved, 0], np.array(expected)[solved], rtol=1e-10)
    np.testing.assert_allclose(
        result.root[solved, 1], k1s[solved] * result.root[solved, 0] ** 2, rtol=1e-10
    )


def test_the_gradient_of_a_badly_scaled_system_is_solved_without_warning():
    # K1 = e^-15.6, K2 = e^25.4 (where NUTS's first steps go): the adjoint system's
    # entries span dozens of decades. Solved scaled, SciPy sees a well-conditioned
    # matrix (it warned LinAlgWarning before), and the gradient matches central
    # differences of the reduced equation solved by Brent's method.
    a, b, c = sp.symbols("a b c", positive=True)
    k1, k2, total = sp.symbols("K1 K2 T", positive=True)
    op = make_implicit_op(
        [b - k1 * a**2, c - k2 * a * b, a + 2 * b + 3 * c - total], [a, b, c], [k1, k2, total]
    )
    point = np.array(BADLY_SCALED_EQUILIBRIUM)
    inputs = pt.dvector("point")
    free_a = op(inputs[0], inputs[1], inputs[2])[0]
    gradient = pytensor.function([inputs], pytensor.grad(pt.log(free_a), inputs))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        computed = gradient(point)
    np.testing.assert_allclose(computed, log_gradient_by_differences(point), rtol=1e-6)


def test_the_gradient_solved_entry_by_entry_matches_the_batched_solve(monkeypatch):
    # Systems up to ENTRYWISE_MAX unknowns solve the adjoint system in element-wise
    # operations, larger ones with PyTensor's batched solve: the same gradients, NaN
    # where an element has no root (NaN input), on the equilibrium system whose
    # Jacobian has entries that are 0 for every element.
    from implicitop._pytensor import op as op_module

    a, b, c = sp.symbols("a b c", positive=True)
    k1, k2, total = sp.symbols("K1 K2 T", positive=True)
    residuals = [b - k1 * a**2, c - k2 * a * b, a + 2 * b + 3 * c - total]
    k1s = np.array([2.0, 1e-3, 40.0, np.nan])
    inputs = pt.dvector("K1")

    def gradients() -> np.ndarray:
        op = make_implicit_op(residuals, [a, b, c], [k1, k2, total])
        free_a = op(inputs, 0.5, 0.7)[0]
        return pytensor.function([inputs], pytensor.grad(pt.log(free_a).sum(), inputs))(k1s)

    entrywise = gradients()
    monkeypatch.setattr(op_module, "ENTRYWISE_MAX", 0)
    batched = gradients()
    np.testing.assert_allclose(entrywise, batched, rtol=1e-12)
    assert np.isnan(entrywise[-1]) and np.isfinite(entrywise[:-1]).all()
    step = 1e-6 * k1s[:-1]
    central = [
        (
            np.log(equilibrium_reference(k + h, 0.5, 0.7))
            - np.log(equilibrium_reference(k - h, 0.5, 0.7))
        )
        / (2 * h)
        for k, h in zip(k1s[:-1], step, strict=True)
    ]
    np.testing.assert_allclose(entrywise[:-1], central, rtol=1e-6)
