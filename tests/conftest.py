"""The main suite's set-up: Hypothesis profiles (:mod:`hypothesis_profiles`), and no
background compiles.

``tests/theano`` runs only in the legacy environment (``make test-theano``, its own
``pytest.ini``), so it is not collected here.

The suite builds a few hundred problems. With background compiles on (a user's
default), every test process would compile each one's full solver in a worker
process, one after the other, for as long as the suite runs: CPU the tests need on a
2-core machine, for solvers almost no test waits for. The tiers give the same bits
(``test_the_shared_and_the_full_solver_agree_bit_for_bit``), the switch to the full
solver is tested on its own (``test_a_new_residual_is_solved_before_its_full_solver_is_ready``
calls it explicitly).
"""

import os

import pytest

import hypothesis_profiles  # noqa: F401  (registers and loads the profiles)

os.environ.setdefault("IMPLICITOP_BACKGROUND_COMPILE", "0")  # inherited by the scripts run

collect_ignore = ["theano"]


@pytest.fixture
def rebuilt_problems():
    """For a test that patches how a problem is derived, printed or compiled: the
    problems it builds are derived afresh, and none outlives it in the process's
    caches, where a later test building the same residual would get the patched
    functions (NaN implicit derivatives, say) instead of its own."""
    from implicitop import _codegen, _problem
    from implicitop._solvers import compiled

    caches = (_problem._validated, _codegen._derived_expressions, compiled.problem_kernels)
    for cache in caches:
        cache.cache_clear()
    yield
    for cache in caches:
        cache.cache_clear()
