"""implicitop: differentiable ops for implicitly defined quantities.

``make_implicit_op(R, mu, theta)`` takes a SymPy residual ``R(mu, theta)``, derives
``dmu/dtheta`` by the implicit function theorem and returns a PyTensor Op that PyMC
samples with NUTS, ADVI and the other samplers; ``make_fixed_point_op(g, u, theta)``
does the same for the fixed point ``u = g(u, theta)`` of a map, and
``make_argmin_op(f, u, theta)`` for the minimum ``u* = argmin_u f(u, theta)``.

The package is layered: :mod:`implicitop.problem` (SymPy) and :mod:`implicitop.solvers`
(the numeric solve) import no framework; :mod:`implicitop.pytensor` holds the Op and
its numba and JAX dispatch, imported when one of its names is first used here;
:mod:`implicitop.theano` holds the same Op for Theano and PyMC3 (the seed page's
stack), and is imported only when asked for.
"""

from importlib import import_module

from implicitop.options import ImplicitOptions
from implicitop.problem import Domain, ImplicitProblem
from implicitop.solvers import ImplicitSolveError, SolveResult, SolveStatus, solve

__all__ = [
    "Domain",
    "ImplicitOp",
    "ImplicitOptions",
    "ImplicitProblem",
    "ImplicitSolveError",
    "SolveResult",
    "SolveStatus",
    "make_argmin_op",
    "make_fixed_point_op",
    "make_implicit_op",
    "solve",
]
__version__ = "0.1.0"

_PYTENSOR_NAMES = ("ImplicitOp", "make_argmin_op", "make_fixed_point_op", "make_implicit_op")


def __getattr__(name: str) -> object:
    if name in _PYTENSOR_NAMES:
        return getattr(import_module("implicitop.pytensor"), name)
    raise AttributeError(f"module 'implicitop' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
