# Two commands do everything on a fresh machine with Python 3.11:
#   make run   - set up .venv and run the seed page's root-finding model end to end
#   make test  - set up .venv with the test, jax, nutpie, dask and docs extras, lint, and run the
#                whole test suite; then set up .venv-theano (the seed page's own stack:
#                Theano-PyMC and PyMC3, the `theano` dependency group) and run tests/theano
#                there; then build the docs (tutorials executed, warnings are errors) and
#                check the built site in headless Chromium (installed with apt if missing)
# make run-theano runs the seed page's model on PyMC3 with implicitop.theano;
# make docs builds the documentation site into docs/_build/html.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP_RUN := $(VENV)/.installed-run
STAMP_TEST := $(VENV)/.installed-test
LEGACY := .venv-theano
LEGACY_BIN := $(LEGACY)/bin
STAMP_LEGACY := $(LEGACY)/.installed
# pip installs without compiling every module to bytecode (half of its CPU time: most
# installed modules are never imported); Python compiles and caches those a process
# imports, which needs PYTHONDONTWRITEBYTECODE unset in the commands run from here.
PIP_INSTALL = -m pip install --quiet --no-compile
unexport PYTHONDONTWRITEBYTECODE

# Chromium for the rendered-site check (docs-check): Debian's package where it is missing.
CHROMIUM ?= /usr/bin/chromium

.PHONY: run run-theano test test-main test-theano docs docs-check thorough lint clean

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "$(PYTHON) not found; set PYTHON=/path/to/python3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP_RUN): pyproject.toml | $(BIN)/python
	$(BIN)/python $(PIP_INSTALL) -e ".[pymc,plot,testing]"
	touch $@

$(STAMP_TEST): pyproject.toml | $(BIN)/python
	$(BIN)/python $(PIP_INSTALL) -e ".[test,jax,nutpie,dask,docs]"
	touch $@ $(STAMP_RUN)

$(LEGACY_BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "$(PYTHON) not found; set PYTHON=/path/to/python3.11"; exit 1; }
	$(PYTHON) -m venv $(LEGACY)
	$(LEGACY_BIN)/python -m pip install --quiet --upgrade pip

$(STAMP_LEGACY): pyproject.toml | $(LEGACY_BIN)/python
	$(LEGACY_BIN)/python $(PIP_INSTALL) --group theano
	$(LEGACY_BIN)/python $(PIP_INSTALL) --no-deps -e .
	touch $@

run: $(STAMP_RUN)
	$(BIN)/python examples/seed_root_model.py

run-theano: $(STAMP_LEGACY)
	$(LEGACY_BIN)/python examples/seed_root_model_pymc3.py

lint: $(STAMP_TEST)
	$(BIN)/ruff check src tests examples benchmarks docs
	$(BIN)/ruff format --check src tests examples benchmarks docs
	$(BIN)/mypy
	$(BIN)/pre-commit validate-config

# The three parts run side by side: the legacy suite and the docs build are mostly one
# process each, which would leave one of the two cores idle for minutes after the main
# suite. The main suite prints as it goes ("+": not held back by --output-sync); the
# output of the other two comes in one piece each when they end.
test:
	$(MAKE) --no-print-directory -j3 --output-sync=target test-main test-theano docs-check

test-main: lint
	+$(BIN)/python -m pytest -n 2 --durations=15

# tests/theano has its own pytest.ini, so the main suite's conftest is not loaded there.
test-theano: $(STAMP_LEGACY)
	$(LEGACY_BIN)/python -m pytest -c tests/theano/pytest.ini tests/theano --durations=10

# The site: API pages from the docstrings, tutorials executed (a broken example fails).
docs: $(STAMP_TEST)
	rm -rf docs/_build docs/generated docs/jupyter_execute
	$(BIN)/sphinx-build -W --keep-going -q -b html docs docs/_build/html
	@echo "docs: open docs/_build/html/index.html"

# The built site rendered in headless Chromium: no raw TeX, broken images, tracebacks,
# warnings or machine paths in outputs, nothing fetched from the network.
docs-check: docs $(CHROMIUM)
	$(BIN)/python docs/check_site.py docs/_build/html --chromium $(CHROMIUM)

$(CHROMIUM):
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium

# Every Hypothesis property over the whole catalogue with 500 examples each (~15 min).
thorough: $(STAMP_TEST)
	$(BIN)/python -m pytest -n 2 --hypothesis-profile=thorough --hypothesis-show-statistics \
		-k "harness or reference or any_input or hypothesis" \
		tests/test_catalogue.py tests/test_robustness.py tests/test_seed.py

clean:
	rm -rf $(VENV) $(LEGACY) outputs .hypothesis .pytest_cache docs/_build docs/generated docs/jupyter_execute
