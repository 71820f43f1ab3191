"""The Theano Op for PyMC3 3.11 (Theano-PyMC 1.1.2): the seed page's own stack.

``from implicitop.theano import make_implicit_op`` gives the same one call as the
PyTensor op, returning a ``theano.graph.op.Op``. Only this package imports Theano.

Theano's C compiler path does not build on Python 3.11, and its BLAS probe fails with
NumPy 1.23's distutils, so unless ``THEANO_FLAGS`` is set already this sets it to
``cxx=,blas__ldflags=`` (Python implementations, NumPy's BLAS) before Theano is
first imported. Import this package before ``pymc3`` or set the flags yourself.
"""

import os
import sys

if "theano" not in sys.modules:
    os.environ.setdefault("THEANO_FLAGS", "cxx=,blas__ldflags=")

from implicitop.theano._op import ImplicitOp, make_argmin_op, make_fixed_point_op, make_implicit_op

__all__ = ["ImplicitOp", "make_argmin_op", "make_fixed_point_op", "make_implicit_op"]
