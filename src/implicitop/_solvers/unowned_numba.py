"""The compiled form of :func:`~implicitop._solvers.unowned.borrowed`, registered with numba
on import (by :mod:`~implicitop._solvers.generated`, before it compiles a solver).

Kept apart so that the algorithms, which import ``borrowed``, import without numba.
"""

from typing import Any

from numba.core import cgutils, types
from numba.extending import intrinsic, overload
from numba.np.arrayobj import make_array, populate_array

from implicitop._solvers.unowned import borrowed

__all__: list[str] = []


def _of_arrays(value_type: types.Type) -> bool:
    if isinstance(value_type, types.BaseTuple):
        return all(_of_arrays(member) for member in value_type)
    return isinstance(value_type, types.Array)


def _view(context: Any, builder: Any, value_type: types.Type, value: Any) -> Any:
    if isinstance(value_type, types.BaseTuple):
        members = cgutils.unpack_tuple(builder, value)
        views = [_view(context, builder, t, v) for t, v in zip(value_type, members, strict=True)]
        return context.make_tuple(builder, value_type, views)
    source = make_array(value_type)(context, builder, value)
    view = make_array(value_type)(context, builder)
    populate_array(
        view,
        data=source.data,
        shape=source.shape,
        strides=source.strides,
        itemsize=source.itemsize,
        meminfo=None,
    )
    return view._getvalue()


@intrinsic
def _borrowed(typingctx: object, arrays: types.Type) -> tuple:
    def codegen(context, builder, signature, args):
        return _view(context, builder, arrays, args[0])

    return arrays(arrays), codegen


@overload(borrowed)
def _borrowed_in_numba(arrays):  # numba matches annotations: none here
    if _of_arrays(arrays):
        return lambda arrays: _borrowed(arrays)
    return None
