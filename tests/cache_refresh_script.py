"""Compile graphs on PyTensor's C backend and report, as JSON, what the compiling
process did.

``fill N``: compile value and gradient of N different implicit ops (filling the
PyTensor compiledir); reports the values and whether numba was imported.
``trivial``: compile a graph without implicit ops, which makes PyTensor refresh its
module cache, unpickling the key of every cached op; reports whether that imported
implicitop's op (the keys were read), SymPy and numba.
"""

import json
import sys
import warnings

import numpy as np
import pytensor
import pytensor.tensor as pt

warnings.filterwarnings("ignore")
mode, *rest = sys.argv[1:]
report = {}
if mode == "fill":
    import sympy as sp

    from implicitop import make_implicit_op

    x = sp.Symbol("x", positive=True)
    t = sp.Symbol("t", positive=True)
    theta = pt.dvector("theta")
    values = []
    for power in range(2, 2 + int(rest[0])):
        op = make_implicit_op(x**power + x - t, x, t)
        root = op(theta)
        function = pytensor.function([theta], [root, pytensor.grad(root.sum(), theta)])
        values.append([v.tolist() for v in function(np.array([2.0]))])
    report["values"] = values
x = pt.dvector("x")
pytensor.function([x], pt.exp(x) * 2)
for module in ("implicitop._pytensor.op", "sympy", "numba"):
    report[module] = module in sys.modules
print(json.dumps(report))
