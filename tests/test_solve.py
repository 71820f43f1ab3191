"""The batched, safeguarded Newton solver and its failure policy."""

import itertools
import math

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
import sympy as sp
from scipy import optimize, special

from catalogue import build_kepler, build_lambert, build_seed, seed_root
from implicitop import ImplicitSolveError, SolveStatus, make_implicit_op
from implicitop._options import ImplicitOptions
from implicitop._problem import ImplicitProblem
from implicitop._solvers import Solver
from implicitop._solvers.compiled import plain_kernels
from implicitop._solvers.scalar import (
    PHASE1_MAXITER,
    RUNNING,
    SETTLED,
    accepted,
    allowance,
    noise,
    rounding_ahead,
    surely_accepted,
)

mu = sp.Symbol("mu", positive=True)
x, t = sp.symbols("x t", real=True)
theta = sp.Symbol("theta", positive=True)


def test_positivity_keeps_iterates_in_the_domain():
    # Newton from 1 jumps to negative mu for t < -1, where log is undefined.
    op = make_implicit_op(sp.log(mu) - t, mu, t)
    ts = np.linspace(-50, 50, 201)
    result = op.solve(ts)
    assert result.converged.all()
    np.testing.assert_allclose(result.root, np.exp(ts), rtol=1e-13)


def test_divergent_newton_falls_back_to_bisection():
    # Newton on atan diverges from 0 once the root is further than ~1.39 away.
    op = make_implicit_op(sp.atan(x - t), x, t)
    ts = np.linspace(-50, 50, 101)
    np.testing.assert_allclose(op.solve(ts).root, ts, rtol=1e-12, atol=1e-12)


def test_bracket_selects_the_root_inside_it():
    op = make_implicit_op(sp.sin(x) - t, x, t, bracket=(np.pi / 2, 3 * np.pi / 2))
    ts = np.linspace(-0.99, 0.99, 41)
    np.testing.assert_allclose(op.solve(ts).root, np.pi - np.arcsin(ts), rtol=1e-13)
    unbracketed = make_implicit_op(sp.sin(x) - t, x, t)
    np.testing.assert_allclose(unbracketed.solve(ts).root, np.arcsin(ts), atol=1e-14)


def test_symbolic_initial_guess_is_used():
    w, z = sp.symbols("w z", positive=True)
    op = make_implicit_op(w * sp.exp(w) - z, w, z, x0=sp.log(1 + z))
    zs = np.geomspace(1e-3, 1e3, 50)
    np.testing.assert_allclose(op.solve(zs).root, special.lambertw(zs).real, rtol=1e-14)


def test_overflowing_residual_is_solved_from_the_default_guess():
    # exp(theta * mu) overflows at mu = 1 for theta > 710.
    thetas = np.array([1e3, 1e5, 1e10, 1e100])
    roots = build_seed().solve(thetas).root
    w = special.lambertw(thetas).real
    np.testing.assert_allclose(roots * np.exp(thetas * roots), 1 - roots, rtol=1e-12)
    np.testing.assert_allclose(roots, w / thetas, rtol=1e-3)  # mu ~ W(theta)/theta


def test_no_root_gives_nan_for_that_element_only():
    op = make_implicit_op(x**2 + 1 - t, x, t)
    result = op.solve(np.array([5.0, 0.5, 2.0]))
    np.testing.assert_allclose(result.root[[0, 2]] ** 2, [4.0, 1.0])
    assert np.isnan(result.root[1])
    assert result.status[1] == SolveStatus.NO_SIGN_CHANGE


def test_a_pole_is_not_reported_as_a_root():
    op = make_implicit_op(1 / (x - t), x, t)
    result = op.solve(np.array([0.3, -2.0]))
    assert np.isnan(result.root).all()
    assert set(result.status) <= {SolveStatus.NOT_A_ROOT, SolveStatus.NO_SIGN_CHANGE}


def test_bad_parameter_values_give_nan_with_a_reason():
    result = build_seed().solve(np.array([np.nan, np.inf, -1.0, 0.4]))
    assert list(result.status) == [
        SolveStatus.NONFINITE_PARAMETER,
        SolveStatus.NONFINITE_PARAMETER,
        SolveStatus.PARAMETER_OUTSIDE_DOMAIN,
        SolveStatus.CONVERGED,
    ]
    assert np.isnan(result.root[:3]).all() and np.isfinite(result.root[3])


