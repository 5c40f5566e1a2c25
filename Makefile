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

# llama.cpp is built natively (-march=native), except on a CPU that advertises AMX: ggml's AMX path
# crashes in the first decode on some virtual machines (seen on this project's machines), so there it
# is built for the CPU's AVX/AVX-512 extensions without AMX. A wheel built earlier with AMX (pip caches
# it) is detected and rebuilt.
CPU_FLAGS := $(shell grep -m1 -o -w 'avx2\|fma\|f16c\|bmi2\|avx_vnni\|avx512f\|avx512vbmi\|avx512_vnni\|avx512_bf16\|amx_int8' /proc/cpuinfo 2>/dev/null | sort -u)
GGML_FLAG = $(if $(filter $(1),$(CPU_FLAGS)),-D$(2)=ON)
ifneq ($(filter amx_int8,$(CPU_FLAGS)),)
export CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_AVX=ON $(call GGML_FLAG,avx2,GGML_AVX2) $(call GGML_FLAG,fma,GGML_FMA) \
	$(call GGML_FLAG,f16c,GGML_F16C) $(call GGML_FLAG,bmi2,GGML_BMI2) $(call GGML_FLAG,avx_vnni,GGML_AVX_VNNI) \
	$(call GGML_FLAG,avx512f,GGML_AVX512) $(call GGML_FLAG,avx512vbmi,GGML_AVX512_VBMI) \
	$(call GGML_FLAG,avx512_vnni,GGML_AVX512_VNNI) $(call GGML_FLAG,avx512_bf16,GGML_AVX512_BF16)
endif
LLAMA_CPP := $(shell sed -n 's/.*"\(llama-cpp-python\)\[server\]\(==[0-9.]*\)".*/\1\2/p' pyproject.toml)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "==> installing Tacit and its dependencies into $(VENV) (llama-cpp-python builds from source the first time: ~7 min on 2 cores)"
	$(PY) -m pip install -q --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --disable-pip-version-check --progress-bar on -e '.[dev]'
	@if $(PY) -c 'import llama_cpp, sys; sys.exit("AMX_INT8 = 1" not in llama_cpp.llama_print_system_info().decode())'; then \
	  echo "==> llama-cpp-python was built with AMX (a cached wheel?): rebuilding it without"; \
	  $(PY) -m pip install --disable-pip-version-check --no-cache-dir --force-reinstall --no-deps '$(LLAMA_CPP)'; fi
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
