"""SymPy expressions printed as PyTensor graphs bound to given variables.

Built on sympytensor's printer, with the functions it lacks that PyTensor has
(``erfc``, Bessel functions, ``Heaviside``, ``Max`` of several arguments, ...; see
:mod:`implicitop._tensor_printing`). ``to_pytensor(exprs, bindings)`` prints;
``printable_functions()`` names what can be printed. sympytensor's printer is loaded
when something is first printed (``make_implicit_op`` checks that the gradient
prints), not with the op's module, which PyTensor imports whenever it reads a compiled
op's cache key; and without sympytensor's package, whose ``__init__`` imports PyMC for
its ``SympyDeterministic`` (3-4 s, which a process that uses no PyMC, a Dask worker
say, would pay for every op it builds).
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

import pytensor.tensor as pt

from implicitop._tensor_printing import TensorPrinting

if TYPE_CHECKING:
    import sympy as sp
else:
    from implicitop._lazy import sympy as sp

__all__ = ["printable_functions", "to_pytensor"]


#: The name sympytensor's printer module is loaded under where sympytensor is not
#: imported yet (its own name would need the package, and with it PyMC).
PRINTER_MODULE = "implicitop._pytensor.sympytensor_printer"


def _printer_module() -> ModuleType:
    """sympytensor's printer module: the one imported where sympytensor is, else its
    file loaded on its own (:func:`_printer_file`), else the package's."""
    loaded = sys.modules.get("sympytensor.pytensor")
    return loaded or _printer_file() or importlib.import_module("sympytensor.pytensor")


def _printer_file() -> ModuleType | None:
    """sympytensor's ``pytensor.py`` (which imports nothing of its package) loaded as
    :data:`PRINTER_MODULE`; None where sympytensor is not laid out that way."""
    package = importlib.util.find_spec("sympytensor")  # located, not imported
    folders = package.submodule_search_locations if package is not None else None
    if not folders:
        return None
    path = Path(next(iter(folders))) / "pytensor.py"
    spec = importlib.util.spec_from_file_location(PRINTER_MODULE, path)
    if spec is None or spec.loader is None:
        return None
    module = importlib.util.module_from_spec(spec)
    sys.modules[PRINTER_MODULE] = module
    try:
        spec.loader.exec_module(module)
    except Exception:  # a sympytensor whose printer needs its package
        del sys.modules[PRINTER_MODULE]
        return None
    return module


@lru_cache(maxsize=1)
def _printing() -> TensorPrinting:
    printer = _printer_module()
    return TensorPrinting(printer.PytensorPrinter, pt, printer.mapping)


def to_pytensor(exprs: Sequence[sp.Expr], bindings: Mapping[sp.Symbol, object]) -> list[object]:
    """Print ``exprs`` as PyTensor graphs whose symbols are the bound variables (see
    :meth:`implicitop._tensor_printing.TensorPrinting.to_graphs`)."""
    return _printing().to_graphs(exprs, bindings)


def printable_functions() -> list[str]:
    """Names of the SymPy functions that print to PyTensor."""
    return _printing().printable_functions()
