"""``benchmarks/run.py --quick`` runs after the test install and prints every row."""

import re

import closed_form
import data_model
import data_sizes
import kernel_floor
import laplace
import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
import run
import special_functions
import systems_gradient
import thread_costs
from scipy import optimize

from catalogue import poisson_normal_mode
from scripts import ROOT, assert_printed_ratio, run_script

#: The smoke run in parts that run side by side (``--only``), and the rows each prints.
PARTS = {
    "logp+dlogp,data-sized model,NUTS sampling,batched,vector math": [
        "seed logp+dlogp per call (default backend)",
        "seed logp+dlogp per call (NUMBA backend)",
        "observations, a root each: logp+dlogp per call",
        "observations: pm.sample",
        "observations: logp+dlogp per call, shared solver",
        "observations: logp+dlogp per call, numba backend",
        "seed pm.sample NUTS",
        "seed roots, theta log-uniform",
        "2x2 systems",
        "3x3 systems",
        "seed roots, vector exp/log",
        "seed roots, scalar exp/log",
        "observations: logp+dlogp per call, vector exp/log",
    ],
    "nutpie and numpyro": ["seed nutpie", "seed numpyro"],
    "nutpie in a new process,build time": [
        "seed nutpie, second new process: compile",
        "make_implicit_op + first solve, seed",
        "make_implicit_op + first solve, 3x3",
    ],
    "cold start,minima": [
        "a new residual: op, pytensor.function, first value+grad",
        "the same again with another numeric x0",
        "another new residual, same process (a notebook's edit)",
        "observations (same process)",
        "a new residual, compiledir of 2 implicit ops + the graph's",
        "a new residual, numba backend: op, function, first value+grad",
        "implicit ops cached",
        "groups, Laplace marginal: logp+dlogp per call",
        "groups, Laplace: ESS of mu, sigma per second of pm.sample",
        "Poisson-normal modes (argmin)",
    ],
}


def printed_rows(capsys: pytest.CaptureFixture[str], skip: int) -> list[list[str]]:
    """The cells of the table rows a benchmark printed, after its first ``skip`` lines
    (the title and the table's head)."""
    lines = capsys.readouterr().out.splitlines()
    return [[cell.strip() for cell in line.split("|")[1:-1]] for line in lines[skip:]]


@pytest.mark.parametrize(("steps", "rows"), PARTS.items(), ids=list(PARTS))
def test_the_benchmark_table_is_complete(steps, rows):
    output = run_script(ROOT / "benchmarks" / "run.py", "--quick", "--only", steps, timeout=1200)
    lines = [line for line in output.splitlines() if line.startswith("| ")]
    for row in rows:
        assert any(row in line for line in lines), f"missing row {row!r}"
    # every measured row gives a positive number for implicitop
    for line in lines[1:]:
        ours = line.split("|")[2].split()[0]
        assert float(ours) > 0, line
    ratios = [re.search(r"([\d.]+)x \|$", line) for line in lines]
    assert sum(match is not None for match in ratios) >= min(2, len(rows))


def test_the_data_model_baselines_compute_the_same_model():
    functions = []
    for mu_of in (run.data_op(), data_model.VectorNewtonOp(), data_model.root_scalar_over_data):
        model = data_model.data_model(mu_of, 200)
        function = model.logp_dlogp_function(ravel_inputs=True)
        function.set_extra_values({})
        functions.append(function)
    for log_theta in (np.log(0.3), np.log(1.3), np.log(4.0)):
        point = np.array([log_theta])
        (ours_logp, ours_grad), *baselines = (function(point) for function in functions)
        for logp, grad in baselines:
            np.testing.assert_allclose(logp, ours_logp, rtol=1e-10)
            np.testing.assert_allclose(grad, ours_grad, rtol=1e-7)


def test_the_closed_form_baseline_is_the_seed_root():
    """The unrolled Newton graph the fast-sampler rows compare against is the seed's
    model: its mu is brentq's root to rounding over theta >= 0."""
    theta = pt.dvector("theta")
    mu = pytensor.function([theta], closed_form.mu_from_theta(theta))
    thetas = np.concatenate([[0.0], np.geomspace(1e-4, 30, 60)])
    references = [
        optimize.brentq(lambda m, t=t: m + m * np.exp(t * m) - 1, 0, 1, xtol=1e-300, rtol=1e-15)
        for t in thetas
    ]
    np.testing.assert_allclose(mu(thetas), references, rtol=4e-15)


