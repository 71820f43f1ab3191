"""The C implementation of :class:`~implicitop.ImplicitOp` for PyTensor's
default (C) backend.

The C code (``implicit_op.c``, beside this module) broadcasts the inputs, calls the
problem's compiled solver by the address it reads, at each call, from the cell it is
given as an op parameter (:attr:`~implicitop._solvers.compiled.ProblemKernels.entry_cell`:
the solver's faster tier takes over when it is ready) and fills the outputs, with
no Python in between; batches large enough for threads are shared with helper
threads, Python called only to name them (:func:`~implicitop._solvers.threads.share_job`).
The addresses are parameters, not part of the code, so PyTensor compiles the C once
and keeps it across processes.
"""

from __future__ import annotations

import hashlib
import inspect
from importlib.resources import files

import numpy as np
from pytensor.graph.basic import Apply
from pytensor.graph.utils import MethodNotDefined
from pytensor.link.c.params_type import Params, ParamsType
from pytensor.link.c.type import generic
from pytensor.scalar import int64

from implicitop._solvers import Solver
from implicitop._solvers.parallel import THREADED_FROM

__all__ = [
    "FIELDS",
    "MAX_INPUTS",
    "PARAMS_TYPE",
    "TYPENUMS",
    "call_code",
    "field_arguments",
    "has_c_code",
    "param_values",
    "params",
    "support_code",
    "version",
]

_SOURCE = files("implicitop._pytensor").joinpath("implicit_op.c").read_text()

#: What the C code is given per op, in the order ``implicitop_solve`` takes it: what
#: names the helper threads of a large batch, the size from which batches are shared,
#: the address of the cell holding the solver's address and the address and length of
#: its settings record.
FIELDS = {
    "share": generic,
    "threaded_from": int64,
    "entry_cell": int64,
    "settings": int64,
    "settings_size": int64,
}
PARAMS_TYPE = ParamsType(**FIELDS)

#: The NumPy type numbers of the output dtypes the C code writes (float16 keeps Python).
TYPENUMS = {"float32": "NPY_FLOAT32", "float64": "NPY_FLOAT64"}
#: NumPy's broadcasting iterator takes at most NPY_MAXARGS arrays (32 before NumPy 2),
#: and the C code holds the inputs in arrays of that size.
MAX_INPUTS = 32


def param_values(solver: Solver) -> dict[str, object]:
    """The values of the op parameters for ``solver`` in this process (addresses are per
    process), by field."""
    from implicitop._solvers.threads import share_job  # numba: not where ops are unpickled

    record = solver.record
    values = {
        "threaded_from": THREADED_FROM,
        "entry_cell": solver.kernels.entry_cell.ctypes.data,
        "settings": record.ctypes.data,
        "settings_size": record.shape[0],
    }
    return {"share": share_job, **{name: np.int64(value) for name, value in values.items()}}


def params(solver: Solver) -> Params:
    """The op parameters for ``solver`` in this process."""
    return Params(PARAMS_TYPE, **param_values(solver))


def support_code() -> str:
    """The C helper every node calls, after the words of a job it builds
    (:data:`~implicitop._solvers.threads.JOB_LAYOUT`)."""
    from implicitop._solvers.threads import JOB, JOB_LAYOUT, TASK  # numba, as in params()

    words = [f"#define IMPLICITOP_JOB_WORDS {JOB}", f"#define IMPLICITOP_TASK_WORDS {TASK}"]
    words += [f"#define IMPLICITOP_JOB_{name} {index}" for name, index in JOB_LAYOUT.items()]
    return "\n".join(words) + "\n" + _SOURCE


def version() -> tuple:
    """Changes whenever the C code does (the helper, the op parameters it is given and
    the call each node makes), so PyTensor recompiles."""
    generated = support_code() + repr(list(FIELDS)) + inspect.getsource(call_code)
    generated += inspect.getsource(has_c_code)
    return (1, hashlib.sha256(generated.encode()).hexdigest()[:16])


def field_arguments(sub: dict) -> str:
    """The op parameters (:data:`FIELDS`) as C arguments, in their order, in a node's
    code (``sub``: PyTensor's names in it)."""
    return ", ".join(f"{sub['params']}->{name}" for name in FIELDS)


def has_c_code(solver: Solver, raises: bool, dtype: str, count: int) -> bool:
    """Whether an op's node of ``count`` inputs and outputs of ``dtype`` has C code
    (:func:`call_code`): failures given as NaN (``raises`` False: the error
    ``on_failure="raise"`` raises names the failed elements, from Python), a dtype the
    C code writes (:data:`TYPENUMS`), at most :data:`MAX_INPUTS` inputs, and a solver
    numba compiles (asked last: it compiles the problem's functions)."""
    return not raises and dtype in TYPENUMS and count <= MAX_INPUTS and solver.kernels.compiled


def call_code(solver: Solver, raises: bool, node: Apply, inputs, outputs, sub) -> str:
    """The node's C code: one call of the helper.

    Raises
    ------
    MethodNotDefined
        Where the op keeps its Python ``perform``: residuals numba cannot compile,
        ``on_failure="raise"`` (its error names the failed elements), float16 and
        more than 32 parameters.
    """
    dtype = node.outputs[0].type.dtype
    if not has_c_code(solver, raises, dtype, len(inputs)):
        raise MethodNotDefined("c_code", type(node.op), "ImplicitOp")
    typenum = TYPENUMS[dtype]
    fields = field_arguments(sub)
    return f"""
    {{
        PyArrayObject *inputs[] = {{{", ".join(inputs)}}};
        PyArrayObject **outputs[] = {{{", ".join(f"&{o}" for o in outputs)}}};
        if (implicitop_solve(inputs, {len(inputs)}, outputs, {len(outputs)}, {typenum},
                             {fields}) != 0) {{
            {sub["fail"]}
        }}
    }}
    """
