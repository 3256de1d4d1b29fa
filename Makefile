# Two commands a fresh machine needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
STAMP := $(VENV)/.installed
# The evaluator's hot path is compiled with mypyc (see setup.py); rebuilt when domain code changes.
COMPILED := $(VENV)/.compiled

.PHONY: run test check lint types install clean bench

$(STAMP): pyproject.toml setup.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# Installed as plain Python first; the next rule compiles the hot path in place.
	COACH_PURE_PYTHON=1 $(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

$(COMPILED): $(STAMP) $(wildcard coach/domain/*.py)
	$(BIN)/python -W ignore setup.py --quiet build_ext --inplace --force || { \
	  rm -f coach/domain/*.so; \
	  echo "*** mypyc could not compile the evaluator (no C compiler or Python headers?):"; \
	  echo "*** Coach runs as plain Python, about 1.5x slower at evaluating."; }
	touch $(COMPILED)

install: $(COMPILED)

run: $(COMPILED)
	$(BIN)/coach serve --host 127.0.0.1 --port $(PORT)

test: $(COMPILED)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check coach tests bench
	$(BIN)/ruff format --check coach tests bench

types: $(STAMP)
	$(BIN)/mypy coach bench

check: lint types test

bench: $(COMPILED)
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build coach/domain/*.so
