"""PyTensor's JAX backend runs the op (its compiled solver as an XLA foreign function on
the CPU, traced JAX elsewhere); numpyro samples with it."""

import shutil
from pathlib import Path

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
import sympy as sp

jax = pytest.importorskip("jax")

from backends import compile_value_and_gradients, sample_points  # noqa: E402
from catalogue import CATALOGUE, SYSTEMS, build_seed, seed_derivative, seed_root  # noqa: E402
from implicitop import make_implicit_op  # noqa: E402
from implicitop._jax import root_function, solve_function  # noqa: E402
from implicitop._jax.foreign import TARGET, foreign_solve  # noqa: E402
from implicitop._jax.roots import platform_solve_function  # noqa: E402
from implicitop._pytensor.jax_dispatch import _jax_function  # noqa: E402
from implicitop._solvers.parallel import THREADED_FROM  # noqa: E402
from scripts import run_script  # noqa: E402
from seed_posterior import exact_posterior_mean, posterior_mean_and_mcse, seed_model  # noqa: E402
from textbook import absorption_op  # noqa: E402


@pytest.mark.parametrize("problem", [p for p in CATALOGUE if p.jax], ids=lambda p: p.name)
def test_jax_mode_matches_the_c_backend(problem):
    op = problem.build()
    jax_results = compile_value_and_gradients(op, "JAX")(*sample_points(problem))
    c_results = compile_value_and_gradients(op, "FAST_RUN")(*sample_points(problem))
    # on the CPU both run the same compiled solver: the same roots, bit for bit
    np.testing.assert_array_equal(jax_results[0], c_results[0])
    for ours, theirs in zip(jax_results[1:], c_results[1:], strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)


def test_jax_autodiff_uses_the_implicit_derivative():
    """numpyro differentiates with jax.grad, not with the op's PyTensor gradient."""
    from pytensor.graph.fg import FunctionGraph
    from pytensor.link.jax.dispatch import jax_funcify

    theta = pt.dvector("theta")
    op = build_seed()
    function = jax_funcify(FunctionGraph([theta], [op(theta).sum()]))
    values = np.geomspace(1e-3, 1e3, 13)
    gradient = jax.jit(jax.grad(lambda t: function(t)[0]))(values)
    np.testing.assert_allclose(gradient, [seed_derivative(t) for t in values], rtol=1e-12)
    hessian_diagonal = jax.jit(jax.vmap(jax.grad(jax.grad(lambda t: function(t[None])[0]))))(values)
    step = 1e-5 * values
    central = (
        np.array([seed_derivative(t) for t in values + step])
        - np.array([seed_derivative(t) for t in values - step])
    ) / (2 * step)
    np.testing.assert_allclose(hessian_diagonal, central, rtol=1e-6)


def test_jax_mode_failures_scalars_guesses_and_brackets():
    op = build_seed()
    theta = pt.dscalar("theta")
    scalar = pytensor.function([theta], op(theta), mode="JAX")
    assert float(scalar(0.4)) == pytest.approx(seed_root(0.4), rel=1e-14)
    vector = pt.dvector("v")
    roots = pytensor.function([vector], op(vector), mode="JAX")(
        np.array([0.4, np.nan, -1.0, np.inf, 1e5])
    )
    roots = np.asarray(roots)
    assert np.isnan(roots[1:4]).all()
    np.testing.assert_allclose(roots[[0, 4]], [seed_root(0.4), seed_root(1e5)], rtol=1e-13)
    x = sp.Symbol("x", real=True)
    a = sp.Symbol("a", positive=True)
    values = np.geomspace(1e-2, 1e4, 9)
    for options in ({"x0": a / 3 + 1}, {"bracket": (0.0, 100.0)}):
        cube_root = make_implicit_op(x**3 - a, x, a, **options)
        function = pytensor.function([vector], cube_root(vector), mode="JAX")
        expected = np.where(values <= 1e6, np.cbrt(values), np.nan)
        np.testing.assert_allclose(function(values), expected, rtol=1e-14)


