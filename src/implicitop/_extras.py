"""The message for an optional dependency that is not installed."""

from __future__ import annotations

__all__ = ["missing_extra"]


def missing_extra(error: ModuleNotFoundError, extra: str, needed_by: str) -> ImportError:
    """An :class:`ImportError` that says which extra installs the missing module.

    Parameters
    ----------
    error
        The error raised by importing the optional dependency.
    extra
        The name of the extra that installs it (``pip install "implicitop[extra]"``).
    needed_by
        What needs it, as the reader knows it (``"implicitop.testing"``, ``"op.plot"``).

    """
    return ImportError(
        f'{needed_by} needs {error.name}, which is not installed: pip install "implicitop[{extra}]"'
    )
