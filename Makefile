# Two commands from nothing: `make run` (the chat UI on 127.0.0.1:7860) and `make test`.
# Everything is installed into .venv; torch is pinned to the local CPU build.
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PYTHON ?= python3

.PHONY: setup run test test-fast browser-deps lint eval bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

run: setup
	$(BIN)/python app.py

# Debian's chromium for the browser tests (Playwright's own browser download fails here).
browser-deps:
	@command -v chromium >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

test: setup browser-deps
	$(BIN)/ruff check src tests app.py bench
	$(BIN)/pytest -q
	$(BIN)/qa eval tests/gold/test.jsonl --fail-under hit@1=0.85 --fail-under answer_accuracy=0.70 --fail-over false_abstention=0.10

test-fast: setup
	$(BIN)/pytest -q -m "not browser"

lint: setup
	$(BIN)/ruff check src tests app.py
	$(BIN)/mypy src

eval: setup
	$(BIN)/qa eval tests/gold/dev.jsonl --mode all

bench: setup
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) index/corpus .pytest_cache
