"""make_argmin_op: minima u*(theta) = argmin_u f(u, theta) against closed forms and SciPy,
the optimal value's envelope gradient, the Hessian's log determinant, and a Laplace
approximation that is exact (a Gaussian model) sampled with PyMC's NUTS, nutpie and
numpyro."""

import warnings

import numpy as np
import pymc as pm
import pytensor
import pytensor.tensor as pt
import pytest
import sympy as sp
from scipy import optimize, stats

from backends import FALLBACK
from catalogue import build_poisson_normal_mode, poisson_normal_mode
from implicitop import ImplicitOp, SolveStatus, make_argmin_op
from implicitop.testing import check_implicit_op

x, t = sp.symbols("x t", positive=True)
#: x log x - t x: minimum at x = exp(t - 1), value -exp(t - 1), Hessian 1/x.
ENTROPY = x * sp.log(x) - t * x


@pytest.fixture(scope="module")
def entropy_op() -> ImplicitOp:
    return make_argmin_op(ENTROPY, x, t)


def test_a_minimum_value_and_log_det_match_closed_forms_to_second_order(entropy_op):
    theta = pt.dvector("t")
    minimum = entropy_op(theta)
    value = entropy_op.minimum_value(theta)
    log_det = entropy_op.log_det_hessian(theta)
    slope = pytensor.grad(value.sum(), theta)
    function = pytensor.function(
        [theta],
        [
            minimum,
            value,
            slope,
            pytensor.grad(slope.sum(), theta),
            log_det,
            pytensor.grad(log_det.sum(), theta),
        ],
    )
    ts = np.linspace(0.05, 6.0, 40)
    got = function(ts)
    expected = [np.exp(ts - 1), -np.exp(ts - 1), -np.exp(ts - 1), -np.exp(ts - 1), 1 - ts, -1.0]
    names = ["x*", "f*", "df*", "d2f*", "logdetH", "dlogdetH"]
    for name, a, b in zip(names, got, expected, strict=True):
        np.testing.assert_allclose(a, np.broadcast_to(b, a.shape), rtol=1e-12, err_msg=name)


def test_the_value_gradient_needs_no_derivative_of_the_minimum_but_its_hessian_does(
    entropy_op, monkeypatch
):
    theta = pt.dvector("t")
    value = entropy_op.minimum_value(theta)
    with monkeypatch.context() as patched:  # the envelope theorem: df/dt at the minimum

        def forbidden(*args, **kwargs):
            raise AssertionError("the value's gradient differentiated the minimum")

        patched.setattr(ImplicitOp, "L_op", forbidden)
        slope = pytensor.grad(value.sum(), theta)
    second = pytensor.grad(slope.sum(), theta)  # d/dt of f_t(x*(t), t) needs dx*/dt
    got = pytensor.function([theta], [slope, second])(np.array([1.5]))
    np.testing.assert_allclose(got, [[-np.exp(0.5)], [-np.exp(0.5)]], rtol=1e-13)


def test_poisson_normal_modes_match_scipy_minimize_scalar():
    op = build_poisson_normal_mode()
    rng = np.random.default_rng(3)
    size = 300
    counts = rng.poisson(rng.uniform(0.1, 50, size)).astype(float)
    means = rng.uniform(-3, 4, size)
    scales = 10 ** rng.uniform(-1.5, 1, size)
    result = op.solve(counts, means, scales)
    assert np.all(result.status == SolveStatus.CONVERGED)

    def negative_log_joint(e, c, mean, scale):
        return np.exp(e) - c * e + (e - mean) ** 2 / (2 * scale**2)

    for i in range(size):
        brent = optimize.minimize_scalar(
            negative_log_joint, args=(counts[i], means[i], scales[i]), tol=1e-14
        )
        assert result.root[i] == pytest.approx(brent.x, rel=1e-7, abs=1e-7)
    # the stationarity condition in closed form (Wright's omega)
    closed = poisson_normal_mode(counts, means, scales)
    np.testing.assert_allclose(result.root, closed, rtol=1e-10, atol=1e-12)


