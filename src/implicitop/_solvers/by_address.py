"""The element functions of the shared solver: calls of a problem's entry point by address.

The shared solver is the algorithm (:mod:`~implicitop._solvers.batch` and
:mod:`~implicitop._solvers.scalar` or :mod:`~implicitop._solvers.system`) compiled
once for every problem, followed by this module's definitions of the element
functions (:mod:`~implicitop._solvers.interface`). Each calls the problem's compiled
entry point (:mod:`~implicitop._solvers.element_entry`), whose address
:func:`~implicitop._solvers.batch.solve_by_address` appends to every parameter row
after the number of unknowns. The arithmetic is the problem's own compiled code
either way, so the shared solver gives the full solver's results bit for bit; it
only pays a call per evaluation instead of inlining it.
"""

import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

from implicitop._solvers.element_entry import (
    BRACKET,
    GUESS,
    HALLEY_BLOCK,
    HALLEY_PARTS,
    RESIDUAL,
    RESIDUAL_AND_SLOPE,
    RESIDUAL_BLOCK,
    RESIDUALS_AND_JACOBIAN,
    SCALE,
    SCALES,
    VALUE_BLOCK,
)

__all__ = [
    "bracket",
    "call_block",
    "call_by_address",
    "call_entry",
    "call_solver",
    "call_values",
    "guess",
    "halley_block",
    "halley_parts",
    "residual",
    "residual_and_slope",
    "residual_block",
    "residuals_and_jacobian",
    "scale",
    "scales",
    "value_block",
]


@intrinsic
def call_entry(typingctx, address, which, x, p, k, n, out):
    """Call the entry point at ``address`` (:data:`~implicitop._solvers.element_entry.C_SIGNATURE`)
    with the data of the float64 arrays ``x``, ``p``, ``out``: arrays, not pointers, so
    they live until the call returns."""
    signature = types.void(types.intp, types.intp, x, p, types.intp, types.intp, out)

    def codegen(context, builder, sig, args):
        address, which, k, n = args[0], args[1], args[4], args[5]
        x_array, p_array, out_array = (
            context.make_array(sig.args[i])(context, builder, args[i]) for i in (2, 3, 6)
        )
        double_pointer = ir.DoubleType().as_pointer()
        intp = context.get_value_type(types.intp)
        entry_type = ir.FunctionType(
            ir.VoidType(), [intp, double_pointer, double_pointer, intp, intp, double_pointer]
        )
        entry = builder.inttoptr(address, entry_type.as_pointer())
        builder.call(entry, [which, x_array.data, p_array.data, k, n, out_array.data])
        return context.get_dummy_value()

    return signature, codegen


@intrinsic
def call_values(typingctx, which, x, p, count):
    """The ``count`` values (a literal integer) that the function ``which`` of one
    equation's entry point gives at the unknown's value ``x`` for the parameter row
    ``p`` (float64, the entry point's address last), as a tuple: the value and the
    results pass through the stack, so a call allocates nothing and counts no
    references (these functions are called once per element and step)."""
    if not isinstance(count, types.IntegerLiteral):
        return None
    size = count.literal_value
    signature = types.UniTuple(types.float64, size)(types.intp, types.float64, p, count)

    def codegen(context, builder, sig, args):
        which, x = args[0], args[1]
        p_array = context.make_array(sig.args[2])(context, builder, args[2])
        intp = context.get_value_type(types.intp)
        double = ir.DoubleType()
        entry_type = ir.FunctionType(
            ir.VoidType(),
            [intp, double.as_pointer(), double.as_pointer(), intp, intp, double.as_pointer()],
        )
        k = builder.extract_value(p_array.shape, 0)
        last = builder.gep(p_array.data, [builder.sub(k, ir.Constant(intp, 1))])
        address = builder.fptosi(builder.load(last), intp)
        entry = builder.inttoptr(address, entry_type.as_pointer())
        point = cgutils.alloca_once_value(builder, x)
        out = cgutils.alloca_once(builder, double, size=size)
        builder.call(entry, [which, point, p_array.data, k, ir.Constant(intp, 1), out])
        values = [builder.load(builder.gep(out, [ir.Constant(intp, i)])) for i in range(size)]
        return context.make_tuple(builder, sig.return_type, values)

    return signature, codegen


