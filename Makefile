# llm-soc2: `make demo` and `make test` do all their own setup on a fresh Debian machine with Python 3.11.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: help venv demo test unit lint typecheck system-deps bench clean

help:
	@echo "make demo    set up, then run the demo on embedded defaults (no servers)"
	@echo "make test    set up (incl. Debian packages for the real test servers), lint, type-check, run every test"
	@echo "make bench   run the benchmarks and print their figures"

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade "pip>=24"
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/llm-soc2 demo --out llm-soc2-demo

system-deps:
	@bash tests/setup/system-deps.sh

lint: $(STAMP)
	$(BIN)/ruff check src tests bench examples
	$(BIN)/ruff format --check src tests bench examples

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest tests/unit $(PYTEST_ARGS)

test: $(STAMP) system-deps lint typecheck
	$(BIN)/pytest $(PYTEST_ARGS)

bench: $(STAMP)
	@bash bench/run.sh

clean:
	rm -rf $(VENV) llm-soc2-demo .llm-soc2 .pytest_cache .mypy_cache .ruff_cache build dist
