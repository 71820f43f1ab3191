"""The kernel folder is versioned and bounded: least recently used kernels are evicted
with numba's files, recently used ones never, the shared solvers only once stale;
marking a kernel used leaves the time stamp numba checks untouched; each numba version
has a folder of its own."""

import os
import time

import numba
import numpy as np
import sympy as sp

from implicitop import make_implicit_op
from implicitop._solvers import kernel_cache
from implicitop._solvers.generated import import_module, write_module
from implicitop._solvers.kernel_cache import (
    FORMAT,
    GRACE_SECONDS,
    STALE_SECONDS,
    evict,
    folder_name,
    mark_used,
)


def fake_kernel(folder, name, used_at, prefix="implicitop_kernel"):
    """A generated module with two numba cache files and the marker and lock of a
    background compilation, last used at ``used_at``."""
    path = folder / f"{prefix}_{name}.py"
    path.write_text("# generated\n")
    (folder / "__pycache__").mkdir(exist_ok=True)
    numba_files = [folder / "__pycache__" / f"{path.stem}.solve-1.py311.{ext}" for ext in "ic"]
    companions = [path.with_suffix(".full"), path.with_suffix(".lock")]
    for file in [path, *numba_files, *companions]:
        file.touch()
        os.utime(file, (used_at, used_at))
    return path


def test_least_recently_used_kernels_beyond_the_limit_are_evicted(tmp_path):
    now = 1e9
    ages = {"a": 5000.0, "b": 4000.0, "c": 3000.0, "d": GRACE_SECONDS / 2, "e": 100.0}
    paths = {name: fake_kernel(tmp_path, name, now - age) for name, age in ages.items()}
    mark_used(paths["a"])  # "a" used just now: the most recent
    os.utime(paths["a"].with_suffix(".used"), (now - 10, now - 10))
    removed = evict(tmp_path, keep=2, now=now)
    assert sorted(removed) == ["implicitop_kernel_b", "implicitop_kernel_c"]
    left = sorted(p.name for p in tmp_path.glob("implicitop_kernel_*.py"))
    assert left == ["implicitop_kernel_a.py", "implicitop_kernel_d.py", "implicitop_kernel_e.py"]
    cached = sorted(p.name.split(".")[0] for p in (tmp_path / "__pycache__").iterdir())
    assert set(cached) == {"implicitop_kernel_a", "implicitop_kernel_d", "implicitop_kernel_e"}
    # "d" is beyond the limit too, but was used within the grace period
    companions = sorted(p.name for p in tmp_path.glob("*.full")) + sorted(
        p.name for p in tmp_path.glob("*.lock")
    )
    assert companions == [f"implicitop_kernel_{n}.{s}" for s in ("full", "lock") for n in "ade"]


def test_element_modules_are_evicted_like_kernels_and_shared_solvers_once_stale(tmp_path):
    now = 1e9
    old = [
        fake_kernel(tmp_path, "old", now - 5000, prefix)
        for prefix in ("implicitop_kernel", "implicitop_elements")
    ]
    recent = fake_kernel(tmp_path, "recent", now - 10, "implicitop_elements")
    # a shared solver unused for a day stays beyond the limit; one unused for longer
    # than STALE_SECONDS goes
    kept = fake_kernel(tmp_path, "day", now - 86400.0, "implicitop_shared")
    stale = fake_kernel(tmp_path, "stale", now - STALE_SECONDS - 1, "implicitop_shared")
    removed = evict(tmp_path, keep=1, now=now)
    assert sorted(removed) == sorted(path.stem for path in [*old, stale])
    left = {p.name for p in tmp_path.iterdir() if p.is_file()}
    assert left == {
        path.with_suffix(s).name for path in (recent, kept) for s in (".py", ".full", ".lock")
    }
    assert {p.name.split(".")[0] for p in (tmp_path / "__pycache__").iterdir()} == {
        recent.stem,
        kept.stem,
    }


