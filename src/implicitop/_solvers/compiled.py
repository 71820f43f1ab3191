"""Each problem's solver, compiled in two tiers that give the same results.

1. The **shared** solver: the algorithm compiled once for every problem
   (:mod:`~implicitop._solvers.by_address`; one for one equation, one for systems,
   loaded from numba's disk cache after the first problem ever), which calls the
   problem's element functions by address. Only those are compiled per problem
   (:mod:`~implicitop._solvers.element_entry`): the first result of a new residual
   comes in about a second.
2. The **full** solver: the algorithm and the element functions compiled together,
   1.5-2 times as fast on large batches, but several seconds to compile. It is
   compiled in a worker process (:mod:`~implicitop._solvers.background`) and takes
   over when it is ready, or is loaded at once where an earlier process compiled it.

Both run the same compiled arithmetic in the same order, so they return the same
roots and statuses, bit for bit: which tier ran is never visible in a result. Every
caller (Python through :attr:`ProblemKernels.solve`, the C op) calls the current
tier through one C entry point of signature
:data:`~implicitop._solvers.batch.C_SIGNATURE`, found in :attr:`ProblemKernels.entry_cell`.

Where numba cannot compile an expression (a function Python's ``math`` lacks, say),
the same algorithm runs as plain Python over SciPy and NumPy callables, with a
``RuntimeWarning`` that says which functions are to blame.
"""

from __future__ import annotations

import ctypes
import gc
import inspect
import sys
import threading
import types
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

import numba
import numpy as np

from implicitop._codegen import (
    KernelPrinter,
    defined_names,
    element_functions,
    element_source,
    unprintable_functions,
)
from implicitop._options import Starts
from implicitop._problem import ImplicitProblem
from implicitop._progress import announced
from implicitop._solvers import (
    background,
    batch,
    element_entry,
    interface,
)
from implicitop._solvers.generated import (
    ALGORITHMS,
    ELEMENTS,
    FULL,
    SHARED,
    c_function,
    compiled_as_entry,
    elements_source,
    full_source,
    import_module,
    shared_source,
    special_import,
    write_module,
)
from implicitop._solvers.kernel_cache import mark_used
from implicitop._solvers.lockstep import BLOCK
from implicitop._solvers.settings import ELEMENTS as ELEMENTS_FIELD
from implicitop._solvers.settings import SHARED as SHARED_FIELD
from implicitop._solvers.vector_math import vector_library

__all__ = [
    "ProblemKernels",
    "plain_kernels",
    "problem_kernels",
]

#: :data:`~implicitop._solvers.batch.C_SIGNATURE` for ctypes, arrays by address.
_C_PROTOTYPE = ctypes.CFUNCTYPE(
    None, ctypes.c_ssize_t, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_ssize_t,
    ctypes.c_void_p, ctypes.c_void_p,
)  # fmt: skip


#: :data:`~implicitop._solvers.element_entry.SLOPES_SIGNATURE` for ctypes.
_SLOPES_PROTOTYPE = ctypes.CFUNCTYPE(
    None, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_ssize_t, ctypes.c_ssize_t, ctypes.c_void_p
)


def _address(array: np.ndarray, dtype: type) -> int:
    """The address of ``array``'s data, checked to be C-contiguous ``dtype``."""
    if array.dtype != dtype or not array.flags.c_contiguous:
        raise TypeError(f"the solver takes C-contiguous {np.dtype(dtype)} arrays")
    return array.ctypes.data