@pytest.mark.parametrize(
    ("beside", "status"),
    [(0.4, SolveStatus.CONVERGED), (np.inf, SolveStatus.NONFINITE_PARAMETER),
     (-1e-300, SolveStatus.PARAMETER_OUTSIDE_DOMAIN)],
    ids=["all usable", "one not finite", "one below the bound"],
)  # fmt: skip
def test_a_parameter_on_its_domains_bound_is_used(beside, status):
    # theta >= 0, and at theta = 0 the seed's residual is 2 mu - 1: the bound is in the
    # domain whether the whole batch is usable or a row is checked on its own
    theta = sp.Symbol("theta", nonnegative=True)
    mu = sp.Symbol("mu", positive=True)
    result = make_implicit_op(mu + mu * sp.exp(theta * mu) - 1, mu, theta).solve(
        np.array([0.0, beside])
    )
    assert list(result.status) == [SolveStatus.CONVERGED, status]
    assert result.root[0] == 0.5


def test_parameters_are_checked_each_against_its_own_domain():
    # a is any real number and b positive: a = -3 lies outside b's domain, where a
    # batch's values are first checked all at once, and is still used
    a, b = sp.Symbol("a", real=True), sp.Symbol("b", positive=True)
    op = make_implicit_op(x**3 + x - a * b, x, [a, b])
    result = op.solve(np.array([-3.0, -3.0, 2.0]), np.array([2.0, -1.0, 0.5]))
    assert list(result.status) == [
        SolveStatus.CONVERGED, SolveStatus.PARAMETER_OUTSIDE_DOMAIN, SolveStatus.CONVERGED,
    ]  # fmt: skip
    roots = result.root[[0, 2]]
    np.testing.assert_allclose(roots**3 + roots, [-6.0, 1.0], rtol=1e-15)
    assert np.isnan(result.root[1])


def test_maxiter_bounds_the_work():
    lambert = build_lambert()
    op = make_implicit_op(lambert.residual, lambert.unknown, lambert.params, maxiter=2)
    result = op.solve(np.array([1e5]))
    assert result.status[0] == SolveStatus.MAXITER


def test_raise_policy_names_the_parameter_values():
    op = make_implicit_op(x**2 + 1 - t, x, t, on_failure="raise")
    t_values = pt.dvector("t")
    function = pytensor.function([t_values], op(t_values))
    with pytest.raises(ImplicitSolveError, match=r"1 of 2 element.*\n  t=0\.5: no sign change"):
        function(np.array([5.0, 0.5]))
    with pytest.raises(ImplicitSolveError) as info:
        op.solver.raise_for_failures([np.array([0.5])], op.solve(np.array([0.5])).status)
    assert info.value.failures == [({"t": 0.5}, SolveStatus.NO_SIGN_CHANGE.reason)]


def test_default_policy_gives_nan_inside_a_graph():
    op = make_implicit_op(x**2 + 1 - t, x, t)
    values = op(np.array([5.0, 0.5])).eval()
    assert values[0] ** 2 == pytest.approx(4.0) and np.isnan(values[1])


def test_steps_from_where_the_residual_nearly_overflows_still_converge():
    # for theta above ~350 the residual's slope squared overflows at the start, and the
    # step falls back to Newton's instead of vanishing (which would look settled)
    op = build_seed()
    thetas = np.geomspace(1.0, 1e5, 20_000)
    result = op.solve(thetas)
    assert (result.status == SolveStatus.CONVERGED).all()
    sample = slice(None, None, 997)
    np.testing.assert_allclose(
        result.root[sample], [seed_root(t) for t in thetas[sample]], rtol=1e-13
    )


def data_model_phase_one() -> tuple[object, Solver]:
    """The plain Python module and the solver of ``mu + mu*exp(theta*mu*x) - 1``."""
    x = sp.Symbol("x", positive=True)
    residual = mu + mu * sp.exp(theta * mu * x) - 1
    solver = Solver(ImplicitProblem.build(residual, mu, [theta, x]), ImplicitOptions())
    return plain_kernels(solver.problem, solver.starts).module, solver


def phase_one(module: object, solver: Solver, params: np.ndarray) -> tuple[int, int, float]:
    """Phase 1 alone from the default start: its steps, its outcome and its last iterate."""
    (lower,), (upper,), tol = solver.settings.lower, solver.settings.upper, solver.settings.tol
    point, previous = np.array([1.0]), np.array([np.nan])
    outcome = np.array([RUNNING], dtype=np.int8)
    steps = 0
    while outcome[0] == RUNNING and steps < PHASE1_MAXITER:
        steps += 1
        with np.errstate(all="ignore"):  # overflow at mu = 1, as in the solver
            terms = np.reshape(module.halley_terms(point[0], params), (3, 1))
            module.phase_one_block(point, previous, outcome, terms, 1, lower, upper, tol)
    return steps, int(outcome[0]), float(point[0])


