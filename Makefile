# One command to run the app, one to run the tests. Both set up .venv themselves.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test test-server lint setup worker web migrate clean shell

# A laptop: Django's debug pages and its dev-only secret. A server runs with DEBUG off and its
# own SECRET_KEY (docs/operations.md, "Production shape"); the tests set their own.
run worker migrate lint shell: export DEBUG ?= 1

$(BIN)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $@

setup: $(BIN)/.installed

migrate: setup
	$(PY) manage.py migrate --noinput

# The web server (uvicorn, ASGI) and a Celery worker (with its embedded beat for the periodic sweep)
# together; Ctrl-C stops both. Each is asked to stop (SIGTERM) and waited for, and the recipe ends
# with success: no SIGTERM to make itself or to Celery's pool processes, which the worker stops.
# uvicorn speaks ASGI's lifespan protocol with the app: its shutdown marks the web process stopped.
run: migrate
	$(PY) manage.py ensure_demo_user
	@echo "Starting the Celery worker and the web server on http://$(HOST):$(PORT)/ (Ctrl-C stops both)"
	@trap 'kill -TERM $$celery $$web 2>/dev/null; wait; exit 0' INT TERM; \
	$(BIN)/celery -A agentapp worker -B --loglevel=INFO --concurrency=2 & celery=$$!; \
	$(BIN)/uvicorn agentapp.asgi:application --host $(HOST) --port $(PORT) --log-level info --lifespan on & web=$$!; \
	wait

worker: setup
	$(BIN)/celery -A agentapp worker --loglevel=INFO

lint: setup
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy

test: lint
	$(BIN)/pytest $(PYTEST_ARGS)

# The tests of the external-server path (migrate, chat turns, memory search, the pgvector check)
# against the PostgreSQL that DATABASE_URL names; CI runs them on the machine's PostgreSQL 15.
test-server: setup
	@test -n "$$DATABASE_URL" || { echo "test-server: set DATABASE_URL=postgres://..." >&2; exit 2; }
	$(BIN)/pytest $(PYTEST_ARGS) -m server_paths

clean:
	rm -rf $(VENV) var .pytest_cache

shell: migrate
	$(PY) manage.py shell
