"""The main suite's set-up: Hypothesis profiles (:mod:`hypothesis_profiles`).

``tests/theano`` runs only in the legacy environment (``make test-theano``, its own
``pytest.ini``), so it is not collected here.
"""

import hypothesis_profiles  # noqa: F401  (registers and loads the profiles)

collect_ignore = ["theano"]
