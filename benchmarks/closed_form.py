"""Baseline ``closed_form``: the seed's mu as a plain PyTensor graph, no op.

Eight Newton steps on the log form of the seed residual, ``log(mu) +
log1p(exp(theta*mu)) = 0``, unrolled from mu = 0.5: for theta >= 0 this is the root to
rounding, so the model and its posterior are the seed's, and a sampler that compiles
it runs the same number of steps. What the op costs a sampler beyond such a graph
(compile and sampling) is the ratio against it.
"""

import pytensor.tensor as pt

STEPS = 8


def mu_from_theta(theta: pt.TensorVariable) -> pt.TensorVariable:
    """The seed's mu at ``theta`` (>= 0) as an unrolled Newton iteration."""
    mu = pt.as_tensor_variable(0.5)
    for _ in range(STEPS):
        tail = pt.exp(theta * mu)
        value = pt.log(mu) + pt.log1p(tail)
        slope = 1 / mu + theta * tail / (1 + tail)
        mu = mu - value / slope
    return mu
