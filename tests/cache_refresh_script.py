"""Compile graphs on PyTensor's C backend and report, as JSON, how often SymPy derived
derivatives in this process.

``fill N``: compile value and gradient of N different implicit ops (filling the
PyTensor compiledir). ``trivial``: compile a graph without implicit ops, which makes
PyTensor refresh its module cache, unpickling the key of every cached op. Also
reported: whether numba was imported.
"""

import json
import sys
import warnings

import numpy as np
import pytensor
import pytensor.tensor as pt
import sympy as sp

warnings.filterwarnings("ignore")
derivations = {"jacobian": 0, "simplify": 0}


def counted(name: str, function):
    def wrapper(*args, **kwargs):
        derivations[name] += 1
        return function(*args, **kwargs)

    return wrapper


sp.MatrixBase.jacobian = counted("jacobian", sp.MatrixBase.jacobian)
sp.simplify = counted("simplify", sp.simplify)

from implicitop import make_implicit_op  # noqa: E402  (after the counters are in place)

mode, *rest = sys.argv[1:]
values = []
if mode == "fill":
    x = sp.Symbol("x", positive=True)
    t = sp.Symbol("t", positive=True)
    theta = pt.dvector("theta")
    for power in range(2, 2 + int(rest[0])):
        op = make_implicit_op(x**power + x - t, x, t)
        root = op(theta)
        function = pytensor.function([theta], [root, pytensor.grad(root.sum(), theta)])
        values.append([v.tolist() for v in function(np.array([2.0]))])
    derivations = dict.fromkeys(derivations, 0)  # count only what the next compile does
x = pt.dvector("x")
pytensor.function([x], pt.exp(x) * 2)
numba_imported = "numba" in sys.modules
print(json.dumps({"derivations": derivations, "values": values, "numba": numba_imported}))
