"""The implicit derivatives of one equation's root in its gradient, from compiled code.

The gradient of an op of one equation multiplies the output's gradient by
``dmu/dtheta_j = -(dR/dtheta_j) / (dR/dmu)`` at the roots. As a PyTensor graph those
quotients are evaluated by PyTensor's element-wise C loops, one scalar ``exp`` (say) at
a time: on the data-sized model (``benchmarks/data_model.py``) that loop took longer
than the rest of the log density and its gradient together. :class:`ImplicitSlopes`
computes them with the problem's compiled element functions instead, in vector
instructions (:func:`~implicitop._solvers.lockstep.slopes_block`), in the default (C)
backend and in Python; PyTensor's numba and JAX backends, which compile the graph's
arithmetic themselves, get the graph (:func:`slopes_as_graph`). Either way the values
are the same quotients (to rounding), and the gradient of the op is the graph's, so
it can be differentiated again.
"""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import Sequence
from importlib.resources import files
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pytensor
import pytensor.tensor as pt
from pytensor.compile import optdb
from pytensor.gradient import DisconnectedType
from pytensor.graph.basic import Apply, Variable
from pytensor.graph.rewriting.basic import dfs_rewriter, node_rewriter
from pytensor.graph.utils import MethodNotDefined
from pytensor.link.c.op import COp
from pytensor.link.c.params_type import Params, ParamsType
from pytensor.scalar import int64
from pytensor.tensor.rewriting.basic import register_specialize

from implicitop._pytensor.c_implementation import MAX_INPUTS, TYPENUMS

if TYPE_CHECKING:
    from implicitop._pytensor.op import ImplicitOp

__all__ = ["ImplicitSlopes", "compiled_slopes", "has_slopes_c_code", "slopes_as_graph"]

_SOURCE = files("implicitop._pytensor").joinpath("implicit_slopes.c").read_text()
PARAMS_TYPE = ParamsType(entry=int64)


class ImplicitSlopes(COp):
    """``dmu/dtheta_j`` of an op of one equation at its roots, one output per parameter.

    Parameters
    ----------
    implicit : ImplicitOp
        The op whose roots are differentiated; its solver is compiled (numba), and
        compiled code can evaluate every partial derivative of its residual.
    wanted : tuple of int, optional
        The parameters (by position) whose derivatives are outputs, by default all.
        A graph that uses some of them only gets an op of those
        (:func:`_only_the_used`): a model's data needs no derivative.

    Notes
    -----
    Called as ``ImplicitSlopes(op)(mu, *inputs)`` with the op's output and inputs (all
    of one shape); NaN where ``mu`` is NaN (no root) or ``dR/dmu`` is 0.
    """

    __props__ = ("implicit", "wanted")
    params_type = PARAMS_TYPE

    def __init__(self, implicit: ImplicitOp, wanted: tuple[int, ...] | None = None) -> None:
        self.implicit = implicit
        self.wanted = tuple(range(len(implicit.params))) if wanted is None else wanted

    def __str__(self) -> str:
        return f"ImplicitSlopes({self.implicit})"

    def make_node(self, *inputs: Variable) -> Apply:
        root = inputs[0]
        return Apply(self, list(inputs), [root.type() for _ in self.wanted])

    def get_params(self, node: Apply) -> Params:
        address = self.implicit.solver.kernels.slopes_address
        return Params(PARAMS_TYPE, entry=np.int64(address))

    def perform(self, node: Apply, inputs: Sequence, output_storage: list, params=None) -> None:
        root, *values = inputs
        slopes = compiled_slopes(self.implicit, self.wanted, root, values)
        for storage, slope, variable in zip(output_storage, slopes, node.outputs, strict=True):
            storage[0] = slope.astype(variable.type.dtype)

    def infer_shape(self, fgraph: object, node: Apply, input_shapes: list) -> list:
        return [input_shapes[0]] * len(node.outputs)

    def L_op(
        self, inputs: Sequence[Any], outputs: Sequence[Any], output_grads: Sequence[Any]
    ) -> list[Any]:
        # The graph's gradient in inputs of its own: the root depends on the others
        # through the op, and that path is the op's gradient's, not this one's.
        own = [variable.type() for variable in inputs]
        graphs = slopes_as_graph(self.implicit, own, self.wanted)
        known = {
            graph: grad
            for graph, grad in zip(graphs, output_grads, strict=True)
            if not isinstance(grad.type, DisconnectedType)
        }
        grads = pytensor.grad(
            None, own, known_grads=known, disconnected_inputs="ignore", return_disconnected="zero"
        )
        grads = pytensor.clone_replace(
            cast(list, grads), replace=dict(zip(own, inputs, strict=True))
        )
        return [pt.cast(grad, x.dtype) for grad, x in zip(grads, inputs, strict=True)]

    def c_support_code(self, **kwargs: object) -> str:
        from implicitop._solvers.lockstep import BLOCK, LANES

        sizes = (
            f"#define IMPLICITOP_BLOCK {BLOCK}\n#define IMPLICITOP_LANES {LANES}\n"
            f"#define IMPLICITOP_MAX_INPUTS {MAX_INPUTS}\n"
        )
        return sizes + _SOURCE

    def c_code(self, node: Apply, name: str, inputs, outputs, sub) -> str:
        dtype = node.outputs[0].type.dtype
        if not has_slopes_c_code(dtype, len(inputs)):
            raise MethodNotDefined("c_code", type(node.op), "ImplicitSlopes")
        typenum = TYPENUMS[dtype]
        return f"""
        {{
            PyArrayObject *inputs[] = {{{", ".join(inputs)}}};
            PyArrayObject **outputs[] = {{{", ".join(f"&{o}" for o in outputs)}}};
            int wanted[] = {{{", ".join(map(str, self.wanted))}}};
            if (implicitop_slopes(inputs, {len(inputs)}, outputs, wanted, {len(outputs)},
                                  {typenum}, {sub["params"]}->entry) != 0) {{
                {sub["fail"]}
            }}
        }}
        """

    def c_code_cache_version(self) -> tuple:
        generated = self.c_support_code() + inspect.getsource(ImplicitSlopes.c_code)
        generated += inspect.getsource(has_slopes_c_code)
        return (1, hashlib.sha256(generated.encode()).hexdigest()[:16])