def test_what_jax_does_not_cover_is_refused_clearly():
    vector = pt.dvector("v")
    mu, theta = sp.symbols("mu theta", positive=True)
    raising = make_implicit_op(mu + mu * sp.exp(theta * mu) - 1, mu, theta, on_failure="raise")
    with pytest.raises(NotImplementedError, match="on_failure='raise' cannot be traced"):
        pytensor.function([vector], raising(vector), mode="JAX")


def test_systems_with_a_symbolic_guess_run_in_jax():
    vector = pt.dvector("v")
    theta = sp.Symbol("theta", positive=True)
    x, y = sp.symbols("x y", positive=True)
    # x = y = theta / 2; the guess (theta, theta) is outside the domain for no theta
    op = make_implicit_op([x - y, x + y - theta], [x, y], theta, x0=(theta, theta))
    values = np.array([0.5, 3.0, 1e4])
    for mode in ("JAX", None):
        roots = pytensor.function([vector], op(vector), mode=mode)(values)
        np.testing.assert_allclose(roots, [values / 2, values / 2], rtol=1e-14)


@pytest.mark.parametrize("problem", SYSTEMS, ids=lambda p: p.name)
def test_systems_in_jax_match_the_c_backend_and_jax_grad(problem):
    from pytensor.graph.fg import FunctionGraph
    from pytensor.link.jax.dispatch import jax_funcify

    op = problem.build()
    inputs = [pt.dvector(p.name) for p in op.params]
    total = pt.add(*(output.sum() for output in op(*inputs)))
    outputs = [*op(*inputs), *pytensor.grad(total, inputs)]
    points = sample_points(problem, size=30)
    jax_results = pytensor.function(inputs, outputs, mode="JAX")(*points)
    c_results = pytensor.function(inputs, outputs)(*points)
    for ours, theirs in zip(jax_results, c_results, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)
    n = op.problem.size
    expected = np.array([problem.root(*p) for p in zip(*points, strict=True)])
    np.testing.assert_allclose(
        np.stack(jax_results[:n], axis=1), expected, rtol=problem.rtol, atol=problem.atol
    )
    function = jax_funcify(FunctionGraph(inputs, [total]))
    arguments = tuple(range(len(inputs)))
    gradients = jax.jit(jax.grad(lambda *values: function(*values)[0], argnums=arguments))(*points)
    for ours, theirs in zip(gradients, c_results[n:], strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)


def test_numpyro_samples_the_seed_model():
    pytest.importorskip("numpyro")
    import pymc as pm

    with seed_model(build_seed()):
        idata = pm.sample(
            nuts_sampler="numpyro", chains=2, tune=500, draws=1000, random_seed=4,
            progressbar=False, nuts_sampler_kwargs={"chain_method": "sequential"},
        )  # fmt: skip
    assert int(idata.sample_stats["diverging"].sum()) == 0
    mean, mcse = posterior_mean_and_mcse(idata)
    assert abs(mean - exact_posterior_mean()) < 4 * mcse + 1e-3


def test_jax_tangent_of_a_failed_element_is_nan():
    x = sp.Symbol("x", positive=True)
    t = sp.Symbol("t", real=True)
    op = make_implicit_op(x - t, x, t)  # dx/dt = 1 wherever there is a root
    roots = root_function(op.solver, _jax_function)
    gradient = jax.jit(jax.grad(lambda values: roots(values).sum()))(jax.numpy.array([2.0, -1.0]))
    np.testing.assert_array_equal(np.asarray(gradient), [1.0, np.nan])


