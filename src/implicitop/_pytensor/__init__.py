"""The PyTensor Op and its numba and JAX dispatch.

The op registers with PyTensor's numba backend and, when JAX is installed
(``pip install implicitop[jax]``), with its JAX backend, when PyTensor imports the
backend's dispatch module (:mod:`~implicitop._pytensor.after_import`): importing the
op imports neither.
"""

import warnings
from collections.abc import Callable
from importlib import import_module
from importlib.util import find_spec

from implicitop._pytensor import fused  # noqa: F401 (registers its rewrite)
from implicitop._pytensor.after_import import after_import
from implicitop._pytensor.op import (
    ImplicitOp,
    make_argmin_op,
    make_fixed_point_op,
    make_implicit_op,
)

__all__ = ["ImplicitOp", "make_argmin_op", "make_fixed_point_op", "make_implicit_op"]


def _registration(module: str) -> Callable[[], None]:
    """Import ``module``, which registers the op with a backend; where that fails, say
    why (PyTensor would only say it has no conversion for the op)."""

    def register() -> None:
        try:
            import_module(module)
        except Exception as error:
            warnings.warn(
                f"implicitop could not register its op with this PyTensor backend ({module}): "
                f"{type(error).__name__}: {error}",
                RuntimeWarning,
                stacklevel=2,
            )

    return register


after_import(
    "pytensor.link.numba.dispatch.basic", _registration("implicitop._pytensor.numba_dispatch")
)
if find_spec("jax") is not None:
    after_import("pytensor.link.jax.dispatch", _registration("implicitop._pytensor.jax_dispatch"))
