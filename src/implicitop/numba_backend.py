"""PyTensor's numba backend runs :class:`~implicitop.op.ImplicitOp` natively.

``pytensor.function(..., mode="NUMBA")`` and samplers that compile through it, such
as nutpie, call the op's compiled solver (:mod:`implicitop.numba_kernels`) from
inside the numba-compiled graph, with no object-mode fallback and no Python in the
loop. Results are the same numbers as the default backend's: both run the same
kernel with the same settings. With ``on_failure="raise"`` the error is built in
object mode, only once a failure has happened.

Systems of equations run the same way through :mod:`implicitop.numba_systems`. Ops
the kernels do not cover (expressions numba cannot compile, systems with a symbolic
``x0``) keep PyTensor's object-mode fallback, which warns that it is used.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import sympy as sp
from numba import njit, objmode
from pytensor.graph.basic import Apply
from pytensor.link.numba.cache import compile_numba_function_src
from pytensor.link.numba.dispatch.basic import (
    generate_fallback_impl,
    register_funcify_and_cache_key,
)

from implicitop.op import ImplicitOp
from implicitop.solve import SolveResult, compiled_arguments
from implicitop.solve_system import compiled_system_arguments
from implicitop.status import CONVERGED

__all__ = ["numba_funcify_implicit_op"]

#: The kernels' arguments after the parameters, by name: ``compiled_arguments`` and
#: ``compiled_system_arguments`` in this order, then how the driver passes them.
_SCALAR_SETTINGS = (
    ("lower", "upper", "tol", "newton_iterations", "maxiter", "param_lower", "param_upper", "grid"),
    "lower, upper, tol, newton_iterations, maxiter, param_lower.ctypes, param_upper.ctypes, "
    "grid.ctypes, grid.shape[0]",
)
_SYSTEM_SETTINGS = (
    ("lower", "upper", "tol", "maxiter", "param_lower", "param_upper"),
    "lower.ctypes, upper.ctypes, tol, maxiter, param_lower.ctypes, param_upper.ctypes",
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

_CHECK = """\
def check(code, {values}):
    for status in code:
        if status != {converged}:
            with objmode():
                report(code, {values})
"""

_DRIVER = """\
def implicit_op({inputs}):
    shape = {first}.shape
    {flatten}
    size = values0.shape[0]
    x0 = initial_guess({values})
    root = np.empty({root_shape})
    code = np.empty(size, dtype=np.int8)
    kernel(size, x0.ctypes, {pointers}, {settings}, root.ctypes, code.ctypes)
    if raise_on_failure:
        check(code, {values})
    return {outputs}
"""


def _guess_function(op: ImplicitOp) -> Callable:
    """A compiled ``(*flat params) -> x0``, as the op's ``_initial_guess`` computes it:
    one row of n guesses per element (a symbolic guess, one equation only: shape (m,)).
    The kernels take x0 by address, so (m, 1) and (m,) are the same to them."""
    row = op._constant_guess
    if row is not None:

        def rows(*values: np.ndarray) -> np.ndarray:
            out = np.empty((values[0].shape[0], row.shape[0]))
            for j in range(row.shape[0]):
                out[:, j] = row[j]
            return out

        return njit(rows)
    (domain,) = op._search_domains
    (x0,) = op._guesses
    (default,) = op._defaults
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


def _failure_check(op: ImplicitOp, values: str) -> Callable:
    """A compiled ``(codes, *flat params)`` that raises the op's
    :class:`~implicitop.solve.ImplicitSolveError` in object mode if any code is a failure.

    It is a function of its own: object mode pickles its function's globals, and the
    driver's include the kernel's C handle, which cannot be pickled.
    """

    def report(code: np.ndarray, *values: np.ndarray) -> None:
        op._raise_for_failures(values, SolveResult(np.full(code.shape, np.nan), code))

    source = _CHECK.format(values=values, converged=CONVERGED)
    environment = {"objmode": objmode, "report": report}
    return njit(compile_numba_function_src(source, "check", environment))


def _kernel_and_settings(op: ImplicitOp) -> tuple[object, dict, str] | None:
    """The C solver, its settings by name and how the driver passes them; ``None``
    where there is no compiled solver (or a system has a symbolic guess)."""
    compiled = op._kernels().compiled
    if op.problem.size == 1:
        (domain,) = op._search_domains
        arguments = compiled_arguments(domain, op._param_domains, op._settings)
        names, passing = _SCALAR_SETTINGS
    else:
        if op._constant_guess is None:
            return None
        arguments = compiled_system_arguments(op._search_domains, op._param_domains, op._settings)
        names, passing = _SYSTEM_SETTINGS
    if compiled is None:
        return None
    return compiled.solve_into, dict(zip(names, arguments, strict=True)), passing


@register_funcify_and_cache_key(ImplicitOp)
def numba_funcify_implicit_op(
    op: ImplicitOp, node: Apply | None = None, **kwargs: object
) -> tuple[Callable, str | None]:
    """The numba implementation of ``op`` at ``node``, and PyTensor's cache key for it."""
    found = _kernel_and_settings(op)
    if found is None:
        return generate_fallback_impl(op, node, **kwargs), None
    kernel, settings, passing = found
    n = op.problem.size
    inputs = [f"p{i}" for i in range(len(op.params))]
    values = [f"values{i}" for i in range(len(op.params))]
    if n == 1:
        outputs = "root.reshape(shape).astype(output_dtype)"
    else:
        columns = [
            f"np.ascontiguousarray(root[:, {j}]).reshape(shape).astype(output_dtype)"
            for j in range(n)
        ]
        outputs = "(" + ", ".join(columns) + ")"
    source = _DRIVER.format(
        inputs=", ".join(inputs),
        first=inputs[0],
        flatten="\n    ".join(
            f"{v} = np.ravel({p}).astype(np.float64)" for p, v in zip(inputs, values, strict=True)
        ),
        values=", ".join(values),
        root_shape="size" if n == 1 else f"(size, {n})",
        pointers=", ".join(f"{v}.ctypes" for v in values),
        settings=passing,
        outputs=outputs,
    )
    environment = {
        "np": np,
        "kernel": kernel,
        **settings,
        "initial_guess": _guess_function(op),
        "raise_on_failure": op.options.on_failure == "raise",
        "check": _failure_check(op, ", ".join(values)),
        "output_dtype": np.dtype(node.outputs[0].dtype),
    }
    # The kernel is called through its C address, which numba does not store on disk:
    # no cache key, so PyTensor compiles graphs with this op anew in each process.
    driver = compile_numba_function_src(source, "implicit_op", environment)
    return njit(driver), None
