"""PyTensor's numba backend runs :class:`~implicitop.op.ImplicitOp` natively.

``pytensor.function(..., mode="NUMBA")`` and samplers that compile through it, such
as nutpie, call the op's compiled solver (:mod:`implicitop.numba_kernels`) from
inside the numba-compiled graph, with no object-mode fallback and no Python in the
loop. Results are the same numbers as the default backend's: both run the same
kernel with the same settings. With ``on_failure="raise"`` the error is built in
object mode, only once a failure has happened.

Ops the kernels do not cover (systems of equations, residuals numba cannot compile)
keep PyTensor's object-mode fallback, which warns that it is used.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import sympy as sp
from numba import njit, objmode
from pytensor.graph.basic import Apply
from pytensor.link.numba.cache import compile_numba_function_src
from pytensor.link.numba.dispatch.basic import (
    default_hash_key_from_props,
    generate_fallback_impl,
    register_funcify_and_cache_key,
)

from implicitop.codegen import numeric_kernels
from implicitop.op import ImplicitOp
from implicitop.solve import SolveResult, compiled_arguments
from implicitop.status import CONVERGED

__all__ = ["numba_funcify_implicit_op"]

#: Names of the kernel's trailing arguments (see ``implicitop.solve.compiled_arguments``).
_SETTINGS = (
    "lower",
    "upper",
    "tol",
    "newton_iterations",
    "maxiter",
    "param_lower",
    "param_upper",
    "grid",
)

_GUESS = """\
def guess({values}):
    out = np.empty(v0.shape[0])
    for i in range(out.shape[0]):
        point = formula({at_i})
        usable = np.isfinite(point) and lower <= point <= upper
        out[i] = point if usable else default
    return out
"""

_DRIVER = """\
def implicit_op({inputs}):
    shape = {first}.shape
    {flatten}
    x0 = initial_guess({values})
    # Arrays go in as fresh copies: the kernel called with numba-frozen global arrays
    # gave wrong phase 2 results inside PyTensor's compiled graph (numba 0.65).
    root, code = kernel(
        x0, {values}, lower, upper, tol, newton_iterations, maxiter, param_lower.copy(),
        param_upper.copy(), grid.copy()
    )
    if raise_on_failure:
        for status in code:
            if status != {converged}:
                with objmode():
                    report(code, {values})
    return root.reshape(shape).astype(output_dtype)
"""


def _guess_function(op: ImplicitOp) -> Callable:
    """A compiled ``(*flat params) -> x0``, as the op's ``_initial_guess`` computes it."""
    (domain,) = op._search_domains
    (x0,) = op._guesses
    (default,) = op._defaults
    if not isinstance(x0, sp.Basic):
        start = default if x0 is None else float(x0)
        return njit(lambda *values: np.full(values[0].shape[0], start))
    names = [f"v{i}" for i in range(len(op.params))]
    source = _GUESS.format(values=", ".join(names), at_i=", ".join(f"{v}[i]" for v in names))
    environment = {
        "np": np,
        "formula": njit(sp.lambdify(list(op.params), x0, modules="math")),
        "lower": domain.lower,
        "upper": domain.upper,
        "default": default,
    }
    return njit(compile_numba_function_src(source, "guess", environment))


def _reporter(op: ImplicitOp) -> Callable:
    """Raise the op's :class:`~implicitop.solve.ImplicitSolveError` for these codes."""

    def report(code: np.ndarray, *values: np.ndarray) -> None:
        op._raise_for_failures(values, SolveResult(np.full(code.shape, np.nan), code))

    return report


@register_funcify_and_cache_key(ImplicitOp)
def numba_funcify_implicit_op(
    op: ImplicitOp, node: Apply | None = None, **kwargs: object
) -> tuple[Callable, str | None]:
    """The numba implementation of ``op`` at ``node``, and PyTensor's cache key for it."""
    compiled = numeric_kernels(op.problem).compiled if op.problem.size == 1 else None
    if compiled is None:
        return generate_fallback_impl(op, node, **kwargs), None
    (domain,) = op._search_domains
    inputs = [f"p{i}" for i in range(len(op.params))]
    values = [f"values{i}" for i in range(len(op.params))]
    source = _DRIVER.format(
        inputs=", ".join(inputs),
        first=inputs[0],
        flatten="\n    ".join(
            f"{v} = np.ravel({p}).astype(np.float64)" for p, v in zip(inputs, values, strict=True)
        ),
        values=", ".join(values),
        converged=CONVERGED,
    )
    raise_on_failure = op.options.on_failure == "raise"
    environment = {
        "np": np,
        "objmode": objmode,
        "kernel": compiled.solve,
        **dict(
            zip(_SETTINGS, compiled_arguments(domain, op._param_domains, op._settings), strict=True)
        ),
        "initial_guess": _guess_function(op),
        "raise_on_failure": raise_on_failure,
        "report": _reporter(op),
        "output_dtype": np.dtype(node.outputs[0].dtype),
    }
    # The object-mode error report and the symbolic guess are not cacheable on disk.
    cacheable = not raise_on_failure and not isinstance(op._guesses[0], sp.Basic)
    key = (
        default_hash_key_from_props(
            op, driver=source, kernel=compiled.solve.__module__, dtype=node.outputs[0].dtype
        )
        if cacheable
        else None
    )
    driver = compile_numba_function_src(source, "implicit_op", environment, cache_key=key)
    return njit(driver), key
