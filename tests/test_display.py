"""How an op shows itself: LaTeX and HTML in Jupyter, and the picture of its root."""

import numpy as np
import pytest
import sympy as sp
from matplotlib.figure import Figure

from catalogue import (
    SYSTEMS,
    build_circle_line,
    build_seed,
    circle_line_gradient,
    circle_line_root,
)
from implicitop import SolveStatus, make_implicit_op
from implicitop._plotting import curve_data
from references import seed_derivative, seed_root

u, t = sp.symbols("u t", real=True)
mu, theta, x = sp.symbols("mu theta x", positive=True)


def test_latex_shows_the_equation_and_the_derivative():
    op = build_seed()
    latex = op._repr_latex_()
    assert latex.startswith("$$") and latex.endswith("$$")
    assert sp.latex(op.residual) + " &= 0" in latex
    assert r"\frac{\partial \mu}{\partial \theta} &= " + sp.latex(op.derivative) in latex


def test_html_lists_domains_derivatives_and_options():
    op = make_implicit_op(sp.exp(u) - t, u, t, bracket=(-5.0, 5.0), on_failure="raise")
    page = op._repr_html_()
    assert "ImplicitOp for PyTensor" in page
    assert r"\(u \in [-5, 5]\)" in page  # searched inside the bracket
    assert r"\(t \in (-\infty, \infty)\)" in page
    assert "bracket=(-5.0, 5.0)" in page and "on_failure=&#x27;raise&#x27;" in page
    seed_page = build_seed()._repr_html_()
    assert r"\(\mu \in (0, \infty)\)" in seed_page


def test_a_systems_display_has_every_partial_derivative():
    problem = next(p for p in SYSTEMS if p.name == "circle_line")
    op = problem.build()
    latex = op._repr_latex_()
    assert latex.count(r"\frac{\partial") == len(op.unknown) * len(op.params)


def test_curve_data_are_the_roots_and_derivatives_along_the_range():
    data = curve_data(build_seed(), {"theta": (1e-3, 1e3)}, points=13)
    assert data.log_scaled
    np.testing.assert_allclose(data.values, np.geomspace(1e-3, 1e3, 13), rtol=1e-15)
    np.testing.assert_allclose(data.roots[:, 0], [seed_root(v) for v in data.values], rtol=1e-13)
    expected = [seed_derivative(v) for v in data.values]
    np.testing.assert_allclose(data.derivatives[:, 0], expected, rtol=1e-10)
    assert not data.failed.any() and data.failures() == {}


def test_curve_data_vary_one_parameter_and_hold_the_others():
    op = make_implicit_op(mu + mu * sp.exp(theta * mu * x) - 1, mu, [theta, x])
    data = curve_data(op, {"x": (0.5, 5.0)}, vary="x", at={"theta": 2.0}, points=10)
    assert not data.log_scaled and data.fixed == {theta: 2.0}
    np.testing.assert_allclose(data.values, np.linspace(0.5, 5.0, 10))
    roots = [seed_root(2.0 * v) for v in data.values]
    np.testing.assert_allclose(data.roots[:, 0], roots, rtol=1e-13)
    # mu = seed_root(theta * x): d mu / d x = theta * seed_derivative(theta * x)
    slopes = [2.0 * seed_derivative(2.0 * v) for v in data.values]
    np.testing.assert_allclose(data.derivatives[:, 0], slopes, rtol=1e-10)
    default = curve_data(op, points=3)  # x held at the middle of (1e-5, 1e5): 1
    assert default.parameter == theta and default.fixed == {x: pytest.approx(1.0)}


def test_failures_are_marked_with_their_reason():
    op = make_implicit_op(sp.exp(u) - t, u, t)  # a root log(t) for t > 0 only
    data = curve_data(op, {"t": (-2.0, 2.0)}, points=9)
    negative, positive = data.values < 0, data.values > 0
    # t = 0: exp(u) underflows to exactly 0 for u < -745, a plateau of zeros, no root
    expected = {SolveStatus.NO_SIGN_CHANGE: int(negative.sum()), SolveStatus.NOT_A_ROOT: 1}
    assert data.failures() == expected
    failed = ~positive
    assert np.isnan(data.roots[failed]).all() and np.isnan(data.derivatives[failed]).all()
    np.testing.assert_allclose(data.roots[positive, 0], np.log(data.values[positive]))
    figure = op.plot({"t": (-2.0, 2.0)}, points=9)
    assert isinstance(figure, Figure)
    root_axes, slope_axes = figure.axes
    curve = root_axes.lines[0].get_ydata()
    np.testing.assert_array_equal(np.isnan(curve), np.isnan(data.roots[:, 0]))
    np.testing.assert_allclose(slope_axes.lines[0].get_ydata()[positive], 1 / data.values[positive])
    labels = [text.get_text() for text in root_axes.get_legend().get_texts()]
    assert labels == [f"no sign change ({negative.sum()})", "not a root (1)"]


def test_a_system_gives_every_unknown_and_plots_one_row_each():
    op = build_circle_line()
    data = curve_data(op, {"r": (0.5, 3.0)}, vary="r", at={"a": 0.7}, points=6)
    for value, roots, slopes in zip(data.values, data.roots, data.derivatives, strict=True):
        np.testing.assert_allclose(roots, circle_line_root(value, 0.7), rtol=1e-10)
        np.testing.assert_allclose(slopes, circle_line_gradient(value, 0.7)[:, 0], rtol=1e-9)
    figure = op.plot(points=5)
    assert len(figure.axes) == 2 * len(op.unknown)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"vary": "phi"}, "not a parameter"),
        ({"at": {"phi": 1.0}}, "unknown parameter"),
        ({"points": 1}, "at least 2"),
        ({"ranges": {"theta": (-1.0, 1.0)}}, "lie in its domain"),
    ],
)
def test_bad_plot_arguments_get_a_clear_error(kwargs, message):
    with pytest.raises(ValueError, match=message):
        curve_data(build_seed(), **kwargs)


def test_the_figure_shows_in_jupyter_as_a_png():
    png = build_seed().plot(points=5)._repr_png_()
    assert png.startswith(b"\x89PNG") and len(png) > 10_000
