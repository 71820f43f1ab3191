"""Compile a graph with an implicit op on PyTensor's numba backend and report, as JSON,
the op's cache key, which of the op's numba functions this process compiled (rather
than loaded from the disk cache) and the graph's values; then the same for the op
with another numeric ``x0``, whose graph no process compiled before."""

import json
import uuid
import warnings

import numpy as np
import pytensor
import pytensor.tensor as pt
import sympy as sp
from numba.core import event
from pytensor.link.numba.dispatch.basic import numba_funcify_and_cache_key

from implicitop import make_implicit_op

warnings.filterwarnings("ignore")
mu, theta = sp.symbols("mu theta", positive=True)
points = np.array([0.4, 2.0, 30.0])


def compiled_graph(**options) -> tuple[list[str], list, str | None]:
    """The numba functions compiled for the graph's first values, its values and the
    op's cache key."""
    op = make_implicit_op(mu + mu * sp.exp(theta * mu) - 1, mu, theta, **options)
    thetas = pt.dvector("theta")
    root = op(thetas)
    with event.install_recorder("numba:compile") as recorder:
        gradient = pytensor.grad(root.sum(), thetas)
        values = pytensor.function([thetas], [root, gradient], mode="NUMBA")(points)
    compiled = sorted({e.data["dispatcher"].py_func.__name__ for _, e in recorder.buffer})
    _, key = numba_funcify_and_cache_key(op, root.owner)
    return compiled, [v.tolist() for v in values], key


compiled, values, key = compiled_graph()
compiled_again, values_again, _ = compiled_graph(x0=0.5 + uuid.uuid4().int % 10**6 / 1e7)
print(
    json.dumps(
        {
            "key": key,
            "compiled": compiled,
            "values": values,
            "compiled_again": compiled_again,
            "values_again": values_again,
        }
    )
)