def test_the_laplace_baselines_compute_the_same_model():
    # each group's term -f(eta*) - log sigma - log(H)/2 at the mode in closed form
    groups = 40
    counts = laplace.counts(groups)
    models = [
        laplace.laplace_model(marginal, groups)
        for marginal in (laplace.implicitop_marginal(laplace.mode_op()), laplace.minimize_marginal)
    ]
    functions = [model.logp_dlogp_function(ravel_inputs=True) for model in models]
    for function in functions:
        function.set_extra_values({})
    ours_model = models[0]
    marginal = ours_model.compile_fn(
        ours_model.replace_rvs_by_values(ours_model.potentials)[0], inputs=ours_model.value_vars
    )
    for mu, sigma in ((0.7, 0.9), (2.0, 0.3), (-0.5, 1.8)):
        modes = poisson_normal_mode(counts, mu, sigma)
        terms = -laplace.negative_log_joint(modes, counts, mu, sigma) - np.log(sigma)
        terms -= 0.5 * np.log(np.exp(modes) + 1 / sigma**2)
        values = {"mu": np.array(mu), "sigma_log__": np.array(np.log(sigma))}
        assert marginal(values) == pytest.approx(terms.sum(), rel=1e-13)
        point = np.array([mu, np.log(sigma)])
        (ours, ours_grad), (theirs, theirs_grad) = (function(point) for function in functions)
        assert theirs == pytest.approx(ours, rel=1e-6)  # BFGS stops at |grad| < 1e-5
        np.testing.assert_allclose(theirs_grad, ours_grad, rtol=1e-4)


def test_the_systems_gradient_benchmark_compares_equal_gradients(capsys):
    systems_gradient.main(300)
    line = capsys.readouterr().out
    assert "same values: True" in line
    assert re.search(r"batched solve [0-9.]+ ms, [0-9.]+x", line)


def test_the_data_sizes_benchmark_prints_a_row_per_size(capsys):
    data_sizes.main((50, 120), rounds=1, full_solver=False)
    rows = printed_rows(capsys, 2)
    assert [row[0] for row in rows] == ["50", "120"]
    for _, ours, theirs, ratio in rows:
        assert float(ours) > 0 and float(theirs) > 0
        assert_printed_ratio(ratio, theirs, ours)


def test_the_special_functions_benchmark_prints_its_four_solvers(capsys):
    special_functions.main(300, rounds=1, full_solver=False)
    rows = printed_rows(capsys, 3)
    assert [row[0] for row in rows] == [
        "implicitop",
        "implicitop, Minka's start",
        "by hand (vectorised newton, Minka's start)",
        "implicitop as plain Python (before)",
    ]
    for _, milliseconds, _, difference in rows:
        assert float(milliseconds) > 0
        assert float(difference) < 1e-11  # each agrees with brentq


def test_the_thread_costs_benchmark_prints_its_four_settings(capsys):
    # it also fails where a setting's roots differ in a bit from one thread's
    thread_costs.main(rounds=3, full_solver=False)
    rows = printed_rows(capsys, 2)
    assert [row[0] for row in rows] == [
        "one thread, the whole batch",
        "two threads, each its own half",
        "two threads sharing the batch (solve_claimed)",
        "two threads, each a whole batch of its own",
    ]
    for _, wall, spent, cpu in rows:
        assert float(wall) > 0 and float(spent) > 0 and float(cpu) > 0
    (_, one_wall, one_spent, _), *_ = rows
    assert float(one_wall) == float(one_spent)  # one thread: its time is the round's


def test_the_kernel_floor_benchmark_solves_both_ways_to_rounding(capsys):
    kernel_floor.main(rounds=1)
    rows = printed_rows(capsys, 2)
    assert [row[0] for row in rows] == ["0.8", "1.3"]
    for _, ours, bare, ratio, ours_error, bare_error in rows:
        assert float(ours) > 0 and float(bare) > 0
        assert_printed_ratio(ratio, ours, bare)
        assert float(ours_error) < 1e-14 and float(bare_error) < 1e-14  # against brentq
