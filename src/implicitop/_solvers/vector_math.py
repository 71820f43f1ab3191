"""Vector ``exp``, ``log``, ``pow``, ... for the compiled solvers: glibc's libmvec.

LLVM's loop vectoriser turns a loop of ``exp`` calls into calls of a vector ``exp``
(four or eight values at once) only where it knows a vector math library. numba
sets up Intel's SVML where it is installed; elsewhere, on x86-64 Linux, glibc ships
libmvec (``libmvec.so.1``), which :func:`library` loads. Phase 1 of the one-equation
solver evaluates a whole block of elements in such a loop
(:mod:`~implicitop._solvers.lockstep`).

LLVM's setting is process-wide, and machine code compiled with it calls libmvec, which
a process that has not loaded it cannot run (numba's disk cache would hand such code
to other processes: they crash). So the setting is on only while numba compiles
implicitop's own modules (:func:`vector_library`, with numba's compiler lock held, so
no other code compiles meanwhile), and every process that loads them loads libmvec
first (:func:`~implicitop._solvers.generated.import_module`). libmvec's functions are
within 4 ulps, as glibc documents, and lane by lane the same whichever lane: a result
depends only on its own element. Set ``IMPLICITOP_VECTOR_MATH=0`` to do without (the
solver's loops then call the scalar functions; roots agree to rounding).
"""

from __future__ import annotations

import os
import platform
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

__all__ = ["LIBRARY", "SETTABLE_AGAIN_FROM", "library", "requested", "vector_library"]

#: The vector math library loaded on x86-64 Linux.
LIBRARY = "libmvec.so.1"


def requested() -> bool:
    """Whether ``$IMPLICITOP_VECTOR_MATH`` allows a vector math library (it is not ``0``)."""
    return os.environ.get("IMPLICITOP_VECTOR_MATH", "1") != "0"


#: The first LLVM that takes a command-line option more than once per process. Before
#: it, LLVM refuses a second setting ("may only occur zero or one times") and keeps the
#: first: the vector library could not be unset after implicitop's compile.
SETTABLE_AGAIN_FROM = (15,)


@lru_cache(maxsize=1)
def library() -> str:
    """The vector math library implicitop's machine code calls in this process, loaded
    once: "SVML" (set up by numba for all code), "libmvec" (loaded here) or "none" (not
    wanted, or not available: not x86-64 Linux with glibc, or an LLVM older than
    :data:`SETTABLE_AGAIN_FROM`, as numba 0.60's)."""
    import llvmlite.binding as llvm
    from numba.core import config

    if config.USING_SVML:
        return "SVML"
    if not requested() or not sys.platform.startswith("linux"):
        return "none"
    if llvm.llvm_version_info < SETTABLE_AGAIN_FROM:
        return "none"
    if platform.machine() not in ("x86_64", "AMD64"):
        return "none"
    try:
        llvm.load_library_permanently(LIBRARY)
    except RuntimeError:  # not glibc, or a glibc without it
        return "none"
    return "libmvec"


@contextmanager
def vector_library() -> Iterator[str]:
    """Within this block, numba compiles math loops with vector calls of :func:`library`
    (libmvec: LLVM's setting is made on entry and undone on exit, numba's compiler lock
    held throughout); yields the library's name."""
    name = library()
    if name != "libmvec":  # SVML is numba's own, always on; or there is none
        yield name
        return
    import llvmlite.binding as llvm
    from numba.core.compiler_lock import global_compiler_lock

    with global_compiler_lock:
        llvm.set_option("implicitop", "-vector-library=LIBMVEC-X86")
        try:
            yield name
        finally:
            llvm.set_option("implicitop", "-vector-library=none")
