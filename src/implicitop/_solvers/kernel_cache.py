"""The folder of compiled kernels: versioned, and bounded by evicting the least
recently used.

Every problem's generated module and numba's machine code for it live in
``$IMPLICITOP_CACHE_DIR/v<FORMAT>-numba<version>`` (by default under
``~/.cache/implicitop``). Loading a
kernel marks it used (the modification time of a ``.used`` file beside it: numba
checks the module's own time stamp, so touching it would make numba compile again);
writing a new one removes, beyond
the :data:`KEEP` most recently used, the kernels not used for :data:`GRACE_SECONDS`
(a process that has just written or loaded one keeps it), with numba's files for them.
The shared solvers (:data:`SHARED_PREFIX`: a few per implicitop version, every new
problem's first solver, about 10 s each to compile) do not count towards
:data:`KEEP`: they are removed once unused for :data:`STALE_SECONDS`, as are folders
of other cache formats or numba versions.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

__all__ = [
    "FORMAT",
    "GRACE_SECONDS",
    "KEEP",
    "SHARED_PREFIX",
    "STALE_SECONDS",
    "cache_dir",
    "evict",
    "folder_name",
    "kernel_folder",
    "mark_used",
]

#: The layout of the kernel folder; a change starts a new folder.
FORMAT = 3
#: How many kernels are kept at least (each is about 1 MB with numba's files).
KEEP = 128
#: Kernels used more recently than this are never removed.
GRACE_SECONDS = 600.0
#: Shared solvers, and folders of other formats or numba versions, unused for this long
#: are removed.
STALE_SECONDS = 7 * 24 * 3600.0
#: How the names of the shared solvers' modules begin.
SHARED_PREFIX = "implicitop_shared"


def cache_dir() -> Path:
    """Where the kernel folders are kept: ``$IMPLICITOP_CACHE_DIR``, by default
    ``~/.cache/implicitop``."""
    default = Path.home() / ".cache" / "implicitop"
    return Path(os.environ.get("IMPLICITOP_CACHE_DIR", default))


def folder_name() -> str:
    """The name of the kernel folder of this cache format and this numba version.

    numba keeps one index of machine code per function and numba version: a process
    of another version (a second environment, as the legacy Theano one, on the same
    machine) finds the index empty, compiles and writes its own over it, and the
    first version then compiles again. Each version's kernels have a folder of their
    own."""
    import numba

    return f"v{FORMAT}-numba{numba.__version__}"


def kernel_folder() -> Path:
    """The folder of this cache format's and this numba version's kernels (created if
    missing, see :func:`folder_name`)."""
    folder = cache_dir() / folder_name()
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def mark_used(path: Path) -> None:
    """Record that the kernel at ``path`` was used now (for :func:`evict`)."""
    try:
        path.with_suffix(".used").touch()
    except OSError:  # the folder is read-only, or was removed meanwhile
        pass


def _last_used(path: Path) -> float:
    for candidate in (path.with_suffix(".used"), path):
        try:
            return candidate.stat().st_mtime
        except OSError:
            continue
    return 0.0


def evict(folder: Path, keep: int = KEEP, now: float | None = None) -> list[str]:
    """Remove the kernels of ``folder`` beyond the ``keep`` most recently used that were
    not used for :data:`GRACE_SECONDS`, the shared solvers not used for
    :data:`STALE_SECONDS`, with numba's cache files for them, and the folders of other
    formats or numba versions unused for :data:`STALE_SECONDS`; return the names of
    the kernels removed."""
    now = time.time() if now is None else now
    kernels = sorted(folder.glob("implicitop_*.py"), key=_last_used, reverse=True)
    shared = [path for path in kernels if path.name.startswith(SHARED_PREFIX)]
    others = [path for path in kernels if not path.name.startswith(SHARED_PREFIX)]
    removed = []
    for path, unused_for in [
        *((path, GRACE_SECONDS) for path in others[keep:]),
        *((path, STALE_SECONDS) for path in shared),
    ]:
        if now - _last_used(path) < unused_for:
            continue
        numba_files = (folder / "__pycache__").glob(f"{path.stem}.*")
        companions = [path.with_suffix(suffix) for suffix in (".used", ".full", ".lock")]
        for leftover in [path, *companions, *numba_files]:
            leftover.unlink(missing_ok=True)
        removed.append(path.stem)
    for other in folder.parent.glob("v*"):
        if other != folder and other.is_dir():
            files = (p for p in other.rglob("*") if p.is_file())
            newest = max((_last_used(p) for p in files), default=0.0)
            if now - newest > STALE_SECONDS:
                shutil.rmtree(other, ignore_errors=True)
    return removed
