"""The traced JAX solvers against the compiled ones, element by element: the same roots
and the same status codes, on the catalogue, the external sets and elements with no root
(bad parameters, no sign change, a bracket that must grow)."""

import numpy as np
import pytest
import sympy as sp

jax = pytest.importorskip("jax")
jnp = jax.numpy

from backends import sample_points  # noqa: E402
from black_scholes import black_scholes, black_scholes_op  # noqa: E402
from catalogue import CATALOGUE, SYSTEMS  # noqa: E402
from external_scalar import C, X, chandrupatla_cases  # noqa: E402
from external_systems import Q, scaled_start, system_cases  # noqa: E402
from implicitop import SolveStatus, make_argmin_op, make_implicit_op  # noqa: E402
from implicitop._jax import solve_function  # noqa: E402
from implicitop._jax.scalar import _flushes_to_zero  # noqa: E402
from implicitop._pytensor.jax_dispatch import _jax_function  # noqa: E402
from textbook import absorption_op, absorption_time  # noqa: E402


def assert_same_solve(op, values, traced=None):
    """``op.solve`` (compiled) and the traced solve (``traced``, or the op's jitted
    solve) agree on every element."""
    values = [np.asarray(v, dtype=float) for v in np.broadcast_arrays(*values)]
    compiled = op.solve(*values)
    traced = traced or jax.jit(solve_function(op.solver, _jax_function))
    root, code = traced(*(v.ravel() for v in values))
    root = np.asarray(root).reshape(np.shape(compiled.root))
    np.testing.assert_array_equal(np.asarray(code).reshape(compiled.status.shape), compiled.status)
    # a root at 0 among unknowns of order 1 carries their rounding
    size = np.nanmax(np.abs(compiled.root), initial=0.0)
    np.testing.assert_allclose(root, compiled.root, rtol=1e-12, atol=max(1e-12 * size, 1e-300))


def with_bad_rows(op, points):
    """``points`` and three more elements: a NaN parameter, a parameter below its
    domain (where it has a bound) and an infinite one."""
    lower = op.solver.param_domains[0].lower
    below = lower - 1.0 if np.isfinite(lower) else np.nan
    bad = [np.array([np.nan, below, np.inf])] + [np.full(3, p[0]) for p in points[1:]]
    return [np.concatenate([p, extra]) for p, extra in zip(points, bad, strict=True)]


@pytest.mark.parametrize(
    "problem", [p for p in CATALOGUE + SYSTEMS if p.jax], ids=lambda problem: problem.name
)
def test_catalogue_roots_and_statuses_agree(problem):
    op = problem.build()
    points = np.broadcast_arrays(*with_bad_rows(op, sample_points(problem, size=30)))
    traced = jax.jit(solve_function(op.solver, _jax_function))
    assert_same_solve(op, points, traced)
    # every element fails (the three bad rows repeated: the same shape, compiled once)
    assert_same_solve(op, [np.resize(p[-3:], p.shape) for p in points], traced)


def test_chandrupatla_cases_agree():
    # the first case of each function (JAX compiles the solver per bracket)
    for case in chandrupatla_cases():
        if case.case_id.endswith(".1"):
            op = make_implicit_op(case.expression, X, C, bracket=case.bracket)
            assert_same_solve(op, [np.array([0.0, -1e300, np.nan])])


#: Roots where the Jacobian is singular (sample 18: zero on a line; sample 19: a triple
#: root): the two solvers stop at different points within the rounding of the root.
SINGULAR_AT_ROOT = {"sample_18", "sample_19"}


def test_more_garbow_hillstrom_systems_with_two_unknowns_agree():
    for case in system_cases():
        if len(case.unknowns) == 2 and case.name not in SINGULAR_AT_ROOT:
            op = make_implicit_op(list(case.residuals), list(case.unknowns), Q, x0=case.start)
            assert_same_solve(op, [np.array([case.value, case.value * 1.01, np.nan])])


def test_powell_hybrid_method_agrees_where_damped_newton_stalls():
    """Boggs' system from ten times its start: damped Newton's line search stalls, and
    both solvers find the root by Powell's hybrid method."""
    (case,) = (case for case in system_cases() if case.name == "boggs")
    op = make_implicit_op(list(case.residuals), list(case.unknowns), Q, x0=scaled_start(case, 10))
    values = np.array([case.value, case.value * 1.01])
    assert op.solve(values).converged.all()
    assert_same_solve(op, [values])


def test_deep_out_of_the_money_volatilities_agree():
    """Far out-of-the-money calls with the normal CDF written either way: both solvers
    print the sums that cancel as one ``erfc`` term."""
    strikes, taus = np.array([111.17, 120.0, 150.0, 170.0]), np.array([0.209, 0.1, 0.05, 0.3])
    price, _, _ = black_scholes(np.array([0.0319, 0.05, 0.1, 0.1]), 100.0, strikes, 0.02, taus)
    for cdf in ("erf", "erfc"):  # with erfc, every one a root (sums that cancel rewritten)
        assert_same_solve(black_scholes_op(cdf), [price, 100.0, strikes, 0.02, taus])


