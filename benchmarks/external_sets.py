"""Solved / total on test sets nobody here wrote, beside SciPy's solver in the same run.

- SciPy's 45 Chandrupatla cases (``scipy.optimize._tstutils``): implicitop from each
  bracket beside ``scipy.optimize.brentq`` (default tolerances, maxiter 500); solved
  means converged and within 1e-10 (relative, absolute near 0) of the known root.
- Alefeld, Potra and Shi's 154 cases (the same module): from each bracket beside
  ``brentq``, and from each start beside ``scipy.optimize.newton`` with the analytic
  derivative (SciPy's ``fprime``); solved means as above (brentq, for aps13, stops on
  the plateau where the function underflows to 0, near but not at the root 0).
- The 23 More-Garbow-Hillstrom / MINPACK systems as NonlinearProblemLibrary.jl defines
  them (``tests/external_systems.py``), from the library's start and from ten and a
  hundred times it (MINPACK's own tests), beside ``scipy.optimize.root(method="hybr")``
  without the Jacobian (MINPACK's hybrd) and with it (hybrj); solved means converged
  (SciPy's success flag) with every residual below 1e-8, and SciPy solved means
  either of the two did.

Run: ``.venv/bin/python benchmarks/external_sets.py`` (compiles one kernel per function:
minutes on a cold cache).
"""

import sys
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
from scipy import optimize

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from external_scalar import C, X, aps_families, chandrupatla_cases
from external_systems import Q, numeric, numeric_with_jacobian, scaled_start, system_cases
from implicitop import SolveStatus, make_implicit_op

Row = tuple[str, bool, bool]


def near(value: float, root: float) -> bool:
    return abs(value - root) <= 1e-10 * max(abs(root), 1.0)


def scipy_root(finder: Callable[..., float], *args: object, **options: object) -> float:
    """``finder(*args, **options)``, NaN where it raises (no convergence)."""
    try:
        return float(finder(*args, **options))
    except (RuntimeError, ValueError, ZeroDivisionError, OverflowError):
        return float("nan")


def scalar_rows() -> list[Row]:
    rows = []
    for case in chandrupatla_cases():
        result = make_implicit_op(case.expression, X, C, bracket=case.bracket).solve(0.0)
        ours = result.status == SolveStatus.CONVERGED and near(float(result.root), case.root)
        brent = scipy_root(optimize.brentq, case.function, *case.bracket, maxiter=500)
        rows.append((case.case_id, bool(ours), near(brent, case.root)))
    return rows


def aps_rows(start: str) -> list[Row]:
    """The APS cases from their brackets (``start="bracket"``) or their starts."""
    rows = []
    for family in aps_families():
        derivative = getattr(optimize._tstutils, family.name.replace("_f", "_fp"))
        for case in family.cases:
            options = {"bracket": case.bracket} if start == "bracket" else {"x0": case.x0}
            op = make_implicit_op(family.expression, X, family.params, **options)
            result = op.solve(0.0, *case.args)
            ours = result.status == SolveStatus.CONVERGED and near(float(result.root), case.root)
            function, args = family.function, case.args
            if start == "bracket":
                theirs = scipy_root(optimize.brentq, function, *case.bracket, args)
            else:
                theirs = scipy_root(optimize.newton, function, case.x0, derivative, args)
            rows.append((case.case_id, bool(ours), near(theirs, case.root)))
    return rows


def system_rows(factor: float) -> list[Row]:
    rows = []
    for case in system_cases():
        function = numeric(case)
        start = scaled_start(case, factor)
        minpack = [
            optimize.root(function, start, method="hybr"),
            optimize.root(numeric_with_jacobian(case), start, jac=True, method="hybr"),
        ]
        theirs = any(
            found.success and np.max(np.abs(function(found.x))) <= 1e-8 for found in minpack
        )
        op = make_implicit_op(list(case.residuals), list(case.unknowns), Q, x0=start)
        result = op.solve(case.value)
        ours = result.status == SolveStatus.CONVERGED
        ours = bool(ours and np.max(np.abs(function(np.atleast_1d(result.root)))) <= 1e-8)
        rows.append((f"{case.name} ({SolveStatus(int(result.status)).name})", ours, theirs))
    return rows


def main() -> None:
    warnings.filterwarnings("ignore")
    sets = [
        ("Chandrupatla (scipy _tstutils)", "brentq", scalar_rows()),
        ("Alefeld-Potra-Shi, from the bracket", "brentq", aps_rows("bracket")),
        ("Alefeld-Potra-Shi, from the start", "newton (fprime)", aps_rows("x0")),
        *(
            (f"More-Garbow-Hillstrom systems, {label}", "root(hybr), hybrd or hybrj",
             system_rows(factor))
            for factor, label in ((1, "the start"), (10, "10 x the start"),
                                  (100, "100 x the start"))
        ),
    ]  # fmt: skip
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
