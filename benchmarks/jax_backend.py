"""The op in PyTensor's JAX backend (numpyro's): compile time and time per call.

Run ``python benchmarks/jax_backend.py --against REV`` to measure this checkout and the
git revision ``REV`` alternately in new processes (see :mod:`revisions`). Each process
imports implicitop, PyMC and JAX, builds the seed page's op (its kernels warm in a
cache folder of the version's own, as after a first run), then measures:

- the seconds from ``pytensor.function(..., mode="JAX")`` of the op's value and
  gradient to the first result (what JAX traces and XLA compiles);
- microseconds per call of that function (its results ready), for one theta and for
  10,000 (log-uniform in [1e-3, 1e3]), on the problem's full solver;
- the seconds of ``pm.sample(nuts_sampler="numpyro")`` on the seed model, 2 chains of
  500 tuning steps and 500 draws, compile included.
"""

from __future__ import annotations

from pathlib import Path

from cold_start import run_values
from revisions import compare

MEASURE = """
import time, timeit, warnings, logging
warnings.filterwarnings("ignore")
logging.getLogger("pymc").setLevel(logging.ERROR)
import jax, numpy as np, pymc as pm, pytensor, pytensor.tensor as pt, sympy as sp
from implicitop import make_implicit_op

mu, theta = sp.symbols("mu theta", positive=True)
op = make_implicit_op(mu + mu * sp.exp(theta * mu) - 1, mu, theta)
op.solve(1.0)
t = pt.dvector("theta")
value = op(t).sum()
start = time.perf_counter()
function = pytensor.function([t], [value, pytensor.grad(value, t)], mode="JAX")
function(np.ones(1))
first = time.perf_counter() - start
op.solver.kernels.c_address  # the full solver (compiled in the background for users)
one, many = np.ones(1), np.geomspace(1e-3, 1e3, 10_000)
function(many)
per_call = [
    min(timeit.repeat(lambda: jax.block_until_ready(function(x)), number=number, repeat=5))
    / number
    * 1e6
    for x, number in ((one, 200), (many, 20))
]
with pm.Model():
    theta_ = pm.HalfNormal("theta", sigma=1)
    pm.Normal("y", mu=op(theta_), sigma=0.1, observed=[0.2, 0.21, 0.3])
    start = time.perf_counter()
    pm.sample(
        draws=500, tune=500, chains=2, nuts_sampler="numpyro", random_seed=1,
        progressbar=False, nuts_sampler_kwargs={"chain_method": "sequential"},
    )
    sampling = time.perf_counter() - start
print(first, *per_call, sampling)
"""
#: What MEASURE prints, in order.
STEPS = (
    "JAX function of value and gradient, to the first result (s)",
    "per call, 1 theta (us)",
    "per call, 10,000 thetas (us)",
    "numpyro, 2 x (500 + 500), compile included (s)",
)


def measure(source: Path, own: Path) -> dict[str, float]:
    """MEASURE's numbers in a new process running implicitop from ``source`` (a ``src``
    folder), its kernel cache in ``own``."""
    environment = {"PYTHONPATH": str(source), "IMPLICITOP_CACHE_DIR": str(own)}
    return dict(zip(STEPS, run_values(MEASURE, environment), strict=True))


if __name__ == "__main__":
    compare(__doc__.splitlines()[0], STEPS, measure, "see step")
