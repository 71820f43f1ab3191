"""Measure this checkout against another git revision, alternating in new processes.

The machine's speed drifts, so only measurements of the same sitting compare: the
scripts that take ``--against REV`` (``compile_time.py``, ``systems.py``) run each
version in turn, ``--rounds`` times, and print one table with a column per version.
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: Measures one version in a new process: its ``src`` folder and a folder of its own
#: that lasts the whole comparison (e.g. a kernel cache) -> a value per step.
Measure = Callable[[Path, Path], dict[str, float]]


def checkout(revision: str, folder: Path) -> Path:
    """The ``src`` folder of ``revision``, exported into ``folder``."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", revision, "src"],
        capture_output=True,
        check=True,
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder / "src"


def compare(description: str, steps: Sequence[str], measure: Measure, unit: str) -> None:
    """Parse ``--against`` and ``--rounds``, run ``measure`` alternately for each
    version and print a row per step: every round's value, in ``unit``."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--against", help="a git revision to measure alternately with this one")
    parser.add_argument("--rounds", type=int, default=2, help="processes per version")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        versions = {"this checkout": ROOT / "src"}
        if args.against:
            (Path(folder) / "against").mkdir()
            versions[args.against] = checkout(args.against, Path(folder) / "against")
        own = {name: Path(folder) / f"own-{i}" for i, name in enumerate(versions)}
        for path in own.values():
            path.mkdir()
        results: dict[str, list[dict[str, float]]] = {name: [] for name in versions}
        for _ in range(args.rounds):
            for name, source in versions.items():
                results[name].append(measure(source, own[name]))
    names = list(versions)
    print("| step | " + " | ".join(f"{name} ({unit})" for name in names) + " |")
    print("|---|" + "---|" * len(names))
    for step in steps:
        cells = [", ".join(f"{run[step]:.3g}" for run in results[name]) for name in names]
        print(f"| {step} | " + " | ".join(cells) + " |")
