"""Each problem's compiled solver: agreement with plain Python, disk cache, fallback."""

import builtins
import gc
import importlib.util
import inspect
import os
import subprocess
import sys
import time
import uuid
import warnings

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
import sympy as sp
from scipy import optimize, special

from catalogue import CATALOGUE, SYSTEMS, build_seed
from external_systems import Q as SYSTEM_Q
from external_systems import scaled_start, system_cases
from implicitop import SolveStatus, _codegen, make_implicit_op
from implicitop._codegen import _REWRITES, element_functions, element_source
from implicitop._options import ImplicitOptions
from implicitop._problem import ImplicitProblem
from implicitop._solvers import background, batch, compiled, generated, lockstep, scalar, system
from implicitop._solvers.compiled import plain_kernels
from implicitop._solvers.kernel_cache import GRACE_SECONDS, evict, folder_name
from implicitop._solvers.parallel import THREADED_FROM
from implicitop._solvers.settings import SHARED
from implicitop._solvers.solver import parameter_rows

X, Q = sp.symbols("x q", positive=True)


def solve_with(kernels, solver, values):
    """Roots (m, n) and codes (m,) from ``kernels`` with the solver's settings."""
    rows = parameter_rows([np.asarray(v, dtype=float) for v in values])
    root = np.empty((rows.shape[0], solver.problem.size))
    code = np.empty(rows.shape[0], dtype=np.int8)
    record = solver.record if kernels.compiled else solver.settings.record
    with np.errstate(all="ignore"):
        kernels.solve(rows, record, root, code)
    return root, code


def solve_at(address, solver, values):
    """Roots (m, n) and codes (m,) from the C entry point at ``address``."""
    rows = parameter_rows([np.asarray(v, dtype=float) for v in values])
    root = np.empty((rows.shape[0], solver.problem.size))
    code = np.empty(rows.shape[0], dtype=np.int8)
    entry = compiled._C_PROTOTYPE(address)
    record = solver.record
    entry(rows.shape[0], rows.ctypes.data, record.ctypes.data, record.shape[0],
          root.ctypes.data, code.ctypes.data)  # fmt: skip
    return root, code


@pytest.mark.parametrize("problem", CATALOGUE + SYSTEMS, ids=lambda p: p.name)
def test_compiled_and_plain_python_solvers_agree(problem):
    solver = problem.build().solver
    assert solver.kernels.compiled
    rng = np.random.default_rng(5)
    values = [rng.uniform(*problem.ranges[s.name], 300) for s in solver.problem.params]
    compiled_root, compiled_code = solve_with(solver.kernels, solver, values)
    plain = plain_kernels(solver.problem, solver.starts)
    plain_root, plain_code = solve_with(plain, solver, values)
    np.testing.assert_array_equal(compiled_code, plain_code)
    np.testing.assert_allclose(compiled_root, plain_root, rtol=problem.plain_rtol, atol=1e-300)


TIERED = [
    *((p.name, p.build, p.ranges) for p in CATALOGUE + SYSTEMS),
    (  # special functions, and an expression for x0 and both bracket ends
        "gammainc with expression bracket",
        lambda: make_implicit_op(
            sp.lowergamma(2.5, X) / sp.gamma(2.5) - Q, X, Q, x0=Q + 1, bracket=(Q / 100, 20 + Q)
        ),
        {"q": (0.01, 0.99)},
    ),
]


@pytest.mark.parametrize(("name", "build", "ranges"), TIERED, ids=[t[0] for t in TIERED])
def test_the_shared_and_the_full_solver_agree_bit_for_bit(name, build, ranges):
    """The first tier calls the element functions by address, the second inlines them:
    the same compiled arithmetic, so the same bits (NaN where no root) and statuses."""
    solver = build().solver
    rng = np.random.default_rng(11)
    values = [rng.uniform(*ranges[s.name], 500) for s in solver.problem.params]
    values = [np.concatenate([v, [np.nan, np.inf, -1e300]]) for v in values]
    shared = compiled._shared_solver(min(solver.problem.size, 2)).address
    shared_root, shared_code = solve_at(shared, solver, values)
    full_root, full_code = solve_at(solver.kernels.c_address, solver, values)
    np.testing.assert_array_equal(shared_code, full_code)
    assert shared_root.tobytes() == full_root.tobytes(), name
    assert (full_code == SolveStatus.CONVERGED).mean() > 0.5