def test_on_the_cpu_the_compiled_solver_runs_as_a_foreign_function():
    """Nothing of the algorithm is left for XLA to compile: one custom call, no loop; its
    roots and statuses are the compiled solver's, also for a batch under jax.vmap, and
    it reads the tier in use at each call (the full solver takes over)."""
    op = build_seed()
    solve = jax.jit(foreign_solve(op.solver))
    values = np.array([[0.4, np.nan, -1.0, 1e5], [1e-3, 2.0, np.inf, 7.0]])
    lowered = solve.lower(values[0]).as_text()
    assert TARGET in lowered and "while" not in lowered
    expected = [op.solve(row) for row in values]
    batched_root, batched_code = jax.vmap(solve)(values)
    for row, result in enumerate(expected):
        root, code = solve(values[row])
        np.testing.assert_array_equal(np.asarray(root)[:, 0], result.root)
        np.testing.assert_array_equal(np.asarray(code), result.status)
        np.testing.assert_array_equal(np.asarray(batched_root[row])[:, 0], result.root)
        np.testing.assert_array_equal(np.asarray(batched_code[row]), result.status)
    kernels = op.solver.kernels
    full = kernels.c_address  # the full solver, loaded (or compiled) now
    assert int(kernels.entry_cell[0]) == full
    np.testing.assert_array_equal(np.asarray(solve(values[0])[0])[:, 0], expected[0].root)


