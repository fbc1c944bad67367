# The README's two commands: `make up` (run the platform) and `make test` (run every test).
# Each installs what is missing on a fresh Debian machine and starts the services it needs.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PG_URL := postgresql+asyncpg://workflow:workflow@127.0.0.1:5432/workflow_test

.PHONY: up test test-sqlite test-postgres test-swarm test-disruptive services test-services venv lint migration bench clean

up: services venv
	$(VENV)/bin/workflow db upgrade
	exec $(VENV)/bin/workflow serve

test: test-services venv
	bash scripts/build-test-images.sh
	$(MAKE) test-sqlite
	$(MAKE) test-postgres
	$(MAKE) test-swarm
	$(MAKE) test-disruptive

# The whole suite on SQLite (the embedded default), except what restarts the Docker engine or needs a swarm.
test-sqlite:
	$(VENV)/bin/pytest -q -p no:cacheprovider -m "not disruptive and not swarm"

# Tests on a Docker Swarm of three dockerd nodes in network namespaces of their own (scripts/swarm-nodes.sh).
test-swarm:
	$(VENV)/bin/pytest -q -p no:cacheprovider -m swarm tests/swarm tests/scheduler/test_contract.py

# Tests that restart the Docker engine (every container on the machine stops): alone, after the rest.
test-disruptive:
	$(VENV)/bin/pytest -q -p no:cacheprovider -m disruptive

# The persistence tests again on the real PostgreSQL server.
test-postgres:
	WORKFLOW_TEST_DATABASE_URL=$(PG_URL) $(VENV)/bin/pytest -q -p no:cacheprovider -m "not e2e" tests/api tests/test_migrations.py tests/fuzz

services:
	bash scripts/start-services.sh

test-services:
	bash scripts/start-services.sh --test

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

lint: venv
	$(VENV)/bin/ruff check src tests

migration: venv
	$(VENV)/bin/alembic revision --autogenerate -m "$(m)"

bench: test-services venv
	bash scripts/build-test-images.sh
	$(PY) -m bench

clean:
	rm -rf $(VENV) data
