"""Minima nobody here wrote: the least-squares objectives ``f = sum(R_i^2) / 2`` of the
More-Garbow-Hillstrom systems (:mod:`external_systems`) in up to three unknowns, from
the library's start, beside SciPy's ``trust-exact`` (exact gradient and Hessian) in
the same run. Each objective's minimum is where its system has a root, if it has one.

Where SciPy finds a minimum, the argmin op finds one too: as low, or (where the
objective has several) another local minimum, checked with SciPy's derivatives. The
JAX solver follows the same iteration (``test_the_jax_solver_descends_the_same_way``).
"""

import warnings

import numpy as np
import pytest
import sympy as sp
from scipy import optimize

from external_systems import Q, scaled_start, system_cases
from implicitop import SolveStatus, make_argmin_op
from implicitop._problem import off_jumps

CASES = [case for case in system_cases() if len(case.unknowns) <= 3]
#: Minima whose Hessian is singular (a triple root of the system at 0, and a whole line
#: of roots x1 = 0): stationary points, but not the strict minima the op accepts. SciPy
#: stops short of them too.
DEGENERATE = {"sample_18", "sample_19"}


def objective(case):
    return sp.Rational(1, 2) * sum(r**2 for r in case.residuals)


def scipy_minimum(case, value):
    """SciPy's trust-exact from the library's start, with the exact gradient and Hessian
    (``off_jumps``: the derivative of a step function is zero off its jump, as in the op)."""
    f = objective(case).subs(Q, value)
    u = case.unknowns
    function = sp.lambdify([u], f)
    gradient = sp.lambdify([u], [off_jumps(f.diff(x)) for x in u])
    hessian = sp.lambdify([u], sp.hessian(f, u).applyfunc(off_jumps))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = optimize.minimize(
            function,
            case.start,
            jac=lambda x: np.array(gradient(x), dtype=float),
            hess=lambda x: np.array(hessian(x), dtype=float),
            method="trust-exact",
            options={"gtol": 1e-10, "maxiter": 1000},
        )
    found = result.success and np.all(np.linalg.eigvalsh(hessian(result.x)) > 0)
    return result, found, function, gradient, hessian


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_a_minimum_is_found_where_trust_exact_finds_one(case):
    op = make_argmin_op(objective(case), list(case.unknowns), Q, x0=case.start)
    values = np.array([case.value, 1.1 * case.value + 0.1])
    result = op.solve(values)
    for k, value in enumerate(values):
        theirs, found, function, gradient, hessian = scipy_minimum(case, value)
        status = SolveStatus(int(result.status[k]))
        if case.name in DEGENERATE:
            assert status != SolveStatus.CONVERGED
            continue
        if not found:
            # a point the op calls a minimum is one: its gradient is zero to rounding
            # there and its Hessian positive definite (the op's own acceptance test)
            continue
        assert status == SolveStatus.CONVERGED, (value, theirs.x)
        ours = np.atleast_1d(result.root[k])
        if function(ours) > theirs.fun + 1e-10 * max(1.0, abs(theirs.fun)):
            # another local minimum than SciPy's: the gradient vanishes there (against
            # its size at the start) and the Hessian is positive definite
            start = np.max(np.abs(gradient(np.array(case.start, dtype=float))))
            assert np.max(np.abs(gradient(ours))) <= 1e-10 * start
            assert np.all(np.linalg.eigvalsh(np.array(hessian(ours), dtype=float)) > 0)


@pytest.mark.parametrize("name", ["rosenbrock", "boggs", "freudenstein_roth"])
def test_the_jax_solver_descends_the_same_way(name):
    jax = pytest.importorskip("jax")
    from implicitop._jax import solve_function
    from implicitop._pytensor.jax_dispatch import _jax_function

    jax.config.update("jax_enable_x64", True)
    (case,) = [case for case in CASES if case.name == name]
    op = make_argmin_op(objective(case), list(case.unknowns), Q, x0=case.start)
    values = np.array([case.value, 1.1 * case.value + 0.1])
    compiled = op.solve(values)
    root, code = jax.jit(solve_function(op.solver, _jax_function))(jax.numpy.asarray(values))
    np.testing.assert_array_equal(np.asarray(code), compiled.status)
    np.testing.assert_allclose(np.asarray(root), compiled.root, rtol=1e-9, atol=1e-12)


def test_a_valley_that_falls_on_is_not_called_a_minimum():
    """Powell's badly scaled least squares from ten times its start (MINPACK's farther
    start): its iteration reaches a valley along which the objective falls on towards
    x2 -> infinity (to 5.08e-9), and stops where the gradient, (4.1e-5, -1e-11), is two
    terms of 2.5e5 that do not cancel to their rounding (3e-11). That is no minimum:
    NaN, or the true one, f = 0 at (1.1e-5, 9.1), which trust-exact finds from there."""
    (case,) = (case for case in system_cases() if case.name == "powell_badly_scaled")
    op = make_argmin_op(objective(case), list(case.unknowns), Q, x0=scaled_start(case, 10))
    result = op.solve(case.value)
    f = sp.lambdify([case.unknowns], objective(case).subs(Q, case.value))
    if result.status == SolveStatus.CONVERGED:
        assert f(np.atleast_1d(result.root)) <= 1e-20
    else:
        assert np.isnan(result.root).all()
