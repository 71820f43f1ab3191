"""The compiled form of :func:`~implicitop._solvers.stores.store_scaled`, registered with
numba on import (by :mod:`~implicitop._solvers.generated`, before it compiles a
solver): one multiplication and store per value of the tuple, written out.

Kept apart so that the algorithms, which import ``store_scaled``, import without numba.
"""

from numba.core import cgutils, types
from numba.extending import intrinsic, overload
from numba.np.arrayobj import make_array

from implicitop._solvers.stores import store_scaled

__all__: list[str] = []


@intrinsic
def _store_scaled(typingctx, out, i, values, factor):
    def codegen(context, builder, signature, args):
        array_type = signature.args[0]
        array = make_array(array_type)(context, builder, args[0])
        for j in range(len(values)):
            product = builder.fmul(builder.extract_value(args[2], j), args[3])
            row = context.get_constant(types.intp, j)
            pointer = cgutils.get_item_pointer(
                context, builder, array_type, array, [row, args[1]], wraparound=False
            )
            builder.store(product, pointer)
        return context.get_dummy_value()

    return types.void(out, i, values, factor), codegen


@overload(store_scaled, inline="always")
def _store_scaled_in_numba(out, i, values, factor):  # numba matches annotations: none here
    if isinstance(values, types.UniTuple) and values.dtype == types.float64:
        return lambda out, i, values, factor: _store_scaled(out, i, values, factor)
    return None
