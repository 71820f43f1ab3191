"""implicitop: differentiable ops for implicitly defined quantities.

``make_implicit_op(R, mu, theta)`` takes a SymPy residual ``R(mu, theta)``, derives
``dmu/dtheta`` by the implicit function theorem and returns a PyTensor Op that PyMC
samples with NUTS, ADVI and the other samplers; ``make_fixed_point_op(g, u, theta)``
does the same for the fixed point ``u = g(u, theta)`` of a map, and
``make_argmin_op(f, u, theta)`` for the minimum ``u* = argmin_u f(u, theta)``.

The public API is what this module exports, plus :mod:`implicitop.testing` (property
tests for an op), :mod:`implicitop.dask` (solves larger than memory) and
:mod:`implicitop.theano` (the same op for Theano and PyMC3, the seed page's stack).
Modules whose names start with ``_`` are internal and may change without notice.
Importing this package imports neither PyTensor nor SymPy: they are imported when
an op is first built.
"""

import logging
from importlib import import_module
from typing import TYPE_CHECKING

from implicitop._options import ImplicitOptions
from implicitop._problem import Domain, ImplicitProblem
from implicitop._progress import LOGGER as _LOGGER
from implicitop._solvers import ImplicitSolveError, Solver, SolveResult, SolveStatus, solve

if TYPE_CHECKING:
    from implicitop._pytensor import (
        ImplicitOp,
        make_argmin_op,
        make_fixed_point_op,
        make_implicit_op,
    )

__all__ = [
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
]
__version__ = "0.1.0"

# Notes of long work (implicitop._progress) go to standard error at INFO where the
# application configures no logging, as PyMC's do.
if not logging.root.handlers:
    _LOGGER.setLevel(logging.INFO)
    if not _LOGGER.handlers:
        _LOGGER.addHandler(logging.StreamHandler())

_PYTENSOR_NAMES = ("ImplicitOp", "make_argmin_op", "make_fixed_point_op", "make_implicit_op")


def __getattr__(name: str) -> object:
    if name in _PYTENSOR_NAMES:
        return getattr(import_module("implicitop._pytensor"), name)
    raise AttributeError(f"module 'implicitop' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
