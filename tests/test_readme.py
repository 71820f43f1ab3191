"""The README's Python examples run as written (the PyMC3 one runs in the legacy
suite, ``tests/theano/test_example.py``), and so does the docs' copy-paste test file."""

import re
import subprocess
import sys

import pytest

from scripts import ROOT

README = (ROOT / "README.md").read_text()
MAIN_PART = README.split("## PyMC3 / Theano", 1)[0] + README.split("## Benchmarks", 1)[1]
BLOCKS = re.findall(r"```python\n(.*?)```", MAIN_PART, flags=re.DOTALL)


def test_the_readme_has_its_examples():
    assert len(BLOCKS) >= 4


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_a_readme_example_runs(index, capsys):
    code = BLOCKS[index]
    exec(compile(code, f"README.md, example {index + 1}", "exec"), {"__name__": "readme"})
    if "print(" in code:
        assert capsys.readouterr().out.strip()


def test_the_docs_testing_example_passes_under_pytest(tmp_path):
    # docs/howto/testing.md gives users a test file to copy: it must pass as written.
    page = (ROOT / "docs" / "howto" / "testing.md").read_text()
    (code,) = re.findall(r"```python\n(.*?)```", page, flags=re.DOTALL)
    (tmp_path / "test_my_op.py").write_text(code)
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        capture_output=True, text=True, cwd=tmp_path, check=False, timeout=600,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stdout[-3000:]
    assert "2 passed" in completed.stdout
