"""The property-test harness: its strategies, and that it catches wrong ops."""

import math

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings

from catalogue import build_seed
from implicitop import ImplicitOp, make_implicit_op
from implicitop.testing import check_implicit_op, check_point, parameter_points, parameter_strategy

theta = sp.Symbol("theta", positive=True)
real = sp.Symbol("r", real=True)


def test_wide_positive_ranges_are_drawn_log_uniformly():
    drawn = []

    @settings(max_examples=300, database=None)
    @given(parameter_strategy(theta, (1e-5, 1e5)))
    def collect(value):
        drawn.append(value)

    collect()
    assert min(drawn) >= 1e-5 and max(drawn) <= 1e5
    decades = {math.floor(math.log10(v)) for v in drawn}
    assert len(decades) >= 8  # uniform draws would almost all lie in 1e4 ... 1e5


def test_defaults_come_from_assumptions():
    @settings(max_examples=50, database=None)
    @given(parameter_points([theta, real]))
    def in_range(point):
        assert 1e-5 <= point[0] <= 1e5 and -10 <= point[1] <= 10

    in_range()


@pytest.mark.parametrize(
    ("symbol", "bounds", "message"),
    [(theta, (-1.0, 1.0), "domain"), (real, (2.0, 1.0), "lo < hi")],
)
def test_bad_ranges_are_refused(symbol, bounds, message):
    with pytest.raises(ValueError, match=message):
        parameter_strategy(symbol, bounds)


def test_unknown_range_names_are_refused():
    with pytest.raises(ValueError, match="unknown parameter"):
        parameter_points([theta], {"phi": (1.0, 2.0)})


class _SlightlyWrongGradient(ImplicitOp):
    def L_op(self, inputs, outputs, output_grads):
        return [1.001 * g for g in super().L_op(inputs, outputs, output_grads)]


def test_a_gradient_off_by_a_tenth_of_a_percent_is_caught():
    seed = build_seed()
    wrong = _SlightlyWrongGradient(seed.problem, seed.options)
    with pytest.raises(AssertionError, match="disagrees with central differences"):
        check_point(wrong, (0.4,))
    with pytest.raises(AssertionError, match="disagrees with central differences"):
        check_implicit_op(wrong, {"theta": (1e-5, 1e5)}, max_examples=5)


def test_a_point_without_a_root_is_reported():
    x, t = sp.symbols("x t", real=True)
    op = make_implicit_op(x**2 + 1 - t, x, t)
    with pytest.raises(AssertionError, match=r"no root at t=0\.5"):
        check_point(op, (0.5,))
    check_point(op, (5.0,))
    assert np.isfinite(op.solve(5.0).root)


class _NanGradient(ImplicitOp):
    def L_op(self, inputs, outputs, output_grads):
        return [g * np.nan for g in super().L_op(inputs, outputs, output_grads)]


def test_a_nan_gradient_is_caught_with_the_point_named():
    seed = build_seed()
    wrong = _NanGradient(seed.problem, seed.options)
    with pytest.raises(AssertionError, match=r"gradient \[\[nan\]\] disagrees .* theta=0\.4"):
        check_point(wrong, (0.4,))
