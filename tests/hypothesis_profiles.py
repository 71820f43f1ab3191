"""Hypothesis profiles: ``ci`` (bounded, used when CI is set), ``dev`` and ``thorough``.

Loaded by the conftest of both test environments; select one with
``pytest --hypothesis-profile=thorough``.
"""

import os

from hypothesis import HealthCheck, settings

_COMMON = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow]}

settings.register_profile("ci", max_examples=12, derandomize=True, print_blob=True, **_COMMON)
settings.register_profile("dev", max_examples=25, **_COMMON)
settings.register_profile("thorough", max_examples=500, **_COMMON)
settings.load_profile("ci" if os.environ.get("CI") else "dev")
