"""Theano's Python implementations with and without elementwise fusion, in the legacy
environment: ``.venv-theano/bin/python benchmarks/theano_flags.py`` (``--quick`` for a
smoke run).

Without a C compiler (``cxx=``, as on Python 3.11), Theano evaluates a fused
elementwise node (a ``Composite``) element by element in Python, where unfused nodes
are NumPy ufuncs over whole arrays. Each column runs in new processes with one set of
flags (Theano reads them at import): the seed page's model's logp+dlogp per call, the
same model with a root per observation, and NUTS on the seed model (compile and
sample, one chain).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

#: The flags ``implicitop.theano`` sets, and the same with fusion left on.
FLAGS = {
    "fusion excluded": "cxx=,blas__ldflags=,optimizer_excluding=fusion",
    "fusion on": "cxx=,blas__ldflags=",
}

SCRIPT = """
import time, warnings, logging
warnings.filterwarnings("ignore")
logging.getLogger("pymc3").setLevel(logging.ERROR)
import numpy as np
import sympy as sp
from implicitop.theano import make_implicit_op
import pymc3 as pm

mu, theta, x = sp.symbols("mu theta x", positive=True)
rng = np.random.default_rng(1)

def seed_model(observations):
    op = make_implicit_op(mu + mu * sp.exp(theta * mu) - 1, mu, theta)
    with pm.Model() as model:
        t = pm.HalfNormal("theta", sd=1)
        pm.Normal("y", mu=op(t), sd=0.1, observed=0.4 + 0.1 * rng.standard_normal(observations))
    return model

def data_model(size):
    op = make_implicit_op(mu + mu * sp.exp(theta * mu * x) - 1, mu, [theta, x])
    inputs = np.linspace(0.5, 5.0, size)
    with pm.Model() as model:
        t = pm.HalfNormal("theta", sd=1)
        pm.Normal("y", mu=op(t, inputs), sd=0.05, observed=0.3 + 0.05 * rng.standard_normal(size))
    return model

def per_call(model, calls):
    function = model.logp_dlogp_function()
    function.set_extra_values({{}})
    point = function.dict_to_array(model.test_point)
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(calls):
            function(point)
        best = min(best, (time.perf_counter() - start) / calls)
    return best

def nuts_seconds(model, draws):
    start = time.perf_counter()
    with model:
        pm.sample(draws, tune=draws, chains=1, cores=1, random_seed=1, progressbar=False,
                  return_inferencedata=False, compute_convergence_checks=False)
    return time.perf_counter() - start

print(per_call(seed_model(20), {calls}) * 1e6,
      per_call(data_model({size}), {calls} // 10) * 1e6,
      nuts_seconds(seed_model(20), {draws}))
"""

ROWS = (
    ("seed model (20 observations): logp+dlogp per call", "us"),
    ("a root per observation ({size}): logp+dlogp per call", "us"),
    ("seed model: NUTS, compile + {draws} + {draws} draws", "s"),
)


def measured(flags: str, calls: int, size: int, draws: int) -> list[float]:
    """The numbers :data:`SCRIPT` prints in a new process with ``THEANO_FLAGS=flags``."""
    completed = subprocess.run(
        [sys.executable, "-c", SCRIPT.format(calls=calls, size=size, draws=draws)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "THEANO_FLAGS": flags},
    )
    return [float(value) for value in completed.stdout.split()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer calls, for a smoke run")
    args = parser.parse_args()
    calls, size, draws = (20, 100, 50) if args.quick else (500, 1000, 500)
    excluded, fused = (measured(flags, calls, size, draws) for flags in FLAGS.values())
    print(f"| task | {' | '.join(FLAGS)} | ratio |")
    print("|---|---|---|---|")
    for (task, unit), ours, theirs in zip(ROWS, excluded, fused, strict=True):
        label = task.format(size=size, draws=draws)
        print(f"| {label} | {ours:.4g} {unit} | {theirs:.4g} {unit} | {theirs / ours:.1f}x |")


if __name__ == "__main__":
    main()
