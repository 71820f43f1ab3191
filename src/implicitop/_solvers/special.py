"""SciPy's special functions for the compiled kernels: the C functions of
:mod:`scipy.special.cython_special`, called by symbol name, and the polygamma
functions, which SciPy computes from a Hurwitz zeta function it does not export.

Each function's address is bound to a symbol of this process when this module is
imported (only by kernels whose residual uses a special function); compiled code holds
only the symbol's name, so numba can cache kernels that call them and a later process
binds the names again before loading them (as numba-scipy and PyTensor's numba backend
reach the same C functions).
"""

import math

import llvmlite.binding as llvm
import numba
from numba import types
from numba.extending import get_cython_function_address
from scipy.special import cython_special

__all__ = [
    "betainc",
    "erfcinv",
    "erfinv",
    "expi",
    "gammainc",
    "gammaincc",
    "iv",
    "jv",
    "kv",
    "polygamma",
    "psi",
]

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


#: ``(2j)! / B_2j`` for the Euler-Maclaurin terms of :func:`hurwitz_zeta` (Cephes').
_EULER_MACLAURIN = (
    12.0,
    -720.0,
    30240.0,
    -1209600.0,
    47900160.0,
    -1.8924375803183791606e9,
    7.47242496e10,
    -2.950130727918164224e12,
    1.1646782814350067249e14,
    -4.5979787224074726105e15,
    1.8152105401943546773e17,
    -7.1661652561756670113e18,
)
_MACHEP = 1.11022302462515654042e-16


@numba.njit(**_JIT_OPTIONS)
def _inverse_power(a: float, s: float) -> float:
    """``a^-s``: by multiplications where ``s`` is a small whole number and ``a >= 1``
    (the polygamma functions' sum: faster than ``pow``, within an ulp or two of it,
    and ``a^s`` never subnormal); by ``pow`` elsewhere."""
    if s == math.floor(s) and 0.0 < s <= 64.0 and a >= 1.0:
        return 1.0 / a ** int(s)
    return a**-s


@numba.njit(cache=True, error_model="numpy", nogil=True)
def hurwitz_zeta(s: float, q: float) -> float:
    """Hurwitz's zeta function ``sum_k (k + q)^-s`` for ``s > 1``: Cephes' algorithm,
    as ``scipy.special.zeta(s, q)`` computes it (a direct sum until ``k + q > 9``, then
    Euler-Maclaurin's expansion; the expansion at infinity for ``q > 1e8``), its terms'
    whole powers by multiplications (:func:`_inverse_power`). inf at
    ``s = 1`` and at integer ``q <= 0``; NaN for ``s < 1``, and for ``q < 0`` unless
    ``s`` is an integer."""
    if s == 1.0:
        return math.inf
    if not s > 1.0:
        return math.nan
    if q <= 0.0:
        if q == math.floor(q):
            return math.inf
        if s != math.floor(s):
            return math.nan
    if q > 1e8:
        return (1.0 / (s - 1.0) + 1.0 / (2.0 * q)) * q ** (1.0 - s)
    total = _inverse_power(q, s)
    a = q
    i = 0
    b = 0.0
    while i < 9 or a <= 9.0:
        i += 1
        a += 1.0
        b = _inverse_power(a, s)
        total += b
        if abs(b / total) < _MACHEP:
            return total
    w = a
    total += b * w / (s - 1.0)
    total -= 0.5 * b
    a = 1.0
    k = 0.0
    for coefficient in _EULER_MACLAURIN:
        a *= s + k
        b /= w
        term = a * b / coefficient
        total += term
        if abs(term / total) < _MACHEP:
            break
        k += 1.0
        a *= s + k
        b /= w
        k += 1.0
    return total


@numba.njit(**_JIT_OPTIONS)
def polygamma(order: float, x: float) -> float:
    """The polygamma function ``psi^(order)(x)`` of an integer ``order >= 1`` (``psi``
    is order 0), as SciPy computes it: ``(-1)^(order+1) order! zeta(order + 1, x)``."""
    sign = 1.0 if order % 2.0 == 1.0 else -1.0
    return sign * math.gamma(order + 1.0) * hurwitz_zeta(order + 1.0, x)
