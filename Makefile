# Two commands do everything on a fresh machine with Python 3.11:
#   make run   - set up .venv and run the seed page's root-finding model end to end
#   make test  - set up .venv with the test, jax, nutpie and dask extras, lint, and run the whole
#                test suite
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP_RUN := $(VENV)/.installed-run
STAMP_TEST := $(VENV)/.installed-test

.PHONY: run test thorough lint clean

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "$(PYTHON) not found; set PYTHON=/path/to/python3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP_RUN): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(STAMP_TEST): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test,jax,nutpie,dask]"
	touch $@ $(STAMP_RUN)

run: $(STAMP_RUN)
	$(BIN)/python examples/seed_root_model.py

lint: $(STAMP_TEST)
	$(BIN)/ruff check src tests examples benchmarks
	$(BIN)/ruff format --check src tests examples benchmarks

test: lint
	$(BIN)/python -m pytest -n 2 --durations=15

# Every Hypothesis property over the whole catalogue with 500 examples each (~15 min).
thorough: $(STAMP_TEST)
	$(BIN)/python -m pytest -n 2 --hypothesis-profile=thorough --hypothesis-show-statistics \
		-k "harness or reference or any_input or hypothesis" \
		tests/test_catalogue.py tests/test_robustness.py tests/test_seed.py

clean:
	rm -rf $(VENV) outputs .hypothesis .pytest_cache