def test_a_two_dimensional_minimum_matches_the_closed_form_and_scipy():
    u, v = sp.symbols("u v", real=True)
    a, b = sp.symbols("a b", positive=True)
    rosenbrock = (a - u) ** 2 + b * (v - u**2) ** 2
    op = make_argmin_op(rosenbrock, [u, v], [a, b], x0=(0.0, 0.0))
    av, bv = pt.dvector("a"), pt.dvector("b")
    uu, vv = op(av, bv)
    log_det = op.log_det_hessian(av, bv)
    value = op.minimum_value(av, bv)
    function = pytensor.function(
        [av, bv],
        [
            uu,
            vv,
            *pytensor.grad(uu.sum(), [av, bv]),
            log_det,
            *pytensor.grad(value.sum(), [av, bv]),
        ],
    )
    alphas, betas = np.array([0.5, 1.0, 1.7]), np.array([1.0, 3.0, 10.0])
    got_u, got_v, du_da, du_db, got_log_det, dvalue_da, dvalue_db = function(alphas, betas)
    np.testing.assert_allclose(got_u, alphas, rtol=1e-12)
    np.testing.assert_allclose(got_v, alphas**2, rtol=1e-12)
    np.testing.assert_allclose(du_da, 1.0, rtol=1e-10)
    np.testing.assert_allclose(du_db, 0.0, atol=1e-12)
    np.testing.assert_allclose(got_log_det, np.log(4 * betas), rtol=1e-12)
    # the minimum value is 0 for every a, b: so is its gradient
    np.testing.assert_allclose([dvalue_da, dvalue_db], 0.0, atol=1e-12)
    for alpha, beta, expected_u in zip(alphas, betas, got_u, strict=True):
        bfgs = optimize.minimize(
            lambda w, al=alpha, be=beta: (al - w[0]) ** 2 + be * (w[1] - w[0] ** 2) ** 2,
            x0=[0.0, 0.0],
            method="BFGS",
            options={"gtol": 1e-10},
        )
        assert bfgs.x[0] == pytest.approx(expected_u, rel=1e-5)


def test_a_stiff_rosenbrock_valley_is_descended_like_bfgs_does():
    u, v = sp.symbols("u v", real=True)
    a, b = sp.symbols("a b", positive=True)
    op = make_argmin_op((a - u) ** 2 + b * (v - u**2) ** 2, [u, v], [a, b], x0=(0.0, 0.0))
    result = op.solve(np.array([1.7, 2.5]), np.array([100.0, 1000.0]))
    np.testing.assert_allclose(result.root[:, 0], [1.7, 2.5], rtol=1e-10)


def test_a_maximum_or_saddle_point_is_no_minimum():
    # -(x - t)^2 is stationary at x = t, a maximum: its derivative falls through zero
    op = make_argmin_op(-((x - t) ** 2), x, t)
    result = op.solve(np.array([0.5, 2.0]))
    assert list(result.status) == [SolveStatus.NO_SIGN_CHANGE] * 2
    assert np.all(np.isnan(result.root))
    assert "rises through zero nowhere" in SolveStatus.NO_SIGN_CHANGE.reason
    assert "maximum or a saddle point" in SolveStatus.NOT_A_MINIMUM.reason
    # u^2 - v^2 + t u: stationary at (-t/2, 0), a saddle, and unbounded below: the
    # descent leaves the saddle downhill and finds no minimum ...
    u, v = sp.symbols("u v", real=True)
    saddle = make_argmin_op(u**2 - v**2 + t * u, [u, v], t)
    result = saddle.solve(np.array([1.0, 3.0]))
    assert list(result.status) == [SolveStatus.NO_PROGRESS] * 2
    assert np.all(np.isnan(result.root))
    assert "fall without bound" in SolveStatus.NO_PROGRESS.reason
    # ... and started on the saddle itself, where the gradient is zero, refuses it
    on_saddle = make_argmin_op(u**2 - v**2 + t * u, [u, v], t, x0=(-t / 2, 0))
    result = on_saddle.solve(np.array([1.0, 3.0]))
    assert list(result.status) == [SolveStatus.NOT_A_MINIMUM] * 2
    # the op's output is NaN there, and raises with on_failure="raise"
    theta = pt.dvector("t")
    assert np.all(np.isnan(pytensor.function([theta], op(theta))(np.array([1.0]))))
    raising = make_argmin_op(-((x - t) ** 2), x, t, on_failure="raise")
    with pytest.raises(Exception, match="not positive definite"):
        pytensor.function([theta], raising(theta))(np.array([1.0]))


def test_a_minimum_is_found_beside_a_maximum_nearer_the_start():
    # w^3/3 - t w: a maximum at -sqrt(t), a minimum at sqrt(t); from x0 = -1 Newton's
    # method on the derivative converges to the maximum, which is passed over
    w = sp.Symbol("w", real=True)
    cubic = w**3 / 3 - t * w
    ts = np.array([0.25, 4.0, 9.0])
    for options in ({}, {"x0": -1.0}, {"x0": 1.0}, {"bracket": (-100.0, 100.0)}):
        result = make_argmin_op(cubic, w, t, **options).solve(ts)
        np.testing.assert_allclose(result.root, np.sqrt(ts), rtol=1e-13)
        assert np.all(result.status == SolveStatus.CONVERGED)