def boggs_far_away():
    """More-Garbow-Hillstrom's Boggs system from 100 times its start: damped Newton
    leaves most of its elements there, Powell's hybrid method solves some of them."""
    case = next(case for case in system_cases() if case.name == "boggs")
    return make_implicit_op(
        list(case.residuals), list(case.unknowns), SYSTEM_Q, x0=scaled_start(case, 100)
    )


@pytest.mark.parametrize(
    ("build", "values"),
    [(TIERED[-1][1], [np.linspace(0.01, 0.99, 40)]), (boggs_far_away, [np.linspace(0.5, 2, 8)])],
    ids=["bracketing phase", "powell hybrid"],
)
def test_the_full_solver_hands_the_elements_its_fast_path_leaves_to_the_shared_one(build, values):
    """Elements the full solver's fast path does not solve (one equation: phase 1 does
    not settle; a system: damped Newton fails) are finished by the shared solver whose
    address the record holds, with the shared solver's bits. Without that address
    they stay unsolved: the fast path does not solve them itself."""
    solver = build().solver
    shared = compiled._shared_solver(min(solver.problem.size, 2)).address
    shared_root, shared_code = solve_at(shared, solver, values)
    full = solver.kernels.c_address
    full_root, full_code = solve_at(full, solver, values)
    np.testing.assert_array_equal(full_code, shared_code)
    assert full_root.tobytes() == shared_root.tobytes()
    without = solver.record.copy()
    without[SHARED] = np.nan
    solver.__dict__["record"] = without  # the cached property, for solve_at
    left_root, left_code = solve_at(full, solver, values)
    left = left_code != full_code
    assert (left_code[left] == SolveStatus.MAXITER).all() and np.isnan(left_root[left]).all()
    assert left_root[~left].tobytes() == full_root[~left].tobytes()
    assert (full_code[left] == SolveStatus.CONVERGED).sum() >= 3  # solved once handed over


