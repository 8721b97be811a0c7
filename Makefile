# Guabang: the commands an operator and a developer need. Run `make help` for the list.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
BENCH_STAMP := $(VENV)/.installed-bench

.PHONY: help install run test unit integration e2e faults fuzz up down lint clean demo bench

help:
	@echo "make run    start every service (needs RabbitMQ and Redis; see README)"
	@echo "make test   run every test against the local RabbitMQ (its management plugin enabled"
	@echo "            if off) and a Redis server of the run's own"
	@echo "make faults the full fault suite: thousands of requests while services, RabbitMQ"
	@echo "            and Redis are killed (its own broker and Redis); prints the counts"
	@echo "make fuzz   fuzz the HTTP API (every boundary case) and the AMQP ingress"
	@echo "make demo   a five-minute scenario on a fresh machine (Redis db 9)"
	@echo "make bench  throughput and latency of the full path beside a bare nameko baseline,"
	@echo "            as a ratio (3-6 min; Redis db 5; BENCH_ARGS=--help for options)"
	@echo "make install | unit | integration | e2e | up | down | lint | clean"

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

# The bench's extra (matplotlib), on top of what make install installs; its own stamp, so
# make install's stays as it is.
$(BENCH_STAMP): $(STAMP) pyproject.toml
	$(BIN)/pip install --quiet -e '.[test,bench]'
	touch $(BENCH_STAMP)

run: install
	$(BIN)/guabang start

# What the tests need from the machine, before pytest runs: RabbitMQ's management plugin
# enabled (if it is off), redis-server installed; else one line on what to do. Unit tests
# need neither broker nor Redis; the fault suite runs a broker and a Redis of its own.
ENSURE_TEST_INFRA := $(BIN)/python scripts/ensure_test_infra.py

test: install
	$(ENSURE_TEST_INFRA)
	$(BIN)/pytest tests

unit: install
	$(BIN)/pytest tests/unit

integration: install
	$(ENSURE_TEST_INFRA)
	$(BIN)/pytest tests/integration

e2e: install
	$(ENSURE_TEST_INFRA)
	$(BIN)/pytest tests/e2e

# FAULTS_REQUESTS=... to change the size; make test runs a bounded form (300 requests).
FAULTS_REQUESTS ?= 3000
faults: install
	GUABANG_FAULTS_REQUESTS=$(FAULTS_REQUESTS) GUABANG_FAULTS_RESULTS=faults-results.json \
		$(BIN)/pytest tests/faults -s

up:
	docker compose up --build

down:
	docker compose down

fuzz: install
	$(ENSURE_TEST_INFRA)
	GUABANG_FUZZ_THOROUGH=1 GUABANG_FUZZ_EXAMPLES=25 $(BIN)/pytest tests/fuzz

# BENCH_ARGS="--short" for a quick check; results in bench-results/ (see bench/run.py).
BENCH_ARGS ?=
bench: $(BENCH_STAMP)
	$(BIN)/python -m bench.run $(BENCH_ARGS)

lint: install
	$(BIN)/ruff check services tests bench

clean:
	rm -rf $(VENV) .pytest_cache

demo: install
	$(BIN)/python scripts/demo.py
