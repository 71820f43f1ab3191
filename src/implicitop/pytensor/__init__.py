"""The PyTensor Op and its numba and JAX dispatch.

Importing this package registers the op with PyTensor's numba backend and, when JAX
is installed (``pip install implicitop[jax]``), with its JAX backend.
"""

from importlib.util import find_spec

from implicitop.pytensor import numba_dispatch  # noqa: F401  (registers the numba dispatch)
from implicitop.pytensor.op import ImplicitOp, make_implicit_op

__all__ = ["ImplicitOp", "make_implicit_op"]

if find_spec("jax") is not None:
    from implicitop.pytensor import jax_dispatch  # noqa: F401  (registers the JAX dispatch)
