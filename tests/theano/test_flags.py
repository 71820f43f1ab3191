"""The flags ``implicitop.theano`` sets reach Theano, and ``benchmarks/theano_flags.py``
measures them beside the same flags with fusion left on."""

import re

import theano
import theano_flags

from implicitop.theano import _DEFAULT_FLAGS
from scripts import ROOT, assert_printed_ratio, run_script


def test_theano_runs_with_the_flags_implicitop_sets():
    assert theano_flags.FLAGS["fusion excluded"] == _DEFAULT_FLAGS
    assert theano.config.cxx == ""
    assert theano.config.optimizer_excluding == "fusion"


def test_the_flags_benchmark_prints_its_rows_with_ratios():
    output = run_script(ROOT / "benchmarks" / "theano_flags.py", "--quick")
    rows = [line for line in output.splitlines() if line.startswith("| ") and "---" not in line]
    assert rows[0] == "| task | fusion excluded | fusion on | ratio |"
    assert len(rows) == 1 + len(theano_flags.ROWS)
    for row in rows[1:]:
        excluded, fused, ratio = re.search(
            r"\| ([\d.e+]+) \w+ \| ([\d.e+]+) \w+ \| ([\d.]+)x \|$", row
        ).groups()
        assert float(excluded) > 0 and float(fused) > 0
        assert_printed_ratio(ratio, fused, excluded)
