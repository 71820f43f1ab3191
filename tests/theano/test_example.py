"""The PyMC3 example and the README's PyMC3 code run end to end."""

from scripts import ROOT, run_script


def test_seed_root_model_on_pymc3(tmp_path):
    plot = tmp_path / "seed.png"
    script = ROOT / "examples" / "seed_root_model_pymc3.py"
    output = run_script(script, "--draws", "100", "--output", str(plot))
    assert "symbolically equal to the page's formula: True" in output
    assert "verify_grad at theta=100000: passed" in output
    assert "theta" in output.split("posterior summary")[1]
    assert plot.stat().st_size > 10_000


def test_the_readmes_pymc3_example_runs_as_written():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## PyMC3 / Theano", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    namespace: dict = {}
    exec(compile(code, "README.md (PyMC3 / Theano)", "exec"), namespace)
    posterior = namespace["trace"].posterior
    assert posterior["theta"].shape == (2, 1000)
    assert 1.5 < float(posterior["theta"].mean()) < 2.4  # exact: 1.93 (references.py)


def test_the_docs_pymc3_how_to_runs_as_written(capsys):
    page = (ROOT / "docs" / "howto" / "pymc3.md").read_text()
    (code,) = [block.split("```", 1)[0] for block in page.split("```python\n")[1:]]
    exec(compile(code, "docs/howto/pymc3.md", "exec"), {"__name__": "docs"})
    printed = float(capsys.readouterr().out.strip().splitlines()[-1])
    assert 1.5 < printed < 2.4  # exact: 1.93 (references.py)
