"""logp+dlogp of a model with one 3x3 system per observation: the gradient's adjoint
system solved entry by entry (element-wise C, fused) beside PyTensor's batched solve
(a Blockwise that loops over the elements in Python), in one run.

Run ``python benchmarks/systems_gradient.py [size]`` (default 10,000 observations):
the weak acid of ``run.py`` with ``ka`` a model parameter and the concentrations data.
The batched form is what the op's gradient used before, and still uses above
``implicitop._pytensor.op.ENTRYWISE_MAX`` unknowns.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

import numpy as np
import pytensor
import pytensor.tensor as pt
from run import weak_acid

from implicitop._pytensor import op as op_module

LOG_KA = np.log(1.8e-5)


def logp_and_gradient(entrywise_max: int, size: int) -> Callable[[float], list]:
    """The compiled log-density and its gradient in ``log ka``, the adjoint systems
    solved entry by entry for systems of up to ``entrywise_max`` unknowns."""
    op = weak_acid()
    concentrations = np.geomspace(1e-6, 1.0, size)
    log_ka = pt.dscalar("log_ka")
    saved, op_module.ENTRYWISE_MAX = op_module.ENTRYWISE_MAX, entrywise_max
    try:
        h, _, _ = op(pt.exp(log_ka), concentrations)
        logp = -pt.sum(pt.log(h) ** 2)
        return pytensor.function([log_ka], [logp, pytensor.grad(logp, log_ka)])
    finally:
        op_module.ENTRYWISE_MAX = saved


def best_time(function: Callable[[float], list], rounds: int = 20) -> float:
    """The fastest of ``rounds`` calls, after one untimed call."""
    function(LOG_KA)
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        function(LOG_KA)
        times.append(time.perf_counter() - start)
    return min(times)


def main(size: int) -> None:
    entrywise = logp_and_gradient(op_module.ENTRYWISE_MAX, size)
    batched = logp_and_gradient(0, size)
    same = np.allclose(entrywise(LOG_KA), batched(LOG_KA), rtol=1e-10)
    ours, theirs = best_time(entrywise), best_time(batched)
    print(
        f"{size} weak-acid systems, logp+dlogp per call: entry by entry {ours * 1e3:.3g} ms, "
        f"batched solve {theirs * 1e3:.3g} ms, {theirs / ours:.1f}x; same values: {same}"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