def test_a_new_residual_is_solved_before_its_full_solver_is_ready(monkeypatch, tmp_path):
    """The shared solver answers at once; the full one, compiled by a worker process,
    takes over in the same op (the C op and the numba graph read the entry point's
    address at each call), even where another process evicted the module from the
    kernel folder meanwhile."""
    monkeypatch.setenv("IMPLICITOP_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("IMPLICITOP_BACKGROUND_COMPILE", "0")
    monkeypatch.setenv("IMPLICITOP_BACKGROUND_NICENESS", "0")  # beside the other test worker
    op = make_implicit_op(X**3 + 2 * X - Q, X, Q)  # a problem no other test builds
    kernels = op.solver.kernels
    assert not kernels.full_ready
    function = pytensor.function([q := pt.dvector("q")], op(q))
    in_numba = pytensor.function([q], op(q), mode="NUMBA")
    qs = np.linspace(0.5, 20, 50)
    first = function(qs)
    np.testing.assert_array_equal(in_numba(qs), first)
    assert not kernels.full_ready  # the numba graph did not need the full solver
    path = kernels.module_file()
    assert path.stem in evict(path.parent, keep=0, now=time.time() + GRACE_SECONDS + 1)
    assert not path.exists()
    kernels.upgrade_in_background()
    deadline = time.monotonic() + 600
    while not kernels.full_ready and time.monotonic() < deadline:
        time.sleep(0.2)
    assert kernels.full_ready
    assert path.exists() and background.finished_marker(path).exists()
    assert int(kernels.entry_cell[0]) == kernels.c_address
    np.testing.assert_array_equal(function(qs), first)
    np.testing.assert_array_equal(in_numba(qs), first)
    np.testing.assert_allclose(first**3 + 2 * first, qs, rtol=1e-14)


@pytest.mark.parametrize("setting", ["-1", "20", "ten", " "])
def test_the_workers_niceness_is_checked(monkeypatch, setting):
    monkeypatch.setenv("IMPLICITOP_BACKGROUND_NICENESS", setting)
    with pytest.raises(ValueError, match="IMPLICITOP_BACKGROUND_NICENESS"):
        background.niceness()
    monkeypatch.setenv("IMPLICITOP_BACKGROUND_NICENESS", "3")
    assert background.niceness() == 3
    monkeypatch.delenv("IMPLICITOP_BACKGROUND_NICENESS")
    assert background.niceness() == background.NICENESS


def test_a_batch_worth_threads_does_not_wait_for_the_full_solver(monkeypatch):
    """A batch split over threads (a data-sized model) runs on the shared solver while
    the full one is not ready: its first call does not wait 10 s for a compile (the
    full solver takes over when the worker process has built it, as for small calls),
    and its roots are the same as those of small calls, bit for bit."""
    monkeypatch.setenv("IMPLICITOP_BACKGROUND_COMPILE", "0")
    coefficient = 3 + uuid.uuid4().int % 10**9 / 1e12  # a residual no process solved
    op = make_implicit_op(X**3 + coefficient * X - Q, X, Q)
    kernels = op.solver.kernels
    qs = np.linspace(1, 10, 3 * THREADED_FROM + 17)
    large = op.solve(qs)
    assert not kernels.full_ready
    np.testing.assert_array_equal(large.root[::45], op.solve(qs[::45]).root)
    np.testing.assert_array_equal(large.status, 0)
    np.testing.assert_allclose(large.root**3 + coefficient * large.root, qs, rtol=1e-14)


@pytest.mark.parametrize("collector_on", [True, False], ids=["collector on", "collector off"])
def test_no_cycle_collection_runs_while_numba_compiles(monkeypatch, collector_on):
    """Compiling allocates so much that Python's cycle collector would walk the whole
    heap several times (0.2 s each with PyMC loaded): it is paused while numba compiles
    a new residual's functions and its full solver, and left as it was."""
    monkeypatch.setenv("IMPLICITOP_BACKGROUND_COMPILE", "0")
    coefficient = 5 + uuid.uuid4().int % 10**9 / 1e12  # a residual no process solved
    solver = make_implicit_op(X**3 + coefficient * X - Q, X, Q).solver
    compiling, during = [False], []
    original = compiled.c_function

    def watched(function, signature):
        compiling[0] = True
        during.append(("enabled", gc.isenabled()))
        try:
            return original(function, signature)
        finally:
            compiling[0] = False

    def record(phase: str, info: dict) -> None:
        if phase == "start" and compiling[0]:
            during.append(("collection", info["generation"]))

    monkeypatch.setattr(compiled, "c_function", watched)
    was_enabled = gc.isenabled()
    (gc.enable if collector_on else gc.disable)()
    gc.callbacks.append(record)
    try:
        kernels = compiled.problem_kernels(solver.problem, solver.starts)
        assert kernels.compiled and not kernels.full_ready
        assert gc.isenabled() == collector_on
        kernels.c_address  # noqa: B018 (the full solver, compiled here)
        assert gc.isenabled() == collector_on
    finally:
        gc.callbacks.remove(record)
        (gc.enable if was_enabled else gc.disable)()
    # the element functions and the full solver (and the shared solver where this
    # process had not loaded it yet), each compiled with the collector paused
    assert len(during) >= 2 and set(during) == {("enabled", False)}
    root = solver.solve(2.0).root
    np.testing.assert_allclose(root**3 + coefficient * root, 2.0, rtol=1e-14)


@pytest.mark.parametrize("problem", [CATALOGUE[0], SYSTEMS[0]], ids=lambda p: p.name)
def test_the_generated_module_runs_the_algorithm_modules_source(problem):
    """A change to a solver is one edit: the compiled module holds its source verbatim."""
    kernels = problem.build().solver.kernels
    generated = open(kernels.module.__file__).read()
    algorithm = scalar if problem in CATALOGUE else system
    assert inspect.getsource(algorithm) in generated
    assert "def solve_block(" in inspect.getsource(algorithm)


def test_expressions_numba_cannot_compile_run_as_plain_python_with_a_reason():
    message = r"numba could not compile .*\(fresnels: no compiled implementation\).*Rewrite"
    with pytest.warns(RuntimeWarning, match=message):
        op = make_implicit_op(sp.fresnels(X) - Q, X, Q, bracket=(0, np.sqrt(2)))
        assert not op.solver.kernels.compiled
    qs = np.linspace(0.01, 0.7, 19)
    result = op.solve(qs)
    assert (result.status == SolveStatus.CONVERGED).all()
    np.testing.assert_allclose(special.fresnel(result.root)[0], qs, rtol=1e-12)


@pytest.mark.parametrize("order", [1, 2, 3, 6])
def test_the_compiled_polygamma_functions_agree_with_scipy_and_mpmath(order):
    """SciPy has no compiled polygamma to call: the kernels compute it as SciPy does,
    from Hurwitz's zeta function (Cephes' algorithm), with the whole powers of its sum
    by multiplications: SciPy's values to rounding, its poles and NaNs, and as close to
    mpmath's as SciPy's own."""
    import mpmath

    from implicitop._solvers.special import polygamma

    xs = np.concatenate(
        [np.geomspace(1e-6, 1e12, 300), -np.geomspace(1e-3, 40, 100) + 1e-3 * np.pi, [-3.0, 0.0]]
    )
    ours = np.array([polygamma(float(order), x) for x in xs])
    scipys = special.polygamma(order, xs)
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(scipys))
    np.testing.assert_array_equal(np.isinf(ours), np.isinf(scipys))
    finite = np.isfinite(scipys)
    np.testing.assert_allclose(ours[finite], scipys[finite], rtol=1e-14)
    positive = xs[(xs > 0) & finite][::10]
    exact = np.array([float(mpmath.polygamma(order, mpmath.mpf(x))) for x in positive])
    ours_error = np.abs(np.array([polygamma(float(order), x) for x in positive]) / exact - 1)
    scipy_error = np.abs(special.polygamma(order, positive) / exact - 1)
    assert ours_error.max() <= max(scipy_error.max(), 4.5e-16)