@pytest.mark.parametrize("covariate", [1.0, 0.5, 5.0])
def test_halleys_method_alone_solves_exponential_residuals(covariate):
    # On R = mu + mu*exp(theta*mu*x) - 1 itself, Halley's method from mu = 1 crawls
    # down the exponential by about 2/(theta*x) per step: hundreds of steps at large
    # theta. On the log form, which phase 1 takes while the two sides of R are far
    # apart, it settles within PHASE1_MAXITER steps, back-offs from overflow at
    # mu = 1 included, for every theta*x up to 5e6.
    module, solver = data_model_phase_one()
    for value in np.geomspace(1e-3, 1e6, 37):
        _, outcome, point = phase_one(module, solver, np.array([value, covariate]))
        assert outcome == SETTLED, value
        np.testing.assert_allclose(point, seed_root(value * covariate), rtol=4e-15)


def test_newtons_steps_on_the_residual_finish_what_phase_one_leaves_in_its_split():
    """``exp(x) - 1 - t``: phase 1 iterates on ``exp(x) - (1 + t)``, where ``1 + t``
    keeps none of ``t``'s digits below 1e-16 and few above, and the residual is printed
    as ``expm1(x) - t``. Its candidates are then not roots of ``R`` to rounding; a few
    Newton steps on ``R`` in the lock-step phase finish them, so no element of the
    block is left to phase 2, and every root is ``log1p(t)`` to an ulp."""
    small = sp.Symbol("t", positive=True)  # so that 1 + t is one side of the split
    solver = Solver(ImplicitProblem.build(sp.exp(x) - 1 - small, x, [small]), ImplicitOptions())
    module = plain_kernels(solver.problem, solver.starts).module
    values = np.geomspace(1e-300, 1e-2, module.BLOCK)
    x0 = np.full((module.BLOCK, 1), solver.settings.defaults[0])
    root = np.full((module.BLOCK, 1), np.nan)
    code = np.full(module.BLOCK, SolveStatus.MAXITER, dtype=np.int8)
    owned = np.empty((module.WORK_ROWS + 1, module.BLOCK))
    settings = solver.settings
    with np.errstate(all="ignore"):
        left = module.lock_step(
            owned, x0, values[:, None], settings.lower[0], settings.upper[0],
            solver.record, root, code,
        )  # fmt: skip
    assert left == 0 and (code == SolveStatus.CONVERGED).all()
    np.testing.assert_allclose(root[:, 0], np.log1p(values), rtol=2.3e-16)


def test_phase_one_does_not_take_the_step_that_only_confirms_convergence(monkeypatch):
    """Where its last two steps show the next would be below rounding (the error falls
    as its cube), phase 1 settles without taking it: one step fewer for most elements
    of the data-sized model (a round fewer for most blocks), the same roots to rounding."""
    module, solver = data_model_phase_one()
    values = np.geomspace(0.05, 20.0, 60)
    settled = [phase_one(module, solver, np.array([value, 1.0])) for value in values]
    monkeypatch.setattr(module, "rounding_ahead", lambda step, last_step, size: False)
    confirmed = [phase_one(module, solver, np.array([value, 1.0])) for value in values]
    fewer = [b[0] - a[0] for a, b in zip(settled, confirmed, strict=True)]
    assert set(fewer) <= {0, 1} and fewer.count(1) > len(values) // 2
    for value, (_, outcome, point) in zip(values, settled, strict=True):
        assert outcome == SETTLED
        np.testing.assert_allclose(point, seed_root(value), rtol=4e-16)


@pytest.mark.parametrize(
    ("step", "last_step", "size", "expected"),
    [
        (1e-9, 1e-3, 0.5, True),  # next step about 1e-27
        (1e-9, 1e-3, 0.0, False),  # a root at 0: no rounding to reach relative to it
        (1e-9, math.nan, 0.5, False),  # the first step
        (1e-3, 1e-1, 0.5, False),  # too far from the root to trust the rate
        (5e-9, 1e-8, 1.0, False),  # a linear rate (a double root): next 3e-9
        (4e-7, 1e-2, 1.0, True),  # a far jump before, then close: trusted
    ],
)
def test_rounding_ahead_trusts_only_close_cubic_steps(step, last_step, size, expected):
    assert rounding_ahead(step, last_step, size) == expected


