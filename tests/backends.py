"""Helpers for comparing PyTensor backends on catalogue problems."""

import warnings

import numpy as np
import pytensor
import pytensor.tensor as pt

#: The warning PyTensor's numba backend gives when it runs an Op in object mode.
FALLBACK = "Numba will use object mode"


def compile_value_and_gradients(op, mode: str, dtype: str = "float64"):
    """``f(*vectors) -> [roots, d(sum roots)/d param...]`` on ``mode``; the numba
    object-mode fallback is an error."""
    inputs = [pt.vector(p.name, dtype=dtype) for p in op.params]
    output = op(*inputs)
    gradients = pytensor.grad(output.sum(), inputs)
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=FALLBACK)
        return pytensor.function(inputs, [output, *gradients], mode=mode)


def sample_points(problem, size: int = 40) -> list[np.ndarray]:
    """Parameter values over the problem's ranges (log-uniform over wide ones)."""
    rng = np.random.default_rng(17)
    points = []
    for symbol in problem.build().params:
        lo, hi = problem.ranges[symbol.name]
        if lo > 0 and hi / lo > 100:
            points.append(np.exp(rng.uniform(np.log(lo), np.log(hi), size)))
        else:
            points.append(rng.uniform(lo, hi, size))
    return points
