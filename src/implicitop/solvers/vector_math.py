"""Vector ``exp``, ``log``, ``pow``, ... for the compiled solvers: glibc's libmvec.

LLVM's loop vectoriser turns a loop of ``exp`` calls into calls of a vector ``exp``
(four or eight values at once) only where it knows a vector math library. numba
sets up Intel's SVML where it is installed; elsewhere, on x86-64 Linux, glibc ships
libmvec (``libmvec.so.1``), which :func:`enable` loads and names to LLVM before
implicitop compiles anything. Phase 1 of the one-equation solver evaluates a whole
block of elements in such a loop (:mod:`~implicitop.solvers.lockstep`).

The setting is LLVM's, so it holds for the whole process: other numba code (PyTensor's
numba backend) vectorises its math loops with libmvec too, as it does with SVML.
libmvec's functions are within 4 ulps, as glibc documents, and lane by lane the same
whichever lane: a result depends only on its own element. Set
``IMPLICITOP_VECTOR_MATH=0`` to leave LLVM's setting alone (the solver's loops then
call the scalar functions; roots agree to rounding).
"""

from __future__ import annotations

import os
import platform
import sys
from functools import lru_cache

__all__ = ["LIBRARY", "enable", "requested"]

#: The vector math library loaded on x86-64 Linux.
LIBRARY = "libmvec.so.1"


def requested() -> bool:
    """Whether ``$IMPLICITOP_VECTOR_MATH`` allows a vector math library (it is not ``0``)."""
    return os.environ.get("IMPLICITOP_VECTOR_MATH", "1") != "0"


@lru_cache(maxsize=1)
def enable() -> str:
    """Make a vector math library known to LLVM, once per process, and say which: "SVML"
    (set up by numba), "libmvec" (loaded here) or "none" (not wanted, or not available:
    not x86-64 Linux with glibc)."""
    import llvmlite.binding as llvm
    from numba.core import config

    if config.USING_SVML:
        return "SVML"
    if not requested() or not sys.platform.startswith("linux"):
        return "none"
    if platform.machine() not in ("x86_64", "AMD64"):
        return "none"
    try:
        llvm.load_library_permanently(LIBRARY)
    except RuntimeError:  # not glibc, or a glibc without it
        return "none"
    llvm.set_option("implicitop", "-vector-library=LIBMVEC-X86")
    return "libmvec"