def test_a_plateau_of_underflowed_zeros_is_not_a_root():
    # exp(u) - t has no root at t = 0, but exp(u) is exactly 0.0 for u < -745: every
    # point there has R = 0 and R' = 0. A double root, (x - 1)**2 at t = 0, has R = 0
    # and R' = 0 too, but R is not zero beside it; it stays a root.
    u, t = sp.symbols("u t", real=True)
    op = make_implicit_op(sp.exp(u) - t, u, t)
    result = op.solve(np.array([0.0, 2.0, 1e-300]))
    assert np.isnan(result.root[0]) and result.status[0] == SolveStatus.NOT_A_ROOT
    np.testing.assert_allclose(result.root[1:], np.log([2.0, 1e-300]), rtol=1e-14)
    for mode in ("FAST_RUN", "JAX"):
        values = pt.dvector("t")
        compiled = pytensor.function([values], op(values), mode=mode)
        assert np.isnan(compiled(np.array([0.0, 2.0]))[0]), mode
    double = make_implicit_op((u - 1) ** 2 - t, u, t, x0=1.5)
    assert double.solve(0.0).root == pytest.approx(1.0, abs=1e-7)


def test_roots_in_the_subnormal_range_are_accepted():
    # Kepler's E - e sin E = M with M subnormal: E = M / (1 - e) to rounding. Both
    # rounding allowances of the acceptance test underflow to zero there; the residual
    # cannot be resolved below one subnormal step, so that is the floor.
    op = build_kepler()
    means = np.array([5e-324, 1e-320, 1e-310, 2e-308])
    result = op.solve(0.75, means)
    assert (result.status == SolveStatus.CONVERGED).all()
    np.testing.assert_allclose(result.root, 4 * means, rtol=1e-12, atol=4e-323)


def test_the_open_end_of_the_domain_is_not_a_root():
    # SIR final size: z = 1 + W(-R0 exp(-R0)) / R0 for R0 > 1; for R0 <= 1 the only
    # root is z = 0, outside z > 0, and z - 1 + exp(-R0 z) > 0 on the whole domain.
    z, r0 = sp.symbols("z R0", positive=True)
    op = make_implicit_op(z - 1 + sp.exp(-r0 * z), z, r0)
    r0s = np.array([0.5, 0.9, 1.0, 1.0001, 1.01, 1.5, 2.0, 50.0])
    expected = 1 + special.lambertw(-r0s * np.exp(-r0s)).real / r0s
    expected[r0s <= 1] = np.nan
    result = op.solve(r0s)
    # near R0 = 1 the residual cancels to ~1e-16 over a slope of ~1e-4: 1e-8 relative
    np.testing.assert_allclose(result.root, expected, rtol=1e-7)
    # printed as z + expm1(-R0 z), the residual keeps its digits near z = 0: for R0 < 1
    # it is positive there as on the whole domain (no sign change); for R0 = 1 it is
    # z**2/2 near 0, a double root at the open end that acceptance refuses
    assert (result.status[r0s < 1] == SolveStatus.NO_SIGN_CHANGE).all()
    assert result.status[2] in (SolveStatus.NOT_A_ROOT, SolveStatus.NO_SIGN_CHANGE)  # R0 = 1
    values = pt.dvector("R0")
    traced = pytensor.function([values], op(values), mode="JAX")(r0s)
    np.testing.assert_allclose(traced, expected, rtol=1e-7)


def test_van_der_waals_volume_beside_the_pole_is_found_at_every_pressure():
    # CO2 above its critical temperature: one real V > b at every pressure; from the
    # ideal-gas start R*T/P, a pole at V = b lies between the start and the root or
    # the root and the pole share a decade of the scan grid
    volume = sp.Symbol("V", positive=True)
    pressure, temperature = sp.symbols("P T", positive=True)
    gas, a, b = 8.314462618, 0.3640, 4.267e-5
    residual = pressure - gas * temperature / (volume - b) + a / volume**2
    op = make_implicit_op(
        residual, volume, [pressure, temperature], x0=gas * temperature / pressure
    )
    pressures = np.linspace(1e6, 20e6, 400)

    def reference(p: float) -> float:
        def f(v: float) -> float:
            return p - gas * 320.0 / (v - b) + a / v**2

        return optimize.brentq(f, b * (1 + 1e-12), 1.0, xtol=1e-300, rtol=1e-15)

    expected = [reference(p) for p in pressures]
    result = op.solve(pressures, 320.0)
    assert result.converged.all()
    np.testing.assert_allclose(result.root, expected, rtol=1e-13)
    values = [pt.dvector("P"), pt.dvector("T")]
    traced = pytensor.function(values, op(*values), mode="JAX")
    np.testing.assert_allclose(traced(pressures, np.full(400, 320.0)), expected, rtol=1e-13)


