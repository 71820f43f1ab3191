"""The Theano Op for PyMC3 3.11 (Theano-PyMC 1.1.2): the seed page's own stack.

``from implicitop.theano import make_implicit_op`` gives the same one call as the
PyTensor op, returning a ``theano.graph.op.Op``. Only this package imports Theano.

Theano's C compiler path does not build on Python 3.11, and its BLAS probe fails with
NumPy 1.23's distutils, so unless ``THEANO_FLAGS`` is set already this sets it to
``cxx=,blas__ldflags=,optimizer_excluding=fusion`` before Theano is first imported:
Python implementations, NumPy's BLAS, and no elementwise fusion (without C, Theano
evaluates a fused node element by element in Python, where the nodes apart are NumPy
ufuncs over whole arrays: a model's logp+dlogp took 1.5-4.9 times as long with it,
``benchmarks/theano_flags.py``). Import this package before ``pymc3`` or set the flags
yourself.
"""

import os
import sys

#: The flags set where ``THEANO_FLAGS`` is not (see above).
_DEFAULT_FLAGS = "cxx=,blas__ldflags=,optimizer_excluding=fusion"

if "theano" not in sys.modules:
    os.environ.setdefault("THEANO_FLAGS", _DEFAULT_FLAGS)

from implicitop.theano._op import (  # noqa: E402  (after THEANO_FLAGS is set)
    ImplicitOp,
    make_argmin_op,
    make_fixed_point_op,
    make_implicit_op,
)

__all__ = ["ImplicitOp", "make_argmin_op", "make_fixed_point_op", "make_implicit_op"]
