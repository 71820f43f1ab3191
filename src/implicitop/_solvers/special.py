"""SciPy's special functions for the compiled kernels: the C functions of
:mod:`scipy.special.cython_special`, called by symbol name.

Each function's address is bound to a symbol of this process when this module is
imported (only by kernels whose residual uses a special function); compiled code holds
only the symbol's name, so numba can cache kernels that call them and a later process
binds the names again before loading them (as numba-scipy and PyTensor's numba backend
reach the same C functions).
"""

import llvmlite.binding as llvm
import numba
from numba import types
from numba.extending import get_cython_function_address
from scipy.special import cython_special

__all__ = ["betainc", "erfcinv", "erfinv", "expi", "gammainc", "gammaincc", "iv", "jv", "kv", "psi"]

_MODULE = "scipy.special.cython_special"
_JIT_OPTIONS = {"cache": True, "error_model": "numpy", "nogil": True, "inline": "always"}


def _export_name(name: str, arity: int) -> str:
    """The name cython_special exports the all-double version of ``name`` under (fused
    functions are exported once per type, as ``__pyx_fuse_<i><name>``)."""
    signature = f"double ({', '.join(['double'] * arity)}, int __pyx_skip_dispatch)"
    for export, capsule in cython_special.__pyx_capi__.items():
        if export == name or export.removeprefix("__pyx_fuse_").lstrip("0123456789") == name:
            if f'"{signature}"' in repr(capsule):
                return export
    raise LookupError(f"scipy.special.cython_special has no {signature} {name}")


def _external(name: str, arity: int) -> types.ExternalFunction:
    """``name`` as a function compiled code calls by symbol: ``(double * arity, int)``,
    the last argument 0 (Cython's "skip dispatch" flag)."""
    export = _export_name(name, arity)
    symbol = f"implicitop_cython_special_{name}"
    llvm.add_symbol(symbol, get_cython_function_address(_MODULE, export))
    return types.ExternalFunction(symbol, types.float64(*[types.float64] * arity, types.intc))


_gammainc = _external("gammainc", 2)
_gammaincc = _external("gammaincc", 2)
_iv = _external("iv", 2)
_jv = _external("jv", 2)
_kv = _external("kv", 2)
_psi = _external("psi", 1)
_erfinv = _external("erfinv", 1)
_erfcinv = _external("erfcinv", 1)
_expi = _external("expi", 1)
_betainc = _external("betainc", 3)


@numba.njit(**_JIT_OPTIONS)
def gammainc(a: float, x: float) -> float:
    """Regularised lower incomplete gamma function ``P(a, x)``."""
    return _gammainc(a, x, 0)


@numba.njit(**_JIT_OPTIONS)
def gammaincc(a: float, x: float) -> float:
    """Regularised upper incomplete gamma function ``Q(a, x)``."""
    return _gammaincc(a, x, 0)


@numba.njit(**_JIT_OPTIONS)
def iv(order: float, x: float) -> float:
    """Modified Bessel function of the first kind."""
    return _iv(order, x, 0)


@numba.njit(**_JIT_OPTIONS)
def jv(order: float, x: float) -> float:
    """Bessel function of the first kind."""
    return _jv(order, x, 0)


@numba.njit(**_JIT_OPTIONS)
def kv(order: float, x: float) -> float:
    """Modified Bessel function of the second kind."""
    return _kv(order, x, 0)


@numba.njit(**_JIT_OPTIONS)
def psi(x: float) -> float:
    """The digamma function."""
    return _psi(x, 0)


@numba.njit(**_JIT_OPTIONS)
def erfinv(x: float) -> float:
    """Inverse of the error function."""
    return _erfinv(x, 0)


@numba.njit(**_JIT_OPTIONS)
def erfcinv(x: float) -> float:
    """Inverse of the complementary error function."""
    return _erfcinv(x, 0)


@numba.njit(**_JIT_OPTIONS)
def expi(x: float) -> float:
    """The exponential integral ``Ei(x)``."""
    return _expi(x, 0)


@numba.njit(**_JIT_OPTIONS)
def betainc(a: float, b: float, x: float) -> float:
    """Regularised incomplete beta function ``I_x(a, b)``."""
    return _betainc(a, b, x, 0)
