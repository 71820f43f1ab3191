"""Every public object has an Examples section, and its examples run as doctests.

The public API is what ``implicitop``, ``implicitop.testing`` and ``implicitop.dask``
export, plus the methods users call on an op (the API reference documents exactly
these). ``implicitop.theano``'s constructors are checked in the legacy suite.
"""

import doctest
import inspect

import pytest

import implicitop
import implicitop.dask
import implicitop.testing

#: The op's methods and properties that the reference documents.
OP_MEMBERS = (
    "problem",
    "options",
    "solve",
    "converged",
    "plot",
    "derivative",
    "jacobian",
    "minimum_value",
    "log_det_hessian",
)
#: Public data: documented by a comment, no example to run.
DATA = {"implicitop.testing.DEFAULT_RANGES"}


def _public() -> dict[str, object]:
    objects = {}
    for module in (implicitop, implicitop.testing, implicitop.dask):
        for name in module.__all__:
            objects[f"{module.__name__}.{name}"] = getattr(module, name)
    for name in OP_MEMBERS:
        objects[f"implicitop.ImplicitOp.{name}"] = inspect.getattr_static(
            implicitop.ImplicitOp, name
        )
    return {name: value for name, value in objects.items() if name not in DATA}


PUBLIC = _public()


def test_the_public_api_is_what_the_package_exports():
    assert set(implicitop.__all__) == {
        "Domain",
        "ImplicitOp",
        "ImplicitOptions",
        "ImplicitProblem",
        "ImplicitSolveError",
        "SolveResult",
        "SolveStatus",
        "Solver",
        "make_argmin_op",
        "make_fixed_point_op",
        "make_implicit_op",
        "solve",
    }
    # No public name lives in a public module other than these: the rest is private.
    for name, value in PUBLIC.items():
        module = getattr(value, "__module__", None) or getattr(
            getattr(value, "fget", None), "__module__", ""
        )
        assert module.startswith("implicitop"), name


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_a_public_object_has_examples_that_run(name):
    value = PUBLIC[name]
    docstring = inspect.getdoc(value) or ""
    assert "\nExamples\n--------\n" in docstring, f"{name} has no Examples section"
    finder = doctest.DocTestFinder(recurse=False)
    (test,) = finder.find(value, name, module=False, globs={})
    assert test.examples, f"{name}'s Examples section has no example"
    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    runner = doctest.DocTestRunner(optionflags=flags)
    results = runner.run(test, out=lambda text: pytest.fail(text, pytrace=False))
    assert results.failed == 0
