"""The PyTensor Op and its numba and JAX dispatch.

The op registers with PyTensor's numba backend and, when JAX is installed
(``pip install implicitop[jax]``), with its JAX backend, when PyTensor imports the
backend's dispatch module (:mod:`~implicitop.pytensor.after_import`): importing the
op imports neither.
"""

from importlib import import_module
from importlib.util import find_spec

from implicitop.pytensor.after_import import after_import
from implicitop.pytensor.op import ImplicitOp, make_implicit_op

__all__ = ["ImplicitOp", "make_implicit_op"]

after_import(
    "pytensor.link.numba.dispatch.basic",
    lambda: import_module("implicitop.pytensor.numba_dispatch"),
)
if find_spec("jax") is not None:
    after_import(
        "pytensor.link.jax.dispatch", lambda: import_module("implicitop.pytensor.jax_dispatch")
    )