class ProblemKernels:
    """One problem's solver: the shared tier at once, the full tier when it is ready.

    Parameters
    ----------
    module
        The module of the full solver (:func:`~implicitop.solve`,
        ``measure_root`` and the element functions): numba dispatchers compiled when
        first called, or plain Python where numba cannot compile the problem.
    compiled
        Whether ``module`` is compiled.
    elements, shared
        The problem's element entry point and the shared solver (numba C functions).
    path
        The file of ``module``, written again from ``source`` if it is evicted from the
        kernel folder while this process uses it (numba's disk cache needs it).
    source
        The source of ``module``.
    shown
        The residuals, as errors and warnings name them.
    """

    def __init__(
        self,
        module: types.ModuleType,
        compiled: bool,
        elements: Any = None,
        shared: Any = None,
        path: Path | None = None,
        source: str = "",
        shown: str = "",
    ) -> None:
        self.module = module
        self._shown = shown
        self.compiled = compiled
        self._elements, self._shared = elements, shared
        self._path, self._source = path, source
        self._full: Any = None
        self._slopes: Any = None
        self._started = False
        self._lock = threading.Lock()
        self._cell = np.zeros(1, dtype=np.int64)
        if compiled:
            self._cell[0] = shared.address
        self._prototypes: dict[int, Callable[..., None]] = {}

    def __repr__(self) -> str:
        tier = "plain Python" if not self.compiled else "full" if self.full_ready else "shared"
        return f"<ProblemKernels {self.module.__name__} ({tier})>"

    @property
    def elements_address(self) -> int:
        """The address of the problem's element entry point in this process (0 without
        numba); the settings record passed to :attr:`solve` carries it
        (:meth:`~implicitop._solvers.settings.Settings.record_with_entry_points`)."""
        return self._elements.address if self.compiled else 0

    @property
    def slopes_address(self) -> int:
        """The address of the entry point of one equation's implicit derivatives in this
        process (:data:`~implicitop._solvers.element_entry.SLOPES_SIGNATURE`), compiled
        when first asked for (a gradient that takes them), or loaded from numba's disk
        cache."""
        if not self.compiled or self._elements.__wrapped__.__name__ != "equation_elements":
            raise RuntimeError("only a compiled solver of one equation has implicit slopes")
        with self._lock:
            if self._slopes is None:
                self._slopes = _slopes_entry(self._elements)
        return self._slopes.address

    @property
    def shared_address(self) -> int:
        """The address of the shared solver in this process (0 without numba), which
        the settings record carries too: the full solver hands it the elements its
        fast path leaves."""
        return self._shared.address if self.compiled else 0

    @property
    def entry_cell(self) -> np.ndarray:
        """One int64: the address of the entry point of the tier in use, which the C op
        reads at every call (it changes once, when the full solver takes over)."""
        return self._cell

    @property
    def full_ready(self) -> bool:
        """Whether the full solver is in use."""
        return self._full is not None

    @property
    def solve(self) -> Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray], None]:
        """:func:`implicitop.solve` for this problem: ``solve(params,
        settings, root, code)`` with C-contiguous arrays. Compiled, it releases the
        GIL, so threads run it side by side."""
        return self._solve_compiled if self.compiled else self.module.solve

    def measure_root(self, u: np.ndarray, p: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        """At ``u`` (n,) for the parameters ``p`` (k,): ``|R|`` over the rounding it may
        carry, ``dR/du`` (n, n) and the size of each residual's terms (n,), as the
        solver measures them (see ``measure_root`` in the algorithm modules)."""
        if not self.compiled:
            return self.module.measure_root(u, p)
        appended = np.concatenate([p, [u.shape[0], self.elements_address]])
        module = _shared_module(min(u.shape[0], 2))
        with vector_library(), compiled_as_entry(module.measure_root):  # at the first call
            return module.measure_root(u, appended)

    def slopes(self, root: np.ndarray, params: Sequence[np.ndarray]) -> np.ndarray:
        """One equation's implicit derivatives ``dx/dp_j`` at the roots ``root`` (m,) for
        the parameter values ``params`` (k arrays of m), from their entry point
        (:attr:`slopes_address`) block by block, the last block padded with copies of
        its first lane: (k, m) values, as the C op of the gradient computes them
        (``implicit_slopes.c``)."""
        entry = _SLOPES_PROTOTYPE(self.slopes_address)
        size, k = root.shape[0], len(params)
        lanes, columns, out = np.empty(BLOCK), np.empty((k, BLOCK)), np.empty((k, BLOCK))
        slopes = np.empty((k, size))
        for start in range(0, size, BLOCK):
            count = min(BLOCK, size - start)
            picked = np.where(np.arange(BLOCK) < count, np.arange(start, start + BLOCK), start)
            lanes[:] = root[picked]
            for j, values in enumerate(params):
                columns[j] = values[picked]
            entry(lanes.ctypes.data, columns.ctypes.data, count, k, out.ctypes.data)
            slopes[:, start : start + count] = out[:, :count]
        return slopes

    def _solve_compiled(
        self, params: np.ndarray, settings: np.ndarray, root: np.ndarray, code: np.ndarray
    ) -> None:
        size = params.shape[0]
        if root.shape[0] != size or code.shape[0] != size:
            raise ValueError("params, root and code need one row per element")
        if (settings[ELEMENTS_FIELD], settings[SHARED_FIELD]) != (
            self.elements_address,
            self.shared_address,
        ):
            raise ValueError(
                "the settings record does not hold this process's entry points: use "
                "Settings.record_with_entry_points(kernels.elements_address, "
                "kernels.shared_address)"
            )
        address = int(self._cell[0])
        entry = self._prototypes.get(address)
        if entry is None:
            entry = self._prototypes.setdefault(address, _C_PROTOTYPE(address))
        entry(
            size, _address(params, np.float64), _address(settings, np.float64),
            settings.shape[0], _address(root, np.float64), _address(code, np.int8),
        )  # fmt: skip

    @property
    def c_address(self) -> int:
        """The address of the full solver's C entry point (signature
        :data:`~implicitop._solvers.batch.C_SIGNATURE`), compiled now, or loaded from
        numba's disk cache, if it is not ready; 0 without numba.

        Raises
        ------
        RuntimeError
            Where numba compiles the problem's functions but not the solver around
            them (a defect of implicitop, reported with numba's message).
        """
        if not self.compiled:
            return 0
        try:
            return self.load_full()
        except Exception as error:
            raise _around_error(self._shown, error) from error

    def load_full(self) -> int:
        """Compile the full solver here (or load it from numba's disk cache), switch to
        it and return its address."""
        with self._lock:
            if self._full is None:
                path = self.module_file()
                doing = f"implicitop: compiling the full solver of {self._shown}"
                why = "once per problem; later processes load it"
                with cycle_collector_paused(), announced(doing, why):
                    full = c_function(self.module.solve_from_pointers, batch.C_SIGNATURE)
                background.finished_marker(path).touch()
                self._full = full
                self._cell[0] = full.address
        return self._full.address

    def upgrade_in_background(self) -> None:
        """Have the full solver compiled by a worker process (once), then switch to it."""
        with self._lock:
            if self._started or self._full is not None or not self.compiled:
                return
            self._started = True
        background.submit(self.module_file, self._compiled_in_background)

    def module_file(self) -> Path:
        """The file of the full solver's module, marked used in the kernel folder, or
        written again if it was evicted (by another process, say, while this one
        waited for its full solver)."""
        if self._path is None:
            raise RuntimeError("a plain-Python solver has no module file")
        if self._path.exists():
            mark_used(self._path)
            return self._path
        return write_module(self._source, FULL)

    def _compiled_in_background(self, error: str | None) -> None:
        try:
            if error is None:
                self.load_full()
                return
        except Exception as failure:  # reported below; the shared solver goes on
            error = f"{type(failure).__name__}: {failure}"
        warnings.warn(
            f"the full solver of {self._shown} did not compile ({error}); the "
            "shared solver, slower but with the same results, stays in use",
            RuntimeWarning,
            stacklevel=1,
        )


def _around_error(shown: str, error: Exception) -> RuntimeError:
    """The error for a solver numba cannot compile around element functions it compiles
    (a defect of implicitop)."""
    return RuntimeError(
        f"numba compiled the functions of {shown} but not the solver around them: "
        f"{type(error).__name__}: {error}"
    )


def _on_numpy_floats(function: Callable[..., Any]) -> Callable[..., Any]:
    """``function(x, p)`` with ``x`` a NumPy float: Python floats raise on overflow where
    NumPy's give inf, as compiled code does."""
    return lambda x, p: function(np.float64(x), p)


def plain_kernels(problem: ImplicitProblem, starts: Starts) -> ProblemKernels:
    """The problem's solver as plain Python: the same algorithm, over the problem's
    SciPy/NumPy callables (slow; for residuals numba cannot compile)."""
    module = types.ModuleType("implicitop_plain_solver")
    for part in ALGORITHMS[min(problem.size, 2)]:
        exec(compile(inspect.getsource(part), str(part.__file__), "exec"), vars(module))
    functions = element_functions(problem, starts)
    if problem.size == 1:
        for name in ("residual", "residual_and_slope", "halley_parts", "scale"):
            functions[name] = _on_numpy_floats(functions[name])
    vars(module).update(functions)
    return ProblemKernels(module, compiled=False)


def _warn_plain_python(problem: ImplicitProblem, starts: Starts, error: Exception) -> None:
    lacking = unprintable_functions(problem, starts, KernelPrinter())
    culprits = f" ({', '.join(lacking)}: no compiled implementation)" if lacking else ""
    shown = ", ".join(map(str, problem.residuals))
    reason = _first_specific_line(str(error))
    warnings.warn(
        f"numba could not compile the residual {shown}{culprits}: {type(error).__name__}: "
        f"{reason}. The solver runs as plain Python over SciPy, which is much slower. "
        "Rewrite the residual with functions from Python's math module (exp, log, erf, "
        "gamma, ...) or SciPy's special functions that compile (gammainc, besseli, "
        "digamma, erfinv, ...) where you can, or introduce the special function's value "
        "as another unknown of a system (w = LambertW(x) is the root of w*exp(w) - x).",
        RuntimeWarning,
        stacklevel=4,
    )


def _first_specific_line(message: str) -> str:
    """The first line of numba's ``message`` that says what failed: its first lines
    often only name the compiler's stage ("Failed in nopython mode pipeline (step:
    nopython frontend)")."""
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    specific = [line for line in lines if not line.startswith(("Failed in ", "During: "))]
    return (specific or lines or [""])[0]


def _element_error(problem: ImplicitProblem, source: str) -> Exception | None:
    """The error numba gives compiling the problem's element functions ``source`` on
    their own, or None where they compile (then the code around them is at fault)."""
    try:
        namespace: dict = {}
        header = "\n".join(["from math import *", *special_import(source)])
        exec(compile(f"{header}\n{source}", "<element functions>", "exec"), namespace)
        unknown = numba.float64 if problem.size == 1 else numba.float64[::1]
        params = numba.float64[::1]
        arguments = {
            "guess": (params,),
            "bracket": (params,),
            "lane_parameters": (numba.float64[:, ::1], numba.intp),
        }
        for name in defined_names(source):
            signature = arguments.get(name, (unknown, params))
            numba.njit(error_model="numpy")(namespace[name]).compile(signature)
    except Exception as error:
        return error
    return None


@lru_cache(maxsize=2)
def _shared_module(size: int) -> types.ModuleType:
    """The shared solver's module for one equation (``size`` 1) or for systems (2).
    Its block functions call the problem's (which take their lanes' parameters with
    the problem's ``lane_parameters`` and evaluate its ``residual_slope_and_scale``),
    so it defines neither itself, nor the op gradient's ``slope_and_partials``."""
    placeholders = {"lane_parameters", "residual_slope_and_scale", "slope_and_partials"}
    return import_module(write_module(shared_source(size), SHARED), placeholders)


@lru_cache(maxsize=2)
def _shared_solver(size: int) -> object:
    """The shared solver of one equation (``size`` 1) or of systems (2), as a C
    function: compiled once per kernel folder (announced where it takes a while,
    :func:`~implicitop._progress.announced`), then loaded from numba's disk cache."""
    kind = "one equation" if size == 1 else "systems"
    why = "once per kernel folder; every later problem starts from it"
    with announced(f"implicitop: compiling the shared solver of {kind}", why):
        return c_function(_shared_module(size).solve_by_address, batch.C_SIGNATURE)


#: The attribute of an element module that holds its source (:func:`_slopes_entry`).
_ELEMENTS_SOURCE = "__implicitop_source__"


def _element_entry(problem: ImplicitProblem, source: str) -> object:
    """The problem's element entry point (:mod:`~implicitop._solvers.element_entry`)."""
    unused = set(interface.__all__) - set(element_entry.CALLED[min(problem.size, 2)])
    text = elements_source(problem, source)
    module = import_module(write_module(text, ELEMENTS), unused)
    setattr(module, _ELEMENTS_SOURCE, text)
    name = "equation_elements" if problem.size == 1 else "system_elements"
    return c_function(getattr(module, name), element_entry.C_SIGNATURE)


def _slopes_entry(elements: Any) -> object:
    """One equation's implicit derivatives' entry point
    (:func:`~implicitop._solvers.element_entry.equation_slopes`), from the module of its
    element entry point ``elements``: compiled when a gradient first takes it, maybe
    long after the module was written, so its file is written again if the kernel
    folder evicted it meanwhile (numba's disk cache needs the file)."""
    module = sys.modules[elements.__wrapped__.__module__]
    write_module(getattr(module, _ELEMENTS_SOURCE), ELEMENTS)
    return c_function(module.equation_slopes, element_entry.SLOPES_SIGNATURE)


@contextmanager
def cycle_collector_paused() -> Iterator[None]:
    """Python's cycle collector paused while numba compiles, then as it was.

    Compiling allocates hundreds of thousands of objects, and every full collection it
    triggers walks the whole heap (PyMC, PyTensor and SymPy loaded: about 0.2 s each):
    a new residual's functions took 0.8 s instead of 0.5 s in two compiles of three.
    The compiler's garbage is collected afterwards, in one collection."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@lru_cache(maxsize=256)
def problem_kernels(problem: ImplicitProblem, starts: Starts) -> ProblemKernels:
    """The problem's solver (with the expressions ``starts``), compiled if numba can:
    the shared tier now, the full one loaded if an earlier process compiled it, else
    compiled in the background (see the module's description).

    Raises
    ------
    RuntimeError
        Where numba compiles the problem's functions but not the code around them (a
        defect of implicitop, reported with numba's message). Where it cannot compile
        the problem's functions, the solver runs as plain Python instead, with a
        ``RuntimeWarning`` naming them.
    """
    with cycle_collector_paused():
        return _compiled_kernels(problem, starts)


def _compiled_kernels(problem: ImplicitProblem, starts: Starts) -> ProblemKernels:
    """:func:`problem_kernels`, the collector as it is."""
    try:
        source = element_source(problem, starts)
        full = full_source(problem, source)
        path = write_module(full, FULL)
    except Exception as error:  # a function the kernel printer cannot print
        _warn_plain_python(problem, starts, error)
        return plain_kernels(problem, starts)
    shown = ", ".join(map(str, problem.residuals))
    try:
        elements = _element_entry(problem, source)
    except Exception as error:
        element_error = _element_error(problem, source)
        if element_error is None:
            raise _around_error(shown, error) from error
        _warn_plain_python(problem, starts, element_error)
        return plain_kernels(problem, starts)
    module = import_module(path)
    try:
        shared = _shared_solver(min(problem.size, 2))
    except Exception as error:
        raise _around_error(shown, error) from error
    kernels = ProblemKernels(module, True, elements, shared, path, full, shown)
    if background.finished_marker(path).exists():
        kernels.c_address  # noqa: B018 (loads the full solver from the disk cache)
    elif background.enabled():
        kernels.upgrade_in_background()
    return kernels
