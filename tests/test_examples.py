"""The examples run end to end (with few draws) and print what they show."""

from scripts import ROOT, run_script


def run_example(name: str, *args: str) -> str:
    return run_script(ROOT / "examples" / name, *args)


def test_seed_root_model_example(tmp_path):
    plot = tmp_path / "seed.png"
    output = run_example("seed_root_model.py", "--draws", "100", "--output", str(plot))
    assert "symbolically equal to the page's formula: True" in output
    assert "verify_grad at theta=100000: passed" in output
    assert "theta" in output.split("posterior summary")[1]
    assert plot.stat().st_size > 10_000


def test_shared_data_example():
    output = run_example("shared_data.py", "--draws", "100")
    assert output.count(" | ") == 11  # header and ten fits
    assert "same estimates" in output
    assert "have shape (2, 100, 3)" in output