@pytest.mark.parametrize(
    ("residual", "reference"),
    [
        (sp.lowergamma(2.5, X) / sp.gamma(2.5) - Q, lambda q: special.gammaincinv(2.5, q)),
        (sp.uppergamma(2.5, X) / sp.gamma(2.5) - Q, lambda q: special.gammainccinv(2.5, q)),
        (sp.erfinv(Q) - sp.log(X), lambda q: np.exp(special.erfinv(q))),
        (sp.besselk(0, X) - Q, None),
        (sp.besselj(0, X) - Q, lambda q: optimize.brentq(lambda x: special.j0(x) - q, 0, 2.4)),
        (  # its slope is digamma (psi)
            sp.loggamma(X + 2) - Q,
            lambda q: optimize.brentq(
                lambda x: special.gammaln(x + 2) - q, 0, 10, xtol=1e-300, rtol=8.9e-16
            ),
        ),
        (
            sp.Ei(X) - 1 / Q,
            lambda q: optimize.brentq(lambda x: special.expi(x) - 1 / q, 0.3725, 50, rtol=8.9e-16),
        ),
        (  # its slope is trigamma
            sp.digamma(X) - sp.log(Q),
            lambda q: optimize.brentq(
                lambda x: special.digamma(x) - np.log(q), 0.1, 5, xtol=1e-300, rtol=8.9e-16
            ),
        ),
        (
            sp.polygamma(2, X) + 1 / Q,
            lambda q: optimize.brentq(
                lambda x: special.polygamma(2, x) + 1 / q, 0.1, 10, xtol=1e-300, rtol=8.9e-16
            ),
        ),
    ],
    ids=[
        "lowergamma",
        "uppergamma",
        "erfinv",
        "besselk",
        "besselj",
        "loggamma",
        "Ei",
        "digamma",
        "polygamma",
    ],
)
def test_scipy_special_functions_compile_natively(residual, reference):
    bracket = (0.0, 2.4) if residual.has(sp.besselj) else None
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no plain-Python fallback
        op = make_implicit_op(residual, X, Q, bracket=bracket)
        assert op.solver.kernels.compiled
    qs = np.linspace(0.05, 0.95, 7)
    result = op.solve(qs)
    assert result.converged.all()
    if reference is None:  # K0 falls from inf to 0: check the residual
        np.testing.assert_allclose(special.k0(result.root), qs, rtol=1e-12)
        return
    np.testing.assert_allclose(result.root, [reference(q) for q in qs], rtol=1e-11)


@pytest.mark.parametrize(
    ("residual", "name"), [(sp.li(X) - Q, "li"), (sp.Chi(X) - Q, "Chi"), (sp.zeta(X) - Q, "zeta")]
)
def test_functions_without_a_numeric_implementation_are_refused_at_construction(residual, name):
    with pytest.raises(ValueError, match=name):
        make_implicit_op(residual, X, Q)


def lambdified_undefined_names(problem, starts):
    """The names the problem's functions over SciPy and NumPy call and their module
    does not define, read from the functions ``lambdify`` writes (the slow way)."""
    missing = set()
    for function in element_functions(problem, starts).values():
        called = _codegen.called_names(inspect.getsource(function))
        missing |= called - function.__globals__.keys() - set(dir(builtins))
    return missing


def catalogued_problem(problem):
    def problem_and_starts():
        solver = problem.build().solver
        return solver.problem, solver.starts

    return problem_and_starts


def built_problem(residual):
    def problem_and_starts():
        problem = ImplicitProblem.build(residual, X, Q)
        return problem, ImplicitOptions().starts(problem)

    return problem_and_starts