#: Multiples of the allowance or of the noise level: either side of each bound, 0, NaN.
_FACTORS = (0.0, 0.5, 1.0, 1.000001, 2.0, -0.5, -1.000001, -2.0, math.nan)


def test_the_vector_acceptance_accepts_only_what_the_scalar_test_accepts():
    # Where surely_accepted holds, accepted must too, without evaluating R (the unbound
    # residual raises if it is called: a probe that retreats, or a plateau). Every
    # combination of the cases each condition distinguishes.
    checked = 0
    for x, slope, size in itertools.product(
        (1.5, 0.0, math.nan), (2.0, -0.5, 0.0, math.inf, math.nan), (1.0, 0.0, math.inf, math.nan)
    ):
        allowed, level = allowance(x, slope, size), noise(size)
        unit = allowed if math.isfinite(allowed) else 1.0
        for value, beside, over, target, above in itertools.product(
            _FACTORS, _FACTORS, _FACTORS, (x, x + 1e-9, x - 1e-9), (x, x + 1e-9)
        ):
            sure = surely_accepted(
                x, value * unit, slope, size, target, beside * level, over * level
            )
            if sure:
                arguments = (
                    x,
                    value * unit,
                    slope,
                    size,
                    target,
                    beside * level,
                    above,
                    over * level,
                )
                assert accepted(*arguments, np.zeros(2)), arguments
                checked += 1
    assert checked > 100


def test_the_vector_acceptance_decides_the_common_case(monkeypatch):
    # The data-sized model's roots: every candidate is decided in the vector loop, none
    # by the scalar test (counted in the plain-Python solver), and the roots are right.
    x = sp.Symbol("x", positive=True)
    residual = mu + mu * sp.exp(theta * mu * x) - 1
    solver = Solver(ImplicitProblem.build(residual, mu, [theta, x]), ImplicitOptions())
    kernels = plain_kernels(solver.problem, solver.starts)
    scalar_calls = []
    scalar_test = kernels.module.accepted
    monkeypatch.setattr(
        kernels.module, "accepted", lambda *a: scalar_calls.append(a) or scalar_test(*a)
    )
    covariates = np.linspace(0.5, 5.0, 300)
    for value in (0.3, 0.8, 1.3, 3.0):
        params = np.column_stack([np.full_like(covariates, value), covariates])
        root, code = np.empty((300, 1)), np.empty(300, dtype=np.int8)
        with np.errstate(all="ignore"):
            kernels.solve(params, solver.record, root, code)
        assert (code == SolveStatus.CONVERGED).all()
        expected = [seed_root(value * covariate) for covariate in covariates]
        np.testing.assert_allclose(root[:, 0], expected, rtol=4e-15)
    assert not scalar_calls


def test_a_bracket_with_an_end_in_the_noise_gives_the_sign_change_inside():
    """The scan's ``refine``: ``sqrt(1 + 1e-9 (x - a)) - 1`` is within its noise bound
    (four ulps of its terms, 2) over 3.6e-6 either side of ``a``, but its computed sign
    changes within a few 1e-7 of ``a`` (it rounds in steps of 4.4e-7 there). In a
    bracket whose end, a grid point, is 2e-6 from ``a``, the root is that sign change,
    as Brent's method finds it in the same function: the end was taken before."""
    x = sp.Symbol("x", positive=True)
    a, one = sp.symbols("a one", positive=True)
    residual = sp.sqrt(one**2 + sp.Float(1e-9) * (x - a)) - one
    solver = Solver(ImplicitProblem.build(residual, x, [a, one]), ImplicitOptions())
    module = plain_kernels(solver.problem, solver.starts).module
    grid, far = 10**-1.5, 10**-1.25  # two points of the scan's grid
    params = np.array([grid + 2e-6, 1.0])
    at_grid, at_far = module.residual(grid, params), module.residual(far, params)
    assert 0 < -at_grid <= module.noise(module.scale(grid, params)) < at_far
    settings = solver.settings
    root, status = module.refine(
        grid, grid, far, at_grid, at_far, params, settings.lower[0], settings.upper[0],
        settings.tol, settings.maxiter,
    )  # fmt: skip
    brent = optimize.brentq(
        sp.lambdify((x, a, one), residual), grid, far, args=tuple(params), xtol=1e-300
    )
    assert status == SolveStatus.CONVERGED
    assert abs(root - brent) <= 1e-6 and root != grid
