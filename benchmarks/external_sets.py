"""Solved / total on test sets nobody here wrote, beside SciPy's solver in the same run.

- SciPy's 45 Chandrupatla cases (``scipy.optimize._tstutils``): implicitop from each
  bracket beside ``scipy.optimize.brentq`` (default tolerances, maxiter 500); solved
  means converged and within 1e-10 (relative, absolute near 0) of the known root.
- 12 More-Garbow-Hillstrom / MINPACK systems as NonlinearProblemLibrary.jl defines
  them (``tests/external_systems.py``): implicitop from the library's start beside
  ``scipy.optimize.root(method="hybr")`` (MINPACK's hybrd); solved means converged
  (SciPy's success flag) with every residual below 1e-8.

Run: ``.venv/bin/python benchmarks/external_sets.py`` (compiles one kernel per function:
minutes on a cold cache).
"""

import sys
import warnings
from pathlib import Path

import numpy as np
from scipy import optimize

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from external_scalar import C, X, chandrupatla_cases
from external_systems import Q, numeric, system_cases
from implicitop import SolveStatus, make_implicit_op


def scalar_rows() -> list[tuple[str, bool, bool]]:
    rows = []
    for case in chandrupatla_cases():
        tolerance = 1e-10 * max(abs(case.root), 1.0)
        result = make_implicit_op(case.expression, X, C, bracket=case.bracket).solve(0.0)
        ours = result.status == SolveStatus.CONVERGED
        ours = bool(ours and abs(float(result.root) - case.root) <= tolerance)
        try:
            brent = optimize.brentq(case.function, *case.bracket, maxiter=500)
            theirs = abs(brent - case.root) <= tolerance
        except (RuntimeError, ValueError):
            theirs = False
        rows.append((case.case_id, ours, theirs))
    return rows


def system_rows() -> list[tuple[str, bool, bool]]:
    rows = []
    for case in system_cases():
        function = numeric(case)
        hybr = optimize.root(function, case.start, method="hybr")
        theirs = bool(hybr.success and np.max(np.abs(function(hybr.x))) <= 1e-8)
        op = make_implicit_op(list(case.residuals), list(case.unknowns), Q, x0=case.start)
        result = op.solve(case.value)
        ours = result.status == SolveStatus.CONVERGED
        ours = bool(ours and np.max(np.abs(function(np.atleast_1d(result.root)))) <= 1e-8)
        rows.append((f"{case.name} ({SolveStatus(int(result.status)).name})", ours, theirs))
    return rows


def main() -> None:
    warnings.filterwarnings("ignore")
    sets = [
        ("Chandrupatla (scipy _tstutils)", "brentq", scalar_rows()),
        ("More-Garbow-Hillstrom systems", "root(hybr)", system_rows()),
    ]
    print("| set | cases | implicitop solved | SciPy | SciPy solved |")
    print("|---|---|---|---|---|")
    for name, solver, rows in sets:
        ours = sum(row[1] for row in rows)
        theirs = sum(row[2] for row in rows)
        print(f"| {name} | {len(rows)} | {ours} | {solver} | {theirs} |")
    for name, _, rows in sets:
        differ = [row for row in rows if not (row[1] and row[2])]
        print(f"\n{name}, cases not solved by both:")
        for case, ours, theirs in differ:
            print(f"  {case}: implicitop {'solved' if ours else 'not solved'}, "
                  f"SciPy {'solved' if theirs else 'not solved'}")  # fmt: skip


if __name__ == "__main__":
    main()