@pytest.mark.parametrize(
    "problem_and_starts",
    [
        *(catalogued_problem(p) for p in CATALOGUE + SYSTEMS),
        built_problem(sp.li(X) - Q),  # printed as li, which neither module defines
        built_problem(sp.Max(X, Q, 1) + sp.Min(X**2, Q) - 3),  # reduce, lambdify imports it
    ],
    ids=[p.name for p in CATALOGUE + SYSTEMS] + ["li", "max-min"],
)
def test_the_names_no_module_defines_are_found_without_lambdify(problem_and_starts):
    """The construction's check prints each expression instead of writing the functions
    (0.04 against 0.24 s for the catalogue): the same undefined names either way."""
    problem, starts = problem_and_starts()
    expected = lambdified_undefined_names(problem, starts)
    assert _codegen._undefined_names(problem, starts) == expected
    assert expected == ({"li"} if problem.residuals[0].has(sp.li) else set())


@pytest.mark.parametrize(
    ("function", "reference"),
    [
        (sp.expint(1, X), special.exp1),
        (sp.li(X), lambda x: special.expi(np.log(x))),
        (sp.Chi(X), lambda x: special.shichi(x)[1]),
        (sp.Shi(X), lambda x: special.shichi(x)[0]),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, sp.Basic) else "",
)
def test_the_refusal_names_a_rewrite_that_compiles_and_solves(function, reference):
    name = type(function).__name__
    with pytest.raises(ValueError) as refused:
        make_implicit_op(function - Q, X, Q)
    hint = _REWRITES[name]
    assert hint in str(refused.value)
    # the rewrite as the message writes it: "f(x) is <rewrite> for <domain>"
    rewrite = sp.sympify(hint.split(" is ")[1].split(" for ")[0], locals={"x": X})
    op = make_implicit_op(rewrite - Q, X, Q)
    assert op.solver.kernels.compiled
    qs = np.array([0.01, 0.3, 2.0]) if name == "expint" else np.array([0.05, 0.6, 4.0])
    result = op.solve(qs)
    assert result.converged.all()
    np.testing.assert_allclose(reference(result.root), qs, rtol=1e-12)


def test_floor_residuals_solve_off_their_jumps():
    op = make_implicit_op(X + sp.floor(X) - Q, X, Q)
    result = op.solve(np.array([4.5, 3.5]))  # x in [2, 3): x = 2.5; 3.5 is a jump
    np.testing.assert_allclose(result.root[0], 2.5, rtol=1e-15)
    assert result.status[1] == SolveStatus.NOT_A_ROOT


CHILD = """
import sys, time
sys.path.insert(0, {tests!r})
from catalogue import build_seed
from implicitop._solvers import compiled
kernels = build_seed().solver.kernels
kernels.c_address
print(kernels._elements.cache_hits, compiled._shared_solver(1).cache_hits, kernels._full.cache_hits)
"""


def test_a_second_process_loads_the_compiled_kernel_from_disk(tmp_path):
    """Two new processes that need the same new problem at the same time: one compiles
    each module while holding its file locked, the other waits and loads the machine
    code from numba's disk cache (without the lock both would compile). A third, later,
    loads everything."""
    # numba keeps its cache beside the generated module unless NUMBA_CACHE_DIR moves it
    inherited = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    environment = {
        **inherited,
        "IMPLICITOP_CACHE_DIR": str(tmp_path),
        "IMPLICITOP_BACKGROUND_COMPILE": "0",
        "PYTHONWARNINGS": "ignore",
    }
    script = CHILD.format(tests=os.path.dirname(__file__))

    def start() -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "-c", script], env=environment, stdout=subprocess.PIPE, text=True
        )

    def hits(process: subprocess.Popen) -> list[int]:
        output, _ = process.communicate(timeout=900)
        assert process.returncode == 0
        return [int(count) for count in output.split()]

    together = sorted(hits(process) for process in [start(), start()])
    # the element functions, the shared and the full solver compiled once, loaded once
    assert [sum(column) for column in zip(*together, strict=True)] == [1, 1, 1]
    assert hits(start()) == [1, 1, 1]  # all three loaded
    assert any(tmp_path.glob(f"{folder_name()}/__pycache__/*.nbc"))


def test_a_change_to_the_special_functions_changes_every_generated_module(tmp_path, monkeypatch):
    """numba's disk cache does not see the code it inlines from another module: a new
    version of the special functions must give new modules, not stale machine code."""
    before = generated._module("a title", (), [])
    changed = tmp_path / "special.py"
    changed.write_text(generated._SPECIAL.read_text() + "\n# another version\n")
    monkeypatch.setattr(generated, "_SPECIAL", changed)
    assert generated._module("a title", (), []) != before


