"""Compile a graph with an implicit op on PyTensor's numba backend and report, as JSON,
the op's cache key, which of the op's numba functions this process compiled (rather
than loaded from the disk cache) and the graph's values."""

import json
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
op = make_implicit_op(mu + mu * sp.exp(theta * mu) - 1, mu, theta)
thetas = pt.dvector("theta")
root = op(thetas)
with event.install_recorder("numba:compile") as recorder:
    function = pytensor.function([thetas], [root, pytensor.grad(root.sum(), thetas)], mode="NUMBA")
    values = function(np.array([0.4, 2.0, 30.0]))
compiled = sorted({e.data["dispatcher"].py_func.__name__ for _, e in recorder.buffer})
_, key = numba_funcify_and_cache_key(op, root.owner)
print(json.dumps({"key": key, "compiled": compiled, "values": [v.tolist() for v in values]}))
