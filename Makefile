# Quotaflow. The two commands a newcomer needs: `make demo` (the main job) and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements.txt pyproject.toml */pyproject.toml 2>/dev/null | sha256sum | cut -c1-12)
SERVICE_PACKAGES := -e . -e ./ingestion-service -e ./allocation-service -e ./negotiation-service -e ./alerts-service
DATA_DIR ?= $(abspath ../shared/data)
export DATA_DIR

.PHONY: help install system-deps demo run test test-e2e test-fast up down lint bench docs schema-lock clean

help:
	@echo "make demo   - run a whole target cycle on the real data, end to end (embedded mode)"
	@echo "make test   - install everything, start PostgreSQL and Kafka, run every test, stop them"
	@echo "make run    - serve all services in one process on http://127.0.0.1:8000 (docs at /docs)"
	@echo "make up / make down - the distributed stack: Kafka, PostgreSQL, one process per service"
	@echo "make lint | make bench | make docs"

$(STAMP): requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	$(PY) -m pip install -q --no-deps $(SERVICE_PACKAGES)
	@rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP) system-deps

# Fonts for Chinese PDFs and pictures, poppler for checking PDFs (Debian packages; needs root or sudo).
system-deps:
	@bash deploy/system-deps.sh

demo: install
	$(PY) -m services.demo

run: install
	$(PY) -m services run --target all --mode embedded

test: install
	@bash deploy/kafka/kafka.sh fetch
	@bash tests/run_all.sh

test-e2e: install
	@bash deploy/kafka/kafka.sh fetch
	@QUOTAFLOW_E2E=only bash tests/run_all.sh

test-fast: install
	$(PY) -m pytest -q -m "not e2e" ingestion-service/tests allocation-service/tests negotiation-service/tests alerts-service/tests

up: install
	@bash deploy/kafka/kafka.sh fetch
	@bash deploy/up.sh

down:
	@bash deploy/down.sh

lint: install
	$(VENV)/bin/ruff check .

bench: install
	@bash deploy/kafka/kafka.sh fetch
	@bash bench/run_all.sh

docs: install
	$(PY) -m services asyncapi > docs/asyncapi.yaml
	$(PY) -m services openapi --out docs/openapi

schema-lock: install
	$(PY) -c "import json; from shared.events.compat import snapshot; open('shared/events/schemas.lock.json','w').write(json.dumps(snapshot(), ensure_ascii=False, indent=1, sort_keys=True)+'\n')"

clean:
	rm -rf .run out
