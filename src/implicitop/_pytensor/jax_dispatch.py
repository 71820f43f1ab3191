"""PyTensor's JAX backend runs :class:`~implicitop.ImplicitOp` in JAX.

``pytensor.function(..., mode="JAX")`` and samplers that go through JAX (``pm.sample(
nuts_sampler="numpyro")``, blackjax) need the op in JAX itself. On the CPU the op's
compiled solver runs as an XLA foreign function (the C backend's numbers, nothing for
XLA to compile); on other platforms the solver is traced. The expressions the traced
solver and the implicit derivative need are printed to PyTensor graphs and converted
by PyTensor's own JAX dispatch, so every function PyTensor can express in JAX works;
the solver and its implicit derivative are :func:`implicitop._jax.root_function`.
Traced roots agree with the other backends to rounding; elements without a root give
NaN. ``on_failure="raise"`` has no JAX form (a traced function cannot raise on values) and raises
``NotImplementedError`` when the graph is compiled.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import pytensor.tensor as pt
import sympy as sp
from pytensor.graph.fg import FunctionGraph
from pytensor.link.jax.dispatch import jax_funcify

from implicitop._jax import root_function
from implicitop._pytensor.op import ImplicitOp
from implicitop._pytensor.printing import to_pytensor

__all__ = ["jax_funcify_implicit_op"]


def _jax_function(expressions: list, symbols: list[sp.Symbol]) -> Callable[..., tuple]:
    """``expressions`` of ``symbols`` as a JAX function, through PyTensor's JAX dispatch."""
    scalars = [pt.dscalar(s.name) for s in symbols]
    bindings = dict(zip(symbols, scalars, strict=True))
    printed = to_pytensor([sp.sympify(e) for e in expressions], bindings)
    outputs = [pt.cast(graph, "float64") for graph in printed]
    return jax_funcify(FunctionGraph(scalars, outputs, clone=True))


@jax_funcify.register(ImplicitOp)
def jax_funcify_implicit_op(op: ImplicitOp, node=None, **kwargs: object) -> Callable:
    """The JAX implementation of ``op``: one output per unknown."""
    if op.options.on_failure == "raise":
        raise NotImplementedError(
            f"{op}: on_failure='raise' cannot be traced by JAX; build the op with "
            "on_failure='nan' and check op.converged(...) instead"
        )
    roots = root_function(op.solver, _jax_function)
    dtype = node.outputs[0].dtype
    n = op.problem.size

    def implicit_op(*inputs: jax.Array) -> jax.Array | tuple[jax.Array, ...]:
        shape = jnp.shape(inputs[0])
        flat = [jnp.ravel(jnp.asarray(v, dtype=jnp.float64)) for v in inputs]
        root = roots(*flat)
        outputs = tuple(root[:, j].reshape(shape).astype(dtype) for j in range(n))
        return outputs[0] if n == 1 else outputs

    return implicit_op
