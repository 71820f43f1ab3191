"""implicitop.theano's public constructors have examples, and they run as doctests
(its op class is the PyTensor op's twin, documented there)."""

import doctest
import inspect

import pytest

import implicitop.theano

CONSTRUCTORS = [
    name
    for name in implicitop.theano.__all__
    if inspect.isfunction(getattr(implicitop.theano, name))
]


def test_the_constructors_are_all_there():
    assert CONSTRUCTORS == ["make_argmin_op", "make_fixed_point_op", "make_implicit_op"]


@pytest.mark.parametrize("name", CONSTRUCTORS)
def test_a_public_object_has_examples_that_run(name):
    value = getattr(implicitop.theano, name)
    assert "\nExamples\n--------\n" in (inspect.getdoc(value) or "")
    (test,) = doctest.DocTestFinder(recurse=False).find(value, name, module=False, globs={})
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    results = runner.run(test, out=lambda text: pytest.fail(text, pytrace=False))
    assert results.attempted and results.failed == 0
