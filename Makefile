# Two commands for a fresh machine: `make lab` and `make test`.
# Both create .venv on first use (and again only when pyproject.toml changes).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-test
BENCH_STAMP := $(VENV)/.installed-bench
LAB_ARGS ?=
PYTEST_ARGS ?= -n 2 --dist loadscope
# Debian's Chromium, driven by the browser tests (tests/browser/).
CHROMIUM ?= /usr/bin/chromium
# Debian's bubblewrap: the grader's sandbox (nncourse/grade/sandbox.py).
BWRAP ?= /usr/bin/bwrap
APT_INSTALL := DEBIAN_FRONTEND=noninteractive apt-get install -y

# Numba's on-disk cache lives in the build folder, so a fresh checkout
# behaves like a used one and nothing is written next to the sources.
# Numba only notices edits to the file a function is in, not to the kernels
# it calls from other files, so the folder is keyed by a hash of all kernel
# sources: any edit starts a fresh cache instead of running stale code.
KERNEL_HASH := $(shell { cat nnlib/kernels/*.py | cksum | cut -d' ' -f1; } 2>/dev/null)
export NUMBA_CACHE_DIR := $(CURDIR)/build/numba-cache/$(KERNEL_HASH)
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: help install lab test bench release clean system-deps

help:
	@echo "make lab     - set up .venv and open JupyterLab on the course (LAB_ARGS=--no-browser for headless)"
	@echo "make test    - set up .venv and run the whole test suite (unit tests, notebooks, exercises)"
	@echo "make bench   - run the benchmarks (installs the CPU build of PyTorch as the peer)"
	@echo "make release - regenerate exercises/ from solutions/"
	@echo "make system-deps - install Debian's chromium (browser tests) and bubblewrap (grader sandbox) as root; no-op when present"

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,gpu]'
	@touch $@

install: $(STAMP)

lab: $(STAMP)
	$(BIN)/python -m nncourse.lab --root-dir "$(CURDIR)" $(LAB_ARGS)

test: system-deps $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The browser tests drive Debian's Chromium (never a downloaded one). Install it
# when missing (root on these machines; apt-get update only when apt does not
# know the package yet). A no-op when /usr/bin/chromium exists, with or without apt.
system-deps:
	@test -x $(CHROMIUM) || { \
	  command -v apt-get >/dev/null 2>&1 || { echo "make: $(CHROMIUM) is missing and apt-get is unavailable: install Chromium at $(CHROMIUM)" >&2; exit 1; }; \
	  test "$$(id -u)" = 0 || { echo "make: $(CHROMIUM) is missing: run 'sudo apt-get install -y chromium' (or make test as root)" >&2; exit 1; }; \
	  { apt-cache show chromium >/dev/null 2>&1 && $(APT_INSTALL) chromium; } || \
	  { apt-get update && $(APT_INSTALL) chromium; }; }
	@# nnlib-grade's sandbox (one bwrap per kernel). Only as root: elsewhere the grader says it runs unsandboxed.
	@test -x $(BWRAP) || test "$$(id -u)" != 0 || ! command -v apt-get >/dev/null 2>&1 || \
	  { apt-cache show bubblewrap >/dev/null 2>&1 && $(APT_INSTALL) bubblewrap; } || \
	  { apt-get update && $(APT_INSTALL) bubblewrap; }

$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,gpu,bench]'
	@touch $@

bench: $(BENCH_STAMP)
	$(BIN)/python -m benchmarks
	$(BIN)/python -m benchmarks.gpu  # prints SKIPPED and measures nothing without an NVIDIA GPU

release: $(STAMP)
	$(BIN)/python -m nncourse.release release

clean:
	rm -rf build .pytest_cache test-artifacts
