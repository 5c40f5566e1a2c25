# Two entry points for a fresh machine: `make demo` and `make test`. Both are idempotent.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.tacit-installed
MODEL ?= qwen2.5-coder-0.5b

.PHONY: demo test unit e2e model bench lint clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "==> installing Tacit and its dependencies into $(VENV) (llama-cpp-python builds from source the first time: ~7 min on 2 cores)"
	$(PY) -m pip install -q --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --disable-pip-version-check --progress-bar on -e '.[dev]'
	@touch $@

model: $(STAMP)
	$(VENV)/bin/tacit model fetch $(MODEL)

demo: model
	$(VENV)/bin/tacit demo

unit: $(STAMP)
	$(PY) -m pytest -q tests/unit

e2e: model
	$(PY) -m pytest -q -m slow tests/e2e

test: model
	$(PY) -m pytest -q -ra tests/unit tests/e2e

bench: model
	$(PY) bench/latency.py

lint: $(STAMP)
	$(VENV)/bin/ruff check lsp_server context tuning bench tests

clean:
	rm -rf $(VENV)
