"""Baseline ``pytensor_root_scalar``: PyTensor's own ``root_scalar`` on the seed residual.

Newton's method with the analytic derivative (``jac=True``), the initial guess
replaced by the constant 1.
"""

import pytensor.tensor as pt
from pytensor.graph.replace import graph_replace
from pytensor.tensor.optimize import root_scalar


def mu_from_theta(theta: pt.TensorVariable) -> pt.TensorVariable:
    """The seed's mu(theta) as a ``root_scalar`` graph of a scalar ``theta``."""
    mu = pt.dscalar("mu")
    residual = mu + mu * pt.exp(theta * mu) - 1
    solution, _ = root_scalar(residual, mu, method="newton", jac=True)
    return graph_replace(solution, {mu: pt.constant(1.0, dtype="float64")}, strict=False)