def test_a_growing_bracket_passes_over_a_maximum_for_the_minimum():
    # f = 3 (w - s)^2 / 2 - (w - s)^3 / 3: a minimum at s, a maximum at s + 3; no sign
    # change of f' in [5, 6], whose lower end, moving left (to 4, 2, -2, ...), meets the
    # maximum first
    w = sp.Symbol("w", real=True)
    s = sp.Symbol("s", real=True)
    hump = 3 * (w - s) ** 2 / 2 - (w - s) ** 3 / 3
    shifts = np.array([-0.5, 0.0, 0.3])
    op = make_argmin_op(hump, w, s, bracket=(5.0, 6.0), expand_bracket=True)
    result = op.solve(shifts)
    np.testing.assert_allclose(result.root, shifts, atol=1e-13)
    assert np.all(result.status == SolveStatus.CONVERGED)
    # an unknown that must be positive, the minimum below 0: only the maximum is found,
    # and refused
    v = sp.Symbol("v", positive=True)
    positive = make_argmin_op(hump.subs(w, v), v, s, bracket=(5.0, 6.0), expand_bracket=True)
    refused = positive.solve(np.array([-0.5, -0.2]))
    assert np.all(np.isnan(refused.root))
    assert np.all(refused.status == SolveStatus.NOT_A_MINIMUM)


def test_the_harness_checks_an_argmin_op_unchanged(entropy_op):
    check_implicit_op(entropy_op, {"t": (0.01, 5.0)})


def test_bad_objectives_are_refused_with_a_reason():
    with pytest.raises(TypeError, match="one SymPy expression"):
        make_argmin_op([x**2 - t * x, x], x, t)
    with pytest.raises(ValueError, match=r"linear .* no minimum"):
        make_argmin_op(t * x, x, t)
    with pytest.raises(TypeError, match="relation"):
        make_argmin_op(sp.Eq(x**2, t), x, t)
    stray = sp.Symbol("c")
    with pytest.raises(ValueError, match="neither unknowns nor parameters: c"):
        make_argmin_op((x - t) ** 2 + stray, x, t)
    root_op = make_argmin_op(ENTROPY, x, t)
    plain = pytest.importorskip("implicitop").make_implicit_op(x - t, x, t)
    with pytest.raises(TypeError, match="not the op of a minimum"):
        plain.minimum_value(1.0)
    assert "argmin" in str(root_op) and "argmin" in root_op._repr_html_()


def test_the_op_shows_its_objective(entropy_op):
    assert str(entropy_op) == "ImplicitOp(x: argmin -t*x + x*log(x))"
    assert r"\operatorname{argmin}_{x} \left(- t x + x \log" in entropy_op._repr_latex_()
    figure = entropy_op.plot({"t": (0.1, 5.0)}, points=20)
    assert figure._suptitle.get_text() == "x = argmin -t*x + x*log(x)"
    # the derivative drawn is dx*/dt = x* = exp(t - 1)
    line = figure.axes[1].get_lines()[0]
    np.testing.assert_allclose(line.get_ydata(), np.exp(line.get_xdata() - 1), rtol=1e-10)


#: A Gaussian latent model: y_j ~ Normal(eta_j, sigma), eta_j ~ Normal(mu, tau), where
#: integrating eta_j out with the Laplace approximation is exact: y_j ~ Normal(mu,
#: sqrt(sigma^2 + tau^2)).
LAPLACE_DATA = np.array([1.2, -0.4, 2.5, 0.9, 1.7, 0.3])
LAPLACE_SIGMA, LAPLACE_TAU = 0.8, 1.5
LAPLACE_SD = np.hypot(LAPLACE_SIGMA, LAPLACE_TAU)