def test_a_residual_printed_with_expm1_agrees():
    """``1 - exp(-k t) = c`` is printed as ``-expm1(-k t) - c`` in the traced solver's
    graphs too, and phase 1's candidates take Newton's steps on it there as well:
    absorption times for fractions 1e-290 to 0.1 (below 1e-290 the acceptance test's
    allowance, 1e-11 of terms near c, is subnormal, which XLA flushes to zero)."""
    rng = np.random.default_rng(4)
    rates, fractions = 10 ** rng.uniform(-3, 3, 200), 10 ** rng.uniform(-290, -1, 200)
    op = absorption_op()
    assert_same_solve(op, [rates, fractions])
    np.testing.assert_allclose(op.solve(rates, fractions).root, absorption_time(rates, fractions),
                               rtol=1e-15)  # fmt: skip


def test_where_xla_flushes_subnormals_no_inexact_root_is_called_converged():
    """Below fractions of 1e-290 the residual near the root is subnormal, which XLA's
    CPU runtime flushes to zero: the traced solver's iteration stops on that zero.
    It calls a root converged only where the zero resolves it to rounding (it called
    all 300 converged, 32 of them up to 1.6e-11 off); the others are ``NOT_A_ROOT``.
    Where subnormals are kept, every element converges, as in the compiled solver."""
    rng = np.random.default_rng(4)
    rates, fractions = 10 ** rng.uniform(-3, 3, 300), 10 ** rng.uniform(-300, -290, 300)
    op = absorption_op()
    root, code = jax.jit(solve_function(op.solver, _jax_function))(rates, fractions)
    root, code = np.asarray(root)[:, 0], np.asarray(code)
    converged = code == SolveStatus.CONVERGED
    exact = absorption_time(rates, fractions)
    np.testing.assert_allclose(root[converged], exact[converged], rtol=4.5e-16)
    assert set(code[~converged]) <= {SolveStatus.NOT_A_ROOT}
    assert np.isnan(root[~converged]).all()
    flushes = bool(jax.jit(_flushes_to_zero)(jnp.array(1.0)))
    assert converged.all() != flushes
    assert converged.sum() >= (60 if flushes else 300)  # 87 on XLA's CPU


def test_a_bracket_with_an_end_in_the_noise_agrees():
    """The scan's bracket with an end under the noise bound (``scalar.refine``): both
    solvers take the sign change inside, which the residual's rounding places only to
    its steps of 4.4e-7 here (the two evaluate ``sqrt`` apart). The traced solver took
    the bracket's end, 2e-6 away, before."""
    x = sp.Symbol("x", positive=True)
    a, one = sp.symbols("a one", positive=True)
    residual = sp.sqrt(one**2 + sp.Float(1e-9) * (x - a)) - one
    op = make_implicit_op(residual, x, [a, one], bracket=(10**-1.5, 10**-1.25))
    values = np.array([10**-1.5 + 2e-6, 10**-1.5 + 1e-6, 10**-1.25 - 2e-6, 0.04])
    compiled = op.solve(values, 1.0)
    root, code = jax.jit(solve_function(op.solver, _jax_function))(values, np.ones(4))
    np.testing.assert_array_equal(np.asarray(code), compiled.status)
    np.testing.assert_allclose(np.asarray(root)[:, 0], compiled.root, rtol=0, atol=1e-6)


def test_failures_and_brackets_agree():
    x = sp.Symbol("x", real=True)
    a, v = sp.symbols("a v", positive=True)
    values = np.array([0.01, 1.0, 10.0, 1e3])
    ops = [
        make_implicit_op(x**2 + a, x, a),  # no root: NO_SIGN_CHANGE
        make_implicit_op(1 / x - a, x, a, bracket=(-1.0, 1.0)),  # pole: NOT_A_ROOT
        make_implicit_op(x**3 - a, x, a, bracket=(a / 2, a + 1)),  # a bracket per element
        make_implicit_op(sp.cos(x) - a * x, x, a, bracket=(5, 6), expand_bracket=True),
        make_implicit_op(x**2 + a, x, a, bracket=(5, 6), expand_bracket=True),
        # a minimum's growing bracket meets the maximum at a/1000 + 5/2 first, then the
        # minimum at a/1000 - 1/2 where that is positive (a = 1e3), NOT_A_MINIMUM where not
        make_argmin_op(
            3 * (v - a / 1000 + 0.5) ** 2 / 2 - (v - a / 1000 + 0.5) ** 3 / 3,
            v,
            a,
            bracket=(5, 6),
            expand_bracket=True,
        ),
    ]
    statuses = set()
    for op in ops:
        assert_same_solve(op, [values])
        statuses |= set(op.solve(values).status.tolist())
    assert {SolveStatus.NO_SIGN_CHANGE, SolveStatus.NOT_A_ROOT} <= statuses
    assert {SolveStatus.NO_BRACKET_FOUND, SolveStatus.CONVERGED} <= statuses
    assert SolveStatus.NOT_A_MINIMUM in statuses
