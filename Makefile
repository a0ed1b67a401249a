# Two commands on a fresh machine: `make run` and `make test`. Both set up what they need.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DATA   ?= ../shared/data

.PHONY: install run test test-compose lint format bench bench-extract bench-dedup bench-faults bench-sites clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## The worker on an embedded broker (or on KAFKA_BOOTSTRAP_SERVERS when set).
run: install
	$(BIN)/ingest-worker run

## The whole test suite: lint, unit and integration tests (starts a broker and Redis if needed).
test: install
	bash deploy/install-test-tools.sh
	$(BIN)/ruff check .
	$(BIN)/pytest -q -ra
	bash tests/compose/run.sh

## The docker-compose stack built and run for real (installs Docker when missing; skips where
## Docker cannot run). See tests/compose/run.sh.
test-compose: install
	bash tests/compose/run.sh

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/hadolint deploy/Dockerfile

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## End to end on a real broker, against the glue-code baseline (>= 5,000 pages of DATA).
bench: install
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	$(BIN)/python -m bench.e2e --data $(DATA) --min-pages 5000 --processes 1,2 --rounds 2

## Faults: repeated SIGKILLs, broker restart, Redis outage, rebalances, hostile input, fuzzing.
bench-faults: install
	$(BIN)/python -m bench.faults_bench

## Extraction quality and speed on AEB + WCXB (DATA holds aeb/ and wcxb/).
bench-extract: install
	$(BIN)/python -m bench.extract_bench --data $(DATA) $(if $(EXTRACTOR),--extractor $(EXTRACTOR))

## Near-duplicate detection on a syndication stream (STREAM=<jsonl>).
bench-dedup: install
	$(BIN)/python -m bench.dedup_bench --stream $(STREAM)

## Site templates: streaming word F1 on 6- and 30-page-per-site streams built from DATA/wcxb.
bench-sites: install
	$(BIN)/python -m bench.sites_bench --wcxb $(DATA)/wcxb --pages 6 30 \
		--work .run/sites --cache .run/sites

clean:
	rm -rf $(VENV) .run .pytest_cache .ruff_cache *.egg-info
