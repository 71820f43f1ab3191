"""The settings record: laid out from the settings' fields, again at unpickling, so a
settings object pickled by another version of implicitop gets this version's layout."""

import dataclasses
import pickle

import numpy as np
import sympy as sp

from implicitop import make_implicit_op
from implicitop._solvers.settings import HEADER, SHARED, Settings

X = sp.Symbol("x", real=True)
A = sp.Symbol("a", positive=True)


def same_fields(first: Settings, second: Settings) -> bool:
    return all(
        np.array_equal(getattr(first, field.name), getattr(second, field.name))
        for field in dataclasses.fields(Settings)
        if field.init
    )


def test_a_pickled_settings_object_keeps_its_fields_and_record():
    settings = make_implicit_op(X**3 - A, X, A, x0=A / 2).solver.settings
    restored = pickle.loads(pickle.dumps(settings))
    assert same_fields(restored, settings)
    assert restored.record.tobytes() == settings.record.tobytes()
    assert not restored.record.flags.writeable


def test_settings_pickled_before_a_field_was_added_get_this_versions_record():
    """The state of a pickle made before the record had the ``SHARED`` field and the
    settings the ``minimum`` one (the record was then stored as it was, its arrays one
    place earlier): unpickled, the record is laid out again, the missing field takes
    its default, and the solver finds the same roots."""
    op = make_implicit_op(X**3 - A, X, A)
    settings = op.solver.settings
    fields = {name: value for name, value in vars(settings).items() if name != "minimum"}
    old_record = np.concatenate([settings.record[:SHARED], settings.record[HEADER:]])
    restored = Settings.__new__(Settings)
    restored.__setstate__({**fields, "record": old_record})
    assert same_fields(restored, settings) and not restored.minimum
    assert restored.record.tobytes() == settings.record.tobytes()
    values = np.array([0.125, 8.0, 27.0])
    op.solver.settings = restored
    op.solver.__dict__.pop("record", None)  # the cached property: built from ``restored``
    np.testing.assert_allclose(op.solve(values).root, np.cbrt(values), rtol=1e-15)