def has_slopes_c_code(dtype: str, count: int) -> bool:
    """Whether an :class:`ImplicitSlopes` node of ``count`` inputs (the roots and the
    op's parameters) and outputs of ``dtype`` has C code: a dtype the C code writes and
    at most :data:`~implicitop._pytensor.c_implementation.MAX_INPUTS` inputs."""
    return dtype in TYPENUMS and count <= MAX_INPUTS


def compiled_slopes(
    implicit: ImplicitOp, wanted: Sequence[int], root: np.ndarray, values: Sequence[np.ndarray]
) -> list[np.ndarray]:
    """The implicit derivatives in the ``wanted`` parameters at the roots ``root`` of the
    parameter ``values`` (each of the roots' shape), from the solver's compiled entry
    point (float64, the roots' shape): what :class:`ImplicitSlopes` computes."""
    root = np.asarray(root, dtype=np.float64)
    flat = [np.ascontiguousarray(v, dtype=np.float64).reshape(-1) for v in values]
    slopes = implicit.solver.kernels.slopes(np.ascontiguousarray(root).reshape(-1), flat)
    return [slopes[j].reshape(root.shape) for j in wanted]


def slopes_as_graph(
    implicit: ImplicitOp, inputs: Sequence[Any], wanted: Sequence[int]
) -> list[Any]:
    """The implicit derivatives in the ``wanted`` parameters as a PyTensor graph of
    ``inputs`` (the root, then the op's inputs): what :class:`ImplicitSlopes` computes."""
    root = inputs[0]
    graphs = implicit.graph_slopes(implicit.bindings(list(inputs)), root)
    return [graphs[j] for j in wanted]


@node_rewriter([ImplicitSlopes])
def _as_graph(fgraph: object, node: Apply) -> list:
    graphs = slopes_as_graph(node.op.implicit, node.inputs, node.op.wanted)
    return [pt.cast(graph, out.type.dtype) for graph, out in zip(graphs, node.outputs, strict=True)]


@node_rewriter([ImplicitSlopes])
def _only_the_used(fgraph: Any, node: Apply) -> dict | bool:
    """The op of the derivatives the graph uses, where it leaves some unused."""
    used = [i for i, output in enumerate(node.outputs) if fgraph.clients[output]]
    if not used or len(used) == len(node.outputs):
        return False
    op = ImplicitSlopes(node.op.implicit, tuple(node.op.wanted[i] for i in used))
    outputs = op.make_node(*node.inputs).outputs
    return dict(zip([node.outputs[i] for i in used], outputs, strict=True))


# PyTensor's numba and JAX backends compile the graph's arithmetic themselves (in
# vector instructions where they can) and have no C: there the slopes are the graph.
optdb.register(
    "implicitop_slopes_as_graph", dfs_rewriter(_as_graph), "numba", "jax", position=-0.005
)
register_specialize(_only_the_used, "implicitop_only_the_used_slopes")