def laplace_log_marginal(mu_variable):
    """The Laplace approximation of the Gaussian latent model's log marginal in ``mu``."""
    e = sp.Symbol("e", real=True)
    obs, mu = sp.symbols("obs mu", real=True)
    sigma, tau = sp.symbols("sigma tau", positive=True)
    joint = (obs - e) ** 2 / (2 * sigma**2) + (e - mu) ** 2 / (2 * tau**2)
    op = make_argmin_op(joint, e, [obs, mu, sigma, tau])
    args = (LAPLACE_DATA, mu_variable, LAPLACE_SIGMA, LAPLACE_TAU)
    constant = -np.log(2 * np.pi * LAPLACE_SIGMA * LAPLACE_TAU)
    return (
        -op.minimum_value(*args) - 0.5 * op.log_det_hessian(*args) + 0.5 * np.log(2 * np.pi)
    ).sum() + constant * LAPLACE_DATA.size


def laplace_model() -> pm.Model:
    """NUTS on mu alone with the marginal above and the prior Normal(0, 10)."""
    with pm.Model() as model:
        mu_rv = pm.Normal("mu", 0.0, 10.0)
        pm.Potential("marginal", laplace_log_marginal(mu_rv))
    return model


def test_a_gaussian_laplace_approximation_is_exact():
    mu_input = pt.dscalar("mu")
    log_marginal = laplace_log_marginal(mu_input)
    function = pytensor.function([mu_input], [log_marginal, pytensor.grad(log_marginal, mu_input)])
    for mu_value in (-1.0, 0.4, 2.0):
        got, slope = function(mu_value)
        expected = stats.norm.logpdf(LAPLACE_DATA, mu_value, LAPLACE_SD).sum()
        assert got == pytest.approx(expected, rel=1e-12)
        assert slope == pytest.approx(((LAPLACE_DATA - mu_value) / LAPLACE_SD**2).sum(), rel=1e-10)


@pytest.mark.parametrize("sampler", ["pymc", "nutpie", "numpyro"])
def test_the_laplace_marginal_samples_the_conjugate_posterior(sampler):
    """pm.sample's NUTS (C backend), nutpie (numba backend) and numpyro (JAX backend)
    on the Laplace marginal: the posterior of mu is the conjugate normal one."""
    if sampler != "pymc":
        pytest.importorskip(sampler)
    draws = 400
    with laplace_model(), warnings.catch_warnings():
        warnings.filterwarnings("error", message=FALLBACK)  # nutpie: the op runs in numba
        trace = pm.sample(
            draws=draws, tune=300, chains=2, cores=1, random_seed=5, progressbar=False,
            nuts_sampler=sampler,
        )  # fmt: skip
    assert int(trace.sample_stats["diverging"].sum()) == 0
    precision = 1 / 10.0**2 + LAPLACE_DATA.size / LAPLACE_SD**2
    posterior_mean = (LAPLACE_DATA.sum() / LAPLACE_SD**2) / precision
    samples = trace.posterior["mu"].values.ravel()
    # within 4 standard errors, counting half the 2 x 400 draws as independent
    standard_error = precision**-0.5 / np.sqrt(draws / 2)
    assert samples.mean() == pytest.approx(posterior_mean, abs=4 * standard_error)
    assert samples.std() == pytest.approx(precision**-0.5, rel=0.2)


@pytest.mark.parametrize("mode", ["NUMBA", "JAX"])
def test_numba_and_jax_backends_give_the_c_backends_numbers(mode):
    if mode == "JAX":
        pytest.importorskip("jax")
    op = build_poisson_normal_mode()
    # a maximum (NaN), and a maximum Newton's method reaches first from x0 = -1, passed
    # over for the minimum sqrt(t); one function per backend (each compile costs seconds)
    maximum = make_argmin_op(-((x - t) ** 2), x, t)
    w = sp.Symbol("w", real=True)
    cubic = make_argmin_op(w**3 / 3 - t * w, w, t, x0=-1.0)
    counts, means, theta = pt.dvector("y"), pt.dvector("m"), pt.dvector("t")
    scale = pt.dscalar("s")
    value = op.minimum_value(counts, means, scale)
    log_det = op.log_det_hessian(counts, means, scale)
    outputs = [
        op(counts, means, scale),
        value,
        log_det,
        *pytensor.grad(value.sum(), [means, scale]),
        maximum(theta),
        cubic(theta),
    ]
    inputs = [counts, means, scale, theta]
    values = (np.array([0.0, 3.0, 40.0]), np.array([-1.0, 0.5, 3.0]), 0.7, np.array([0.25, 4.0]))
    expected = pytensor.function(inputs, outputs)(*values)
    got = pytensor.function(inputs, outputs, mode=mode)(*values)
    for a, b in zip(got, expected, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    *_, maxima, minima = got
    assert np.all(np.isnan(maxima))
    np.testing.assert_allclose(minima, [0.5, 2.0], rtol=1e-13)
