# Two commands from nothing: `make run` (the chat UI on 127.0.0.1:7860) and `make test`.
# Everything is installed into .venv; torch is pinned to the local CPU build.
VENV ?= .venv
BIN := $(VENV)/bin
# What serving needs (torch, pinned to the CPU build, the project and its dependencies),
# then what the tests add (pytest, Playwright, Ray, linters): `make run` installs only the
# first.
STAMP := $(VENV)/.installed-stamp
TEST_STAMP := $(VENV)/.test-installed-stamp
PYTHON ?= python3

.PHONY: setup setup-test run test test-stages test-fast browser-deps ocr-deps lint eval train bench bench-smoke clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e .
	touch $(STAMP)

$(TEST_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(TEST_STAMP)

# qa's bytecode, compiled ahead (only what changed; a fraction of a second): an editable
# install leaves it to the first import, and where PYTHONDONTWRITEBYTECODE is set (as on
# these machines) every `qa ask` compiled 42 modules again, 0.1 s of a fresh question
# (docs/BENCHMARKS.md).
setup: $(STAMP)
	@$(BIN)/python -m compileall -q src/qa app.py >/dev/null

setup-test: $(TEST_STAMP) setup

run: setup
	$(BIN)/python app.py

# Debian's chromium for the browser tests (Playwright's own browser download fails here),
# and a CJK font so Chinese outlets and names render as text, not boxes.
browser-deps:
	@missing=; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	[ -n "$$(fc-list :lang=zh family 2>/dev/null)" ] || missing="$$missing fonts-noto-cjk"; \
	[ -z "$$missing" ] || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; }

# Debian's Tesseract with its English data and the ocr extra, for scanned pages and
# images: `make test` reads test scans. Without them qa runs and skips scans, saying how
# to install them.
ocr-deps: setup
	@$(BIN)/python -c "import pytesseract" 2>/dev/null || $(BIN)/pip install --quiet -e '.[ocr]'
	@command -v tesseract >/dev/null 2>&1 && tesseract --list-langs 2>/dev/null | grep -qx eng || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq tesseract-ocr tesseract-ocr-eng >/dev/null; }

# Each stage is timed (.ci/timed); the summary comes last, or after the stage that failed.
TIMED := QA_TIMES=$(VENV)/.test-times .ci/timed

test: setup-test browser-deps ocr-deps
	@rm -f $(VENV)/.test-times
	@$(MAKE) --no-print-directory test-stages || { QA_TIMES=$(VENV)/.test-times .ci/timed --summary; exit 1; }
	@QA_TIMES=$(VENV)/.test-times .ci/timed --summary

# pytest on both cores (pytest-xdist, a file's tests on one worker: they share its
# fixtures); then the five evaluations, two at a time once the first has made the ONNX
# export they share (index/.qa-onnx), and never two on one index (SQuAD's test and typed
# questions share index/articles, the news and SQuAD-on-news index/corpus). Each
# evaluation's report is printed whole when it ends (--output-sync).
test-stages:
	$(TIMED) ruff $(BIN)/ruff check src tests app.py bench train
	$(TIMED) pytest $(BIN)/pytest -q -n 2 --dist loadfile
	@$(MAKE) --no-print-directory -j2 --output-sync=target eval-test

EVALS := eval-news-test eval-squad-test eval-squad-on-news eval-manuals-test eval-typed-test
.PHONY: eval-test $(EVALS)
eval-test: $(EVALS)
eval-squad-test eval-squad-on-news eval-manuals-test: eval-news-test
eval-typed-test: eval-squad-test

eval-news-test:
	$(TIMED) "eval news test" $(BIN)/qa eval tests/gold/test.jsonl --fail-under hit@1=0.75 \
	  --fail-under sentence_accuracy=0.70 --fail-over false_abstention=0.05 \
	  --fail-under abstention_off_corpus=0.90 --fail-over mean_answer_chars=300
eval-squad-test:
	$(TIMED) "eval squad test" $(BIN)/qa eval data/squad/test.jsonl --corpus data/squad/articles \
	  --fail-under sentence_accuracy=0.69 --fail-over false_abstention=0.04 \
	  --fail-under abstention_off_corpus=0.80 --fail-over mean_answer_chars=300
eval-squad-on-news:
	$(TIMED) "eval squad on news" $(BIN)/qa eval data/squad/cross_test.jsonl \
	  --fail-under abstention_cross=0.99
eval-manuals-test:
	$(TIMED) "eval manuals test" $(BIN)/qa eval data/manuals/test.jsonl --corpus data/manuals/manuals \
	  --fail-under sentence_accuracy=0.45 --fail-over false_abstention=0.05 \
	  --fail-under abstention_off_corpus=0.30
eval-typed-test:
	$(TIMED) "eval typed test" $(BIN)/qa eval data/typed/test.jsonl --corpus data/squad/articles \
	  --fail-under sentence_accuracy=0.65 --fail-over false_abstention=0.04 \
	  --fail-under abstention_off_corpus=0.60

test-fast: setup-test
	$(BIN)/pytest -q -m "not browser"

lint: setup-test
	$(BIN)/ruff check src tests app.py
	$(BIN)/mypy src

# Every domain, on the parts never trained or tuned on: the news, SQuAD, manuals and typed
# test splits, and news and SQuAD questions asked of each other's corpus (certain
# off-corpus questions).
eval: setup
	$(BIN)/qa eval tests/gold/test.jsonl
	$(BIN)/qa eval data/squad/test.jsonl --corpus data/squad/articles
	$(BIN)/qa eval data/manuals/test.jsonl --corpus data/manuals/manuals
	$(BIN)/qa eval data/typed/test.jsonl --corpus data/squad/articles
	$(BIN)/qa eval data/squad/cross_test.jsonl
	$(BIN)/qa eval tests/gold/cross_test.jsonl --corpus data/squad/articles

# Learn the answer model (src/qa/models/answer_model.json) from the training questions of
# the four domains, its thresholds from their dev questions; about 20 minutes on 2 cores
# the first time (extracting features), 2 once they are cached. Never run by `make test`.
train: setup
	$(BIN)/pip install --quiet -e '.[train]'
	$(BIN)/python train/check_splits.py
	$(BIN)/python train/train_answer_model.py 2>&1 | tee train/logs/train.log
	$(BIN)/python train/train_span_model.py 2>&1 | tee train/logs/train_span.log
	$(BIN)/python train/plot_curves.py

bench: setup-test
	$(BIN)/python bench/run.py

# The benchmark on tiny sizes (under a minute on 2 cores), in a temporary folder with its
# own index of corpus/: every section runs and its results hold (bench/smoke.py). The
# benchmark's smoke job, kept out of `make test`.
bench-smoke: setup-test
	@out=$$(mktemp -d); trap 'rm -rf "$$out"' EXIT; \
	$(BIN)/python bench/run.py --quick --output "$$out/results" \
	  --corpus-index "$$out/corpus-index" >/dev/null && \
	$(BIN)/python bench/smoke.py "$$out/results"

clean:
	rm -rf $(VENV) index/corpus index/squad index/train-* train/cache .pytest_cache