@pytest.mark.parametrize("copies", [1, 1 + 3 * THREADED_FROM // 5], ids=["alone", "with helpers"])
def test_the_foreign_function_keeps_subnormal_numbers_as_the_c_backend_does(monkeypatch, copies):
    """XLA computes with subnormal numbers flushed to zero; the solver does not. The
    absorption times of fractions near 1e-300 of a dose (rate 2.67) have allowances of
    1e-11 times terms of 1e-300, subnormal: flushed, the roots were up to 8e-13 off the
    C backend's. The handler solves with them kept and gives XLA its mode back; a
    large batch's helper threads keep them too."""
    monkeypatch.setenv("IMPLICITOP_NUM_THREADS", "2")
    op = absorption_op()
    fractions = np.tile([6.257e-300, 1e-298, 1e-297, 1e-296, 1e-200], copies)
    rates = np.full(fractions.shape, 2.67)
    expected = op.solve(rates, fractions)
    root, code = jax.jit(foreign_solve(op.solver))(rates, fractions)
    np.testing.assert_array_equal(np.asarray(root)[:, 0], expected.root)
    np.testing.assert_array_equal(np.asarray(code), expected.status)
    tiny = jax.jit(lambda value: value * 1e-300)(jax.numpy.array([1e-10]))
    assert float(tiny[0]) == 0.0  # XLA's own arithmetic still flushes


def test_a_large_batch_is_spread_over_threads_with_the_same_roots(monkeypatch):
    """The foreign function cuts a batch of THREADED_FROM rows or more into parts on
    the threads ``IMPLICITOP_NUM_THREADS`` asks for (when traced), as the C op does."""
    op = build_seed()
    rng = np.random.default_rng(9)
    thetas = np.exp(rng.uniform(np.log(1e-3), np.log(1e3), 3 * THREADED_FROM + 17))
    thetas[::997] = np.nan
    expected = op.solve(thetas)
    for threads in ("1", "3"):
        monkeypatch.setenv("IMPLICITOP_NUM_THREADS", threads)
        root, code = jax.jit(foreign_solve(op.solver))(thetas)
        np.testing.assert_array_equal(np.asarray(root)[:, 0], expected.root)
        np.testing.assert_array_equal(np.asarray(code), expected.status)


HANDLER_CACHE = """
from pathlib import Path
import implicitop._jax.foreign as foreign
folder = Path(foreign.__file__).parent / "__pycache__"
print(sorted(path.name for path in folder.glob("foreign.handler*.nbi")))
"""


def test_a_change_compiled_into_the_handler_gives_it_another_disk_cache(tmp_path):
    """numba keys its disk cache by the handler's own file; a change to a module compiled
    into it (the threads' driver, say) must not load the machine code compiled before."""
    import implicitop

    copy = tmp_path / "implicitop"
    shutil.copytree(
        Path(implicitop.__file__).parent, copy, ignore=shutil.ignore_patterns("__pycache__")
    )
    script = tmp_path / "handler_cache.py"
    script.write_text(f"import sys\nsys.path.insert(0, {str(tmp_path)!r})\n{HANDLER_CACHE}")
    first = run_script(script)
    assert run_script(script) == first  # loaded from the cache: nothing new
    with open(copy / "_solvers" / "threads.py", "a") as threads:
        threads.write("\n# changed\n")
    (before,), after = eval(first), eval(run_script(script))
    assert len(after) == 2 and before in after


def test_off_the_cpu_the_traced_solver_runs(monkeypatch):
    """Where JAX computes on another platform, the op is traced JAX (its loops in XLA):
    the same roots to rounding, and the implicit derivative through jax.grad."""
    monkeypatch.setattr(jax, "default_backend", lambda: "gpu")
    from pytensor.graph.fg import FunctionGraph
    from pytensor.link.jax.dispatch import jax_funcify

    theta = pt.dvector("theta")
    op = build_seed()
    function = jax_funcify(FunctionGraph([theta], [op(theta).sum()]))
    values = np.geomspace(1e-3, 1e3, 7)
    total = jax.jit(lambda t: function(t)[0])
    assert "while" in total.lower(values).as_text()
    assert float(total(values)) == pytest.approx(sum(seed_root(t) for t in values), rel=1e-13)
    gradient = jax.jit(jax.grad(lambda t: function(t)[0]))(values)
    np.testing.assert_allclose(gradient, [seed_derivative(t) for t in values], rtol=1e-12)
    traced = jax.jit(solve_function(op.solver, _jax_function))(values)
    np.testing.assert_allclose(np.asarray(traced[0])[:, 0], op.solve(values).root, rtol=1e-14)


# the traced solver's float64 constants, cast to float32
@pytest.mark.filterwarnings("ignore:overflow encountered in cast", "ignore:Explicitly requested")
def test_in_32_bits_jax_traces_the_solver():
    """Without jax_enable_x64 (PyTensor's floatX="float32") the compiled solver's float64
    operands cannot pass: the solver is traced, and the foreign function refuses."""
    op = build_seed()
    values = np.array([0.4, 2.0], dtype=np.float32)
    with jax.enable_x64(False):
        solve = jax.jit(platform_solve_function(op.solver, _jax_function))
        assert "while" in solve.lower(values).as_text()
        root = np.asarray(solve(values)[0])[:, 0]
        with pytest.raises(RuntimeError, match="jax_enable_x64"):
            foreign_solve(op.solver)
    assert root.dtype == np.float32
    np.testing.assert_allclose(root, [seed_root(0.4), seed_root(2.0)], rtol=1e-6)


@pytest.mark.filterwarnings("ignore:numba could not compile")
def test_a_residual_numba_cannot_compile_is_traced_in_jax(monkeypatch, rebuilt_problems):
    """No compiled solver to call (the op falls back to plain Python elsewhere): JAX
    traces the solver, with the roots and the implicit derivative all the same. The
    kernels compile polygamma, and JAX has no function they lack that SymPy can
    differentiate: the kernels' printer is made to lack polygamma here."""
    from scipy import special

    from implicitop._codegen import KernelPrinter

    monkeypatch.setattr(KernelPrinter, "_print_polygamma", KernelPrinter._print_not_supported)
    x = sp.Symbol("x", positive=True)
    t = sp.Symbol("t", real=True)
    op = make_implicit_op(sp.polygamma(1, x) - t, x, t)
    assert not op.solver.kernels.compiled
    values = pt.dvector("t")
    roots = op(values)
    function = pytensor.function([values], [roots, pytensor.grad(roots.sum(), values)], mode="JAX")
    ts = np.geomspace(0.05, 100, 7)
    root, gradient = (np.asarray(output) for output in function(ts))
    np.testing.assert_allclose(special.polygamma(1, root), ts, rtol=1e-14)
    np.testing.assert_allclose(gradient, 1 / special.polygamma(2, root), rtol=1e-12)