def test_seed_op_uses_the_compiled_kernel():
    assert build_seed().solver.kernels.compiled


def test_an_algorithm_numba_cannot_compile_raises_with_numbas_message(tmp_path, monkeypatch):
    # a defect of the solver, not of the residual: no silent plain-Python fallback
    anchor = "    tol, minimum, size = settings[TOL], settings[MINIMUM] != 0.0, params.shape[0]\n"
    source = inspect.getsource(scalar)
    assert anchor in source
    path = tmp_path / "broken_scalar.py"
    path.write_text(source.replace(anchor, anchor + "    object()\n"))
    spec = importlib.util.spec_from_file_location("broken_scalar", path)
    broken = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(broken)
    monkeypatch.setitem(generated.ALGORITHMS, 1, (batch, broken, lockstep))
    shared = (compiled._shared_module, compiled._shared_solver)
    for cached in shared:  # the shared solver is built from the broken algorithm again
        cached.cache_clear()
    u = sp.Symbol("u", positive=True)
    try:
        with pytest.raises(RuntimeError, match="but not the solver around them: TypingError"):
            make_implicit_op(u**5 + u - Q, u, Q).solve(1.0)
    finally:
        for cached in shared:
            cached.cache_clear()


def test_the_residual_its_slope_and_size_share_their_subexpressions():
    """The acceptance test's block evaluates R, dR/dx and the size of R's terms from one
    function: the data-sized model's ``exp`` once per lane (twice as two functions, whose
    arguments SymPy wrote in different orders), the same values as the functions that
    give them apart (R to the rounding of its terms), for every one-equation problem of
    the catalogue."""
    mu, theta, x = sp.symbols("mu theta x", positive=True)
    data = make_implicit_op(mu + mu * sp.exp(theta * mu * x) - 1, mu, [theta, x]).solver
    source = element_source(data.problem, data.starts)
    together = source.split("def residual_slope_and_scale(")[1].split("\ndef ")[0]
    assert together.count("exp(") == 1
    rng = np.random.default_rng(13)
    for entry in CATALOGUE:
        solver = entry.build().solver
        if solver.problem.size != 1:
            continue
        functions = element_functions(solver.problem, solver.starts)
        values = [rng.uniform(*entry.ranges[p.name], 20) for p in solver.problem.params]
        roots = solver.solve(*values).root
        for row, root in zip(parameter_rows(values), roots, strict=True):
            if not np.isfinite(root):
                continue
            for u in (root, root * (1 + 1e-3) + 1e-3):
                value, slope = functions["residual_and_slope"](u, row)
                size = functions["scale"](u, row)
                joint = functions["residual_slope_and_scale"](u, row)
                # R in another order of its terms: the same to their rounding
                assert abs(joint[0] - value) <= 8 * np.finfo(float).eps * size
                np.testing.assert_allclose(joint[1:], (slope, size), rtol=1e-14)


def test_a_function_the_algorithm_calls_must_be_generated(monkeypatch, rebuilt_problems):
    def without_scale(problem, starts):
        source = element_source(problem, starts)
        return source.replace("def scale(", "def unused_scale(")

    monkeypatch.setattr(compiled, "element_source", without_scale)
    u = sp.Symbol("u", positive=True)
    with pytest.raises(RuntimeError, match="does not define scale"):
        make_implicit_op(u**7 + u - Q, u, Q).solve(1.0)


def test_both_tiers_start_from_an_expression_given_as_x0():
    """Where a start is an expression of the parameters, both tiers evaluate it for each
    element (the shared solver by address): x**2 = q from q + 1 finds the positive
    root, from -q - 1 and from the default start 0 the negative one."""
    x = sp.Symbol("x", real=True)
    values = [np.array([0.25, 4.0, 9.0])]
    for start, sign in ((Q + 1, 1.0), (-Q - 1, -1.0), (None, -1.0)):
        solver = make_implicit_op(x**2 - Q, x, Q, x0=start).solver
        shared = compiled._shared_solver(1).address
        for address in (shared, solver.kernels.c_address):
            root, code = solve_at(address, solver, values)
            np.testing.assert_array_equal(code, SolveStatus.CONVERGED)
            np.testing.assert_allclose(root[:, 0], sign * np.sqrt(values[0]), rtol=1e-15)
