"""An equation's roots and their implicit derivatives in one node of the C backend.

A gradient graph of an op of one equation holds the op's node and an
:class:`~implicitop._pytensor.slopes.ImplicitSlopes` node of its output and inputs.
Where both run in the C backend, the rewrite :func:`_roots_with_slopes` puts them in
one :class:`ImplicitRootsAndSlopes` node: each part of a large batch has its
derivatives evaluated by the thread that solved its roots, as soon as they are solved
and while they are in its cache, so the derivatives are shared by the threads and
need no pass over the batch of their own. The values are the two nodes' bit for bit.
"""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import Sequence
from importlib.resources import files
from typing import TYPE_CHECKING, Any, cast

import numpy as np
from pytensor.graph.basic import Apply, Variable
from pytensor.graph.rewriting.basic import node_rewriter
from pytensor.link.c.op import COp
from pytensor.link.c.params_type import Params, ParamsType
from pytensor.scalar import int64
from pytensor.tensor.rewriting.basic import register_specialize

from implicitop._pytensor import c_implementation
from implicitop._pytensor.slopes import ImplicitSlopes, compiled_slopes, has_slopes_c_code

if TYPE_CHECKING:
    from implicitop._pytensor.op import ImplicitOp

__all__ = ["ImplicitRootsAndSlopes"]

_SOURCE = files("implicitop._pytensor").joinpath("implicit_fused.c").read_text()
#: The C code's parameters: the op's (:data:`~implicitop._pytensor.c_implementation.FIELDS`)
#: and the address of the entry point of the implicit derivatives.
PARAMS_TYPE = ParamsType(**c_implementation.FIELDS, slopes_entry=int64)


class ImplicitRootsAndSlopes(COp):
    """The roots of an op of one equation and ``dmu/dtheta_j`` at them in the
    parameters ``wanted``: the outputs of its node and of an
    :class:`~implicitop._pytensor.slopes.ImplicitSlopes` node of that node, in one.

    Parameters
    ----------
    implicit : ImplicitOp
        The op of one equation, its solver and the entry point of its implicit
        derivatives compiled, its output float64.
    wanted : tuple of int
        The parameters (by position) whose derivatives are outputs.

    Notes
    -----
    Called with the op's inputs (all of one shape, as the op's node has them):
    ``[mu, dmu/dtheta_wanted[0], ...]``.
    """

    __props__ = ("implicit", "wanted")
    params_type = PARAMS_TYPE

    def __init__(self, implicit: ImplicitOp, wanted: tuple[int, ...]) -> None:
        self.implicit = implicit
        self.wanted = wanted

    def __str__(self) -> str:
        return f"ImplicitRootsAndSlopes({self.implicit})"

    def make_node(self, *inputs: Variable) -> Apply:
        root = cast(Apply, self.implicit.make_node(*inputs)).outputs[0]
        return Apply(self, list(inputs), [root.type() for _ in range(1 + len(self.wanted))])

    def get_params(self, node: Apply) -> Params:
        kernels = self.implicit.solver.kernels
        values = c_implementation.param_values(self.implicit.solver)
        return Params(PARAMS_TYPE, **values, slopes_entry=np.int64(kernels.slopes_address))

    def perform(self, node: Apply, inputs: Sequence, output_storage: list, params=None) -> None:
        root = np.asarray(self.implicit.solver.solve(*inputs).root, dtype=np.float64)
        output_storage[0][0] = root
        slopes = compiled_slopes(self.implicit, self.wanted, root, inputs)
        for storage, slope in zip(output_storage[1:], slopes, strict=True):
            storage[0] = slope

    def infer_shape(self, fgraph: object, node: Apply, input_shapes: list) -> list:
        return [input_shapes[0]] * len(node.outputs)

    def c_support_code(self, **kwargs: object) -> str:
        return (
            c_implementation.support_code()
            + ImplicitSlopes(self.implicit).c_support_code()
            + _SOURCE
        )

    def c_code(self, node: Apply, name: str, inputs, outputs, sub) -> str:
        fields = c_implementation.field_arguments(sub)
        return f"""
        {{
            PyArrayObject *inputs[] = {{{", ".join(inputs)}}};
            PyArrayObject **outputs[] = {{{", ".join(f"&{o}" for o in outputs)}}};
            int wanted[] = {{{", ".join(map(str, self.wanted))}}};
            if (implicitop_roots_and_slopes(inputs, {len(inputs)}, outputs, wanted,
                                            {len(self.wanted)}, {fields},
                                            {sub["params"]}->slopes_entry) != 0) {{
                {sub["fail"]}
            }}
        }}
        """

    def c_code_cache_version(self) -> tuple:
        """Changes whenever the C code or the parameters it is given do."""
        generated = self.c_support_code() + inspect.getsource(ImplicitRootsAndSlopes.c_code)
        generated += repr(c_implementation.version())
        return (1, hashlib.sha256(generated.encode()).hexdigest()[:16])


def _fusable(implicit: Any, root: Variable, inputs: Sequence[Variable]) -> bool:
    """Whether the op's node of ``inputs`` and the derivatives' node of its roots and
    ``inputs`` both have C code, and the roots are float64 (what the fused C code
    writes): then one node gives both nodes' values."""
    raises = implicit.options.on_failure == "raise"
    return (
        root.type.dtype == "float64"
        and has_slopes_c_code("float64", 1 + len(inputs))
        and c_implementation.has_c_code(implicit.solver, raises, "float64", len(inputs))
    )


@node_rewriter([ImplicitSlopes])
def _roots_with_slopes(fgraph: Any, node: Apply) -> dict | bool:
    """The op's node and the derivatives' node of its output and inputs in one node, of
    the derivatives the graph uses."""
    root, *inputs = node.inputs
    solving = root.owner
    implicit = node.op.implicit
    if solving is None or solving.op != implicit or solving.inputs != inputs:
        return False
    used = [i for i, output in enumerate(node.outputs) if fgraph.clients[output]]
    if not used or not _fusable(implicit, root, inputs):
        return False
    wanted = tuple(node.op.wanted[i] for i in used)
    fused = ImplicitRootsAndSlopes(implicit, wanted).make_node(*inputs).outputs
    return {root: fused[0], **{node.outputs[i]: fused[1 + n] for n, i in enumerate(used)}}


register_specialize(_roots_with_slopes, "implicitop_roots_with_slopes")
