"""The site's pages agree with the code: every status is on the statuses page with its
code, and every Python block that the docs build does not execute runs as written
(the PyMC3 page's runs in the legacy suite, the testing page's under pytest in
``test_readme.py``)."""

import re

import pytest

from implicitop import SolveStatus
from scripts import ROOT

DOCS = ROOT / "docs"
#: Pages whose Python blocks are run by other tests.
RUN_ELSEWHERE = {"howto/pymc3.md", "howto/testing.md"}
BLOCKS = [
    (str(page.relative_to(DOCS)), index, code)
    for page in sorted(DOCS.rglob("*.md"))
    if "_build" not in page.parts and str(page.relative_to(DOCS)) not in RUN_ELSEWHERE
    for index, code in enumerate(re.findall(r"```python\n(.*?)```", page.read_text(), re.DOTALL))
]


def test_the_statuses_page_lists_every_status_with_its_code():
    page = (DOCS / "reference" / "statuses.md").read_text()
    rows = dict(re.findall(r"^\| *(\d+) \| `([A-Z_]+)` \|", page, flags=re.MULTILINE))
    assert rows == {str(status.value): status.name for status in SolveStatus}


def test_the_docs_have_python_blocks_to_run():
    assert BLOCKS


@pytest.mark.parametrize(("page", "index", "code"), BLOCKS, ids=[f"{p}-{i}" for p, i, _ in BLOCKS])
def test_a_python_block_in_the_docs_runs_as_written(page, index, code):
    exec(compile(code, f"docs/{page}, block {index + 1}", "exec"), {"__name__": "docs"})
