"""LLVM's module passes run on each C entry point's whole code, not at every level below it.

numba compiles each function that compiled code calls as a library of its own, and
finishes every library the same way (``CPUCodeLibrary.finalize``): it links in the IR
of everything the function calls, runs LLVM's module passes over the whole
(``_optimize_final_module``) and emits machine code. An entry point of a generated
module (:func:`~implicitop._solvers.generated.c_function`) thus had the code below it
optimised again at every level of the call chain above it: most of a system solver's
compile time.

While :func:`linked_once` is active in a thread, the libraries of the functions it
names (those only compiled code calls) skip the module passes. Every other library
first binds the functions linked into it to its own copies (internal linkage, as a
linker's link-time optimisation does), then runs the passes twice over the whole. Bound
locally, its machine code calls only code optimised with it: numba links a callee's IR
as ``linkonce_odr``, and the JIT resolves such a function to the first definition it
holds, which in the process that compiled them is the callee's own, here unoptimised,
machine code (from numba's disk cache, the entry point's copies). numba's function
passes still run on every function as it is lowered. Without the method this relies on
(another numba), every library is optimised as numba does.

Measured with ``benchmarks/compile_time.py`` and ``benchmarks/tiers.py`` (see
``benchmarks/README.md``): a system's solvers compile 30-40% faster and run 2-3 times
faster; the shared solver of one equation compiles and runs about 8% faster. The full
solver of one equation ran 7% slower with everything bound into it, so it is compiled
as numba does (:func:`~implicitop._solvers.generated.compiled_as_entry`). The arithmetic is the
same either way (no fast-math flags: LLVM may not reorder it), so the roots are the same
bit for bit: ``test_the_shared_and_the_full_solver_agree_bit_for_bit`` compares the
tiers in the process that compiles them (unbound, their roots there differed in the last
bits from those of a process that loads them from numba's disk cache).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from typing import Any

from numba.core import codegen

__all__ = ["INSTALLED", "VERSION", "linked_once"]

#: The version of this way of compiling, part of every generated module's digest: a
#: kernel compiled another way is compiled again, never mixed with these.
VERSION = 1

_SKIPPED = threading.local()


def _bind_locally(library: Any) -> None:
    """Give the functions linked into ``library``'s module internal linkage and names
    of their own, numba's reference counting functions aside.

    The JIT keeps internal functions' names in the table it resolves every later
    module's references from: under the names they had, a later library's call of the
    same function could reach this library's copy, which LLVM may have specialised to
    its callers here (a call of ``NRT_incref`` with a null pointer crashed that way).
    ``NRT_incref`` and ``NRT_decref`` keep their names and linkage: numba's pass that
    prunes reference counts finds them by name (renamed, the solvers ran 30% slower),
    and as ``linkonce_odr`` LLVM does not specialise them."""
    linked = {
        function.name
        for callee in library._linking_libraries
        for function in callee._get_module_for_linking().functions
        if not function.is_declaration and not function.name.startswith("NRT_")
    }
    tag = uuid.uuid4().hex
    for function in library._final_module.functions:
        if function.name in linked and not function.is_declaration:
            function.linkage = "internal"
            function.name = f"{function.name}.bound.{tag}"


def _skipped(library: Any) -> bool:
    """Whether ``library`` is that of one of the functions :func:`linked_once` names
    (the generated module's: numba's mangled names hold the module's name)."""
    names = getattr(_SKIPPED, "names", ())
    module = getattr(_SKIPPED, "module", "")
    return library.name in names and any(
        module in function.name
        for function in library._final_module.functions
        if not function.is_declaration
    )


def _optimize_final_module(library: Any) -> None:
    """numba's ``CPUCodeLibrary._optimize_final_module``, as described above."""
    if not getattr(_SKIPPED, "module", ""):  # not inside linked_once: as numba does
        _numba_module_passes(library)
    elif not _skipped(library):
        _bind_locally(library)
        _numba_module_passes(library)
        _numba_module_passes(library)


def _install() -> bool:
    """Put :func:`_optimize_final_module` in numba's place; ``False`` where this numba
    has no such method."""
    global _numba_module_passes
    library = getattr(codegen, "CPUCodeLibrary", None)
    module_passes = getattr(library, "_optimize_final_module", None)
    if module_passes is None:
        return False
    if getattr(module_passes, "__module__", "") == __name__:  # this module imported again
        module_passes = module_passes.__globals__["_numba_module_passes"]
    _numba_module_passes = module_passes
    library._optimize_final_module = _optimize_final_module  # type: ignore[union-attr]
    return True


#: numba's own module passes (see :func:`_install`).
_numba_module_passes: Callable[[Any], None]


#: Whether numba's module passes are wrapped (see the module's description).
INSTALLED = _install()


@contextmanager
def linked_once(module: str, callees: Collection[str]) -> Iterator[None]:
    """In this thread, the libraries of the functions of the generated module named
    ``module`` named ``callees`` (qualified names) skip LLVM's module passes, and every
    other library runs them on all the code linked into it: compile an entry point of
    that module inside, naming every function below it that only compiled code calls."""
    previous = getattr(_SKIPPED, "module", ""), getattr(_SKIPPED, "names", ())
    _SKIPPED.module, _SKIPPED.names = module, frozenset(callees)
    try:
        yield
    finally:
        _SKIPPED.module, _SKIPPED.names = previous