def test_marking_a_kernel_used_leaves_numbas_time_stamp(tmp_path):
    path = fake_kernel(tmp_path, "x", 1e9)
    mark_used(path)
    assert path.stat().st_mtime == 1e9
    assert path.with_suffix(".used").stat().st_mtime > 1e9


def test_folders_of_other_formats_are_removed_once_stale(tmp_path):
    current = tmp_path / folder_name()
    current.mkdir()
    stale, fresh = tmp_path / "v1", tmp_path / "v0"
    for folder, age in ((stale, 30 * 86400.0), (fresh, 3600.0)):
        folder.mkdir()
        fake_kernel(folder, "old", 1e9 - age)
    evict(current, now=1e9)
    assert not stale.exists() and fresh.exists()


def test_kernels_are_written_to_the_versioned_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("IMPLICITOP_CACHE_DIR", str(tmp_path))
    assert kernel_cache.kernel_folder() == tmp_path / folder_name()
    u, q = sp.symbols("u q", positive=True)
    module = make_implicit_op(u**3 + u - q, u, q).solver.kernels.module
    assert os.path.dirname(module.__file__) == str(tmp_path / folder_name())


def test_a_module_is_imported_again_from_another_kernel_folder(tmp_path, monkeypatch):
    """The same generated module in another kernel folder (``$IMPLICITOP_CACHE_DIR``
    changed, or the first folder's copy evicted) is imported from where it is now:
    numba's disk cache must find its file."""
    # (``measure_root``: the one name of a generated module Python may call)
    source = "def measure_root(x):\n    return 2.0 * x\n"
    modules = []
    for name in ("first", "second"):
        monkeypatch.setenv("IMPLICITOP_CACHE_DIR", str(tmp_path / name))
        modules.append(import_module(write_module(source, "implicitop_kernel")))
    assert modules[0].__name__ == modules[1].__name__
    assert modules[1].__file__ == str(
        tmp_path / "second" / folder_name() / f"{modules[1].__name__}.py"
    )
    evict(tmp_path / "first" / folder_name(), keep=0, now=2e9)
    assert modules[1].measure_root(2.0) == 4.0  # compiled, numba's disk cache in the second


def test_each_numba_version_has_a_kernel_folder_of_its_own(tmp_path, monkeypatch):
    # numba keeps one index per function for one version: two versions sharing the
    # files (the main and the legacy environment) would compile over each other's
    monkeypatch.setenv("IMPLICITOP_CACHE_DIR", str(tmp_path))
    ours = kernel_cache.kernel_folder()
    assert ours.name == f"v{FORMAT}-numba{numba.__version__}"
    monkeypatch.setattr(numba, "__version__", "0.60.0")
    theirs = kernel_cache.kernel_folder()
    assert theirs.name == f"v{FORMAT}-numba0.60.0"
    fake_kernel(theirs, "in_use", time.time())
    evict(ours)
    assert (theirs / "implicitop_kernel_in_use.py").exists()  # the other version's, in use


def test_the_implicit_slopes_compile_after_their_module_was_evicted(tmp_path, monkeypatch):
    """A gradient may take one equation's compiled implicit derivatives long after the
    op was built: their entry point is compiled from the element module's file, which
    the kernel folder may have evicted meanwhile (numba could not cache it: a suite's
    fourteenth minute failed so). The file is written again."""
    monkeypatch.setenv("IMPLICITOP_CACHE_DIR", str(tmp_path))
    u, q = sp.symbols("u q", positive=True)
    kernels = make_implicit_op(u**5 + 2 * u - q, u, q).solver.kernels
    (elements,) = tmp_path.glob(f"{folder_name()}/implicitop_elements_*.py")
    assert evict(elements.parent, keep=0, now=time.time() + 2 * GRACE_SECONDS)
    assert not elements.exists()
    assert kernels.slopes_address
    assert elements.exists()
    # du/dq = 1 / (5 u^4 + 2) at the root u = 1 of q = 3
    slopes = kernels.slopes(np.array([1.0]), [np.array([3.0])])
    assert slopes[0, 0] == 1 / 7
