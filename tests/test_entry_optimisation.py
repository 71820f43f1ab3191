"""LLVM's module passes on an entry point's whole code, once (``_solvers/entry_optimisation.py``).

The solvers' side (the same bits on both tiers, compiled here and loaded from numba's
disk cache) is tested in ``test_compiled.py``; the compile times are in
``benchmarks/compile_time.py``.
"""

import importlib.util
import sys
import uuid

import numba
import numpy as np
import pytest

from implicitop._solvers import entry_optimisation

SOURCE = """
from numba import carray


def inner(x):
    total = 0.0
    for value in x:
        total += value * value
    return total


def outer(x, n):
    return inner(carray(x, (n,))) + 1.0
"""


@pytest.fixture
def probe_module(tmp_path, monkeypatch):
    """A new module of two functions, ``outer`` calling ``inner``, both compiled by
    numba as separate functions; and the names of the libraries numba's module passes
    ran on (``passes``)."""
    name = f"implicitop_probe_{uuid.uuid4().hex[:12]}"
    path = tmp_path / f"{name}.py"
    path.write_text(SOURCE)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, name, module)
    spec.loader.exec_module(module)
    module.inner = numba.njit(inline="never", no_cpython_wrapper=True)(module.inner)
    module.outer_py = module.outer
    passes = []
    numba_passes = entry_optimisation._numba_module_passes

    def recorded(library):
        passes.append(library.name)
        numba_passes(library)

    monkeypatch.setattr(entry_optimisation, "_numba_module_passes", recorded)
    return module, passes


def entry_point(module):
    """``outer`` of ``module`` as a C function (compiled now), called from Python."""
    compiled = numba.cfunc("float64(CPointer(float64), intp)")(module.outer_py)
    return lambda x, n: compiled.ctypes(x.ctypes.data_as(compiled.ctypes.argtypes[0]), n)


def test_numbas_module_passes_are_wrapped():
    # a numba without CPUCodeLibrary._optimize_final_module would compile a system's
    # solvers 30-40% slower (and run them 2-3 times slower): this tells the pin to move
    assert entry_optimisation.INSTALLED


def test_inside_linked_once_the_named_callee_is_optimised_in_the_entry_point(probe_module):
    module, passes = probe_module
    x = np.arange(1.0, 6.0)
    with entry_optimisation.linked_once(module.__name__, {"inner"}):
        call = entry_point(module)
    assert call(x, 3) == 1.0 + 1.0 + 4.0 + 9.0
    assert "inner" not in passes
    assert passes.count("outer") == 2  # twice over the code linked into it


def test_outside_linked_once_numba_optimises_every_library(probe_module):
    module, passes = probe_module
    call = entry_point(module)
    assert call(np.arange(1.0, 6.0), 5) == 56.0
    assert passes.count("inner") == 1 and passes.count("outer") == 1


def test_a_function_of_another_module_with_a_named_callees_name_is_optimised(probe_module):
    # only the generated module's own functions skip the passes, never a namesake
    module, passes = probe_module
    with entry_optimisation.linked_once("implicitop_some_other_module", {"inner"}):
        call = entry_point(module)
    assert call(np.arange(1.0, 6.0), 2) == 6.0
    assert passes.count("inner") == 2 and passes.count("outer") == 2  # none skipped
