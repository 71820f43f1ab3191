"""SymPy imported at its first use, not with implicitop.

PyTensor unpickles the cache key of every compiled op in its compile folder whenever a
process compiles anything (models without implicit ops included), which imports the
op's module and everything it imports. SymPy's import alone takes most of a second, and
an op read from its key never needs it (:mod:`implicitop._tensor_op` restores the problem
only when it is used). So the modules an op's class imports name SymPy through
:data:`sympy` here, as ``sp``; type checkers see the real module::

    if TYPE_CHECKING:
        import sympy as sp
    else:
        from implicitop._lazy import sympy as sp
"""

from __future__ import annotations

from importlib import import_module

__all__ = ["LazyModule", "sympy"]


class LazyModule:
    """A module's stand-in that imports it when one of its attributes is first read.

    Parameters
    ----------
    name
        The module's import name.

    Examples
    --------
    >>> math = LazyModule("math")
    >>> math.sqrt(4.0)
    2.0
    """

    def __init__(self, name: str):
        self._name = name

    def __getattr__(self, attribute: str) -> object:
        # Reached only for names not yet copied here: once the module is imported its
        # public names become this object's own, read without the call.
        module = import_module(self._name)
        vars(self).update(
            (key, value) for key, value in vars(module).items() if not key.startswith("_")
        )
        return getattr(module, attribute)

    def __repr__(self) -> str:
        return f"<lazily imported module {self._name!r}>"


#: SymPy, imported at the first attribute read.
sympy = LazyModule("sympy")
