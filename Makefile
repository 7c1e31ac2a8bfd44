# Two commands for a fresh machine: `make lab` and `make test`.
# Both create .venv on first use (and again only when pyproject.toml changes).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-test
BENCH_STAMP := $(VENV)/.installed-bench
LAB_ARGS ?=
PYTEST_ARGS ?=

# Numba's on-disk cache lives in the build folder, so a fresh checkout
# behaves like a used one and nothing is written next to the sources.
export NUMBA_CACHE_DIR := $(CURDIR)/build/numba-cache
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: help install lab test bench release clean

help:
	@echo "make lab     - set up .venv and open JupyterLab on the course (LAB_ARGS=--no-browser for headless)"
	@echo "make test    - set up .venv and run the whole test suite (unit tests, notebooks, exercises)"
	@echo "make bench   - run the benchmarks (installs the CPU build of PyTorch as the peer)"
	@echo "make release - regenerate exercises/ from solutions/"

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,gpu]'
	@touch $@

install: $(STAMP)

lab: $(STAMP)
	$(BIN)/jupyter lab --ServerApp.root_dir="$(CURDIR)" --LabApp.default_url=/lab/tree/notebooks/README.md $(LAB_ARGS)

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,gpu,bench]'
	@touch $@

bench: $(BENCH_STAMP)
	$(BIN)/python -m benchmarks

release: $(STAMP)
	$(BIN)/python -m nnlib.course release

clean:
	rm -rf build .pytest_cache test-artifacts
