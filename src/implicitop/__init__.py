"""implicitop: differentiable PyTensor ops for implicitly defined quantities.

``make_implicit_op(R, mu, theta)`` takes a SymPy residual ``R(mu, theta)``, derives
``dmu/dtheta`` by the implicit function theorem and returns a PyTensor Op that PyMC
samples with NUTS, ADVI and the other samplers.
"""

from importlib.util import find_spec as _find_spec

from implicitop import numba_backend  # noqa: F401  (registers the numba dispatch)
from implicitop.op import ImplicitOp, make_implicit_op
from implicitop.options import ImplicitOptions
from implicitop.problem import Domain, ImplicitProblem
from implicitop.solve import ImplicitSolveError, SolveResult, SolveStatus

__all__ = [
    "Domain",
    "ImplicitOp",
    "ImplicitOptions",
    "ImplicitProblem",
    "ImplicitSolveError",
    "SolveResult",
    "SolveStatus",
    "make_implicit_op",
]
__version__ = "0.1.0"

if _find_spec("jax") is not None:  # the optional JAX backend: pip install implicitop[jax]
    from implicitop import jax_backend  # noqa: F401  (registers the JAX dispatch)