@intrinsic
def call_solver(typingctx, address, params, settings, root, code):
    """Call the solver at ``address`` (:data:`~implicitop._solvers.batch.C_SIGNATURE`)
    on every row of the C-contiguous arrays ``params`` (m, k) with the record
    ``settings``, into ``root`` (m, n) and ``code`` (m,): arrays, not pointers, so they
    live until the call returns."""
    signature = types.void(types.intp, params, settings, root, code)

    def codegen(context, builder, sig, args):
        arrays = [context.make_array(sig.args[i])(context, builder, args[i]) for i in range(1, 5)]
        params_array, settings_array, root_array, code_array = arrays
        intp = context.get_value_type(types.intp)
        doubles, bytes_ = ir.DoubleType().as_pointer(), ir.IntType(8).as_pointer()
        solver_type = ir.FunctionType(
            ir.VoidType(), [intp, doubles, doubles, intp, doubles, bytes_]
        )
        solver = builder.inttoptr(args[0], solver_type.as_pointer())
        size = builder.extract_value(params_array.shape, 0)
        settings_size = builder.extract_value(settings_array.shape, 0)
        builder.call(
            solver,
            [size, params_array.data, settings_array.data, settings_size, root_array.data,
             code_array.data],
        )  # fmt: skip
        return context.get_dummy_value()

    return signature, codegen


def call_by_address(which: int, x: np.ndarray, p: np.ndarray, n: int, size: int) -> np.ndarray:
    """The ``size`` values the function ``which`` gives at ``x`` for the parameter row
    ``p``, which ends with the number of unknowns and the entry point's address."""
    out = np.empty(size)
    call_entry(int(p[p.shape[0] - 1]), which, x, p, p.shape[0], n, out)
    return out


def residual(x: float, p: np.ndarray) -> float:
    """``R(x, p)`` alone, by address."""
    return call_values(RESIDUAL, x, p, 1)[0]


def residual_and_slope(x: float, p: np.ndarray) -> tuple[float, float]:
    """``R(x, p)`` and ``dR/dx``, by address (see :mod:`~implicitop._solvers.interface`)."""
    return call_values(RESIDUAL_AND_SLOPE, x, p, 2)


def halley_parts(x: float, p: np.ndarray) -> tuple[float, float, float, float, float, float]:
    """The Halley parts of one equation, by address."""
    return call_values(HALLEY_PARTS, x, p, 6)


def call_block(
    which: int, x: np.ndarray, columns: np.ndarray, count: int, terms: np.ndarray
) -> None:
    """The block function ``which`` at the first ``count`` lanes of a block, by address
    (``columns``: one parameter per row, the entry point's address in the last)."""
    rows = columns.shape[0]
    call_entry(int(columns[rows - 1, 0]), which, x, columns, count, rows, terms)


def halley_block(x: np.ndarray, columns: np.ndarray, count: int, terms: np.ndarray) -> None:
    """Phase 1's evaluations at the lanes of a block, by address."""
    call_block(HALLEY_BLOCK, x, columns, count, terms)


def residual_block(x: np.ndarray, columns: np.ndarray, count: int, terms: np.ndarray) -> None:
    """The residual, its slope and the size of its terms at the lanes of a block, by
    address."""
    call_block(RESIDUAL_BLOCK, x, columns, count, terms)


def value_block(x: np.ndarray, columns: np.ndarray, count: int, values: np.ndarray) -> None:
    """The residual alone at the lanes of a block, by address."""
    call_block(VALUE_BLOCK, x, columns, count, values)


def scale(x: float, p: np.ndarray) -> float:
    """The size of one equation's terms, by address."""
    return call_values(SCALE, x, p, 1)[0]


def guess(p: np.ndarray) -> np.ndarray:
    """The guess expressions' values (n), by address."""
    n = int(p[p.shape[0] - 2])
    return call_by_address(GUESS, p, p, n, n)  # the guesses read no unknown


def bracket(p: np.ndarray) -> tuple[float, float]:
    """The bracket expressions' values, by address."""
    return call_values(BRACKET, np.nan, p, 2)


def residuals_and_jacobian(u: np.ndarray, p: np.ndarray) -> np.ndarray:
    """A system's residuals, Jacobian and objective (n + n*n + 1), by address."""
    n = u.shape[0]
    return call_by_address(RESIDUALS_AND_JACOBIAN, np.ascontiguousarray(u), p, n, n + n * n + 1)


def scales(u: np.ndarray, p: np.ndarray) -> np.ndarray:
    """The size of each of a system's residuals' terms (n), by address."""
    n = u.shape[0]
    return call_by_address(SCALES, np.ascontiguousarray(u), p, n, n)
