# Two commands do everything: `make demo` (run it) and `make test` (prove it).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: install browser demo test lint bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@

install: $(BIN)/.installed

# Debian's Chromium for the staff page's browser tests (idempotent)
browser:
	sh scripts/install_browser.sh

demo: install
	$(BIN)/inventory demo

test: install browser
	$(BIN)/python -m pytest -q

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# every benchmark at its documented size, one scoreboard (see README, Benchmarks);
# e.g. make bench BENCH_ARGS="--json bench.json" or BENCH_ARGS="--only api,routing"
bench: install
	$(BIN)/python scripts/bench_all.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) inventory.db inventory.db-wal inventory.db-shm .pytest_cache
