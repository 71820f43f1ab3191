"""JAX solvers with implicit derivatives, built on the framework-neutral core: the
problem's compiled solver as an XLA foreign function on the CPU, traced JAX elsewhere.

:func:`root_function` turns a :class:`~implicitop.Solver` into a JAX function
of parameter arrays whose JVP is the implicit derivative. PyTensor's JAX backend uses
it (:mod:`implicitop._pytensor.jax_dispatch`); this package imports no PyTensor.
"""

from implicitop._jax.roots import root_function, solve_function

__all__ = ["root_function", "solve_function"]
