# Two entry points for a fresh machine: `make demo` and `make test`. Both are idempotent.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.tacit-installed
MODEL ?= qwen2.5-coder-0.5b

.PHONY: demo test unit e2e reliability model bench lint clean editors editor-unit

# Each editor client adds its own install stamps to `editors` and its own unit-test runs to
# `editor-unit` in its .mk file, so `make test` installs and tests everything from this repository.
editors:
editor-unit:
include editor-clients/neovim/neovim.mk
include editor-clients/vscode/vscode.mk

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "==> installing Tacit and its dependencies into $(VENV) (llama-cpp-python builds from source the first time: ~7 min on 2 cores)"
	$(PY) -m pip install -q --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --disable-pip-version-check --progress-bar on -e '.[dev]'
	@touch $@

# System tools the tests use (Debian packages): strace, for the privacy test's record of every syscall.
SYSDEPS := $(VENV)/.tacit-sysdeps
$(SYSDEPS): | $(STAMP)
	@command -v strace >/dev/null || { apt-get update -qq && apt-get install -y -qq strace; }
	@touch $@

model: $(STAMP)
	$(VENV)/bin/tacit model fetch $(MODEL)

demo: model
	$(VENV)/bin/tacit demo

unit: $(STAMP)
	$(PY) -m pytest -q tests/unit

# Each e2e module runs in its own process: pygls' client keeps per-process state that does not
# survive many event loops, and a fresh process per module also bounds what one hang can cost.
E2E := $(sort $(wildcard tests/e2e/test_*.py))
RELIABILITY := $(sort $(wildcard tests/reliability/test_*.py))

e2e: model
	@set -e; for f in $(E2E); do echo "==> $$f"; $(PY) -m pytest -q -ra -o timeout=300 $$f; done

reliability: model $(SYSDEPS)
	@set -e; for f in $(RELIABILITY); do echo "==> $$f"; $(PY) -m pytest -q -ra -o timeout=900 $$f; done

test: model editors $(SYSDEPS)
	$(PY) -m pytest -q -ra tests/unit
	@$(MAKE) --no-print-directory editor-unit
	@$(MAKE) --no-print-directory e2e
	@$(MAKE) --no-print-directory reliability

bench: model
	$(PY) bench/latency.py

lint: $(STAMP)
	$(VENV)/bin/ruff check lsp_server context tuning bench tests

clean:
	rm -rf $(VENV)
