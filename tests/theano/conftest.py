"""The legacy suite's set-up: Theano's flags before anything imports it (those
``implicitop.theano`` sets, which the scripts run inherit), the Hypothesis profiles of
the main suite, no background compiles (as in the main suite's ``conftest``: each op's
full solver would be compiled in a worker process beside the tests, for solvers no
test waits for; the scripts run inherit the setting), and test values off for every
test."""

import os

os.environ.setdefault("IMPLICITOP_BACKGROUND_COMPILE", "0")

import implicitop.theano  # noqa: F401,I001  (first: it sets THEANO_FLAGS)
import pytest
import theano

import hypothesis_profiles  # noqa: F401  (registers and loads the profiles)


@pytest.fixture(autouse=True)
def no_test_values():
    """PyMC3 3.11 turns Theano's ``compute_test_value`` to "raise" for a model's
    ``with`` block, and a model block entered again inside it (as distributions do)
    leaves it at "raise" afterwards; each test starts from Theano's default."""
    theano.config.compute_test_value = "off"
