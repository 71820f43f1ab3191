"""Run a function right after a module is imported, wherever the import comes from.

The op registers its numba and JAX implementations with PyTensor's dispatchers, which
live in modules that import numba's PyTensor backend or JAX (seconds). The op's own
module is imported every time PyTensor reads a cached op's key, in every process that
compiles anything; so the registrations wait until PyTensor imports those modules
itself (its numba and JAX linkers do, before they convert a graph), and run at once
where they are imported already.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
import types
from collections.abc import Callable, Sequence

__all__ = ["after_import"]


class _ThenRun(importlib.abc.Loader):
    """A module's own loader, followed by ``then``."""

    def __init__(self, loader: importlib.abc.Loader, then: Callable[[], None]) -> None:
        self._loader, self._then = loader, then

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType | None:
        return self._loader.create_module(spec)

    def exec_module(self, module: types.ModuleType) -> None:
        module.__loader__ = self._loader
        if module.__spec__ is not None:
            module.__spec__.loader = self._loader
        self._loader.exec_module(module)
        self._then()


class _Watch(importlib.abc.MetaPathFinder):
    """Finds nothing itself: hands the watched modules' specs from the other finders
    to a loader that runs the hook after the module's own code."""

    def __init__(self) -> None:
        self.hooks: dict[str, list[Callable[[], None]]] = {}

    def find_spec(
        self,
        name: str,
        path: Sequence[str] | None,
        target: types.ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if name not in self.hooks:
            return None
        hooks = self.hooks.pop(name)
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None and spec.loader is not None:

                def run_hooks() -> None:
                    for hook in hooks:
                        hook()

                spec.loader = _ThenRun(spec.loader, run_hooks)
                return spec
        return None


_WATCH = _Watch()


def after_import(name: str, hook: Callable[[], None]) -> None:
    """Call ``hook()`` once the module ``name`` is imported: now if it is already."""
    if name in sys.modules:
        hook()
        return
    if _WATCH not in sys.meta_path:
        sys.meta_path.insert(0, _WATCH)
    _WATCH.hooks.setdefault(name, []).append(hook)
