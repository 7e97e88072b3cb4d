# The README's commands. Each bootstraps .venv itself, so a fresh clone needs nothing else.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
STAMP := $(VENV)/.installed
NODE_STAMP := tests/js/node_modules/.installed

.PHONY: run test check bench clean

$(STAMP): pyproject.toml
	@# WeasyPrint (printed programme, flyers) needs Pango and a font from the system.
	@if ! ldconfig -p | grep -q libpangoft2-1.0 || ! fc-list 2>/dev/null | grep -qi dejavu; then \
		if command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
			apt-get update -qq && apt-get install -y -qq --no-install-recommends \
				libpango-1.0-0 libpangoft2-1.0-0 fontconfig fonts-dejavu-core; \
		elif command -v apt-get >/dev/null && sudo -n true 2>/dev/null; then \
			sudo apt-get update -qq && sudo apt-get install -y -qq --no-install-recommends \
				libpango-1.0-0 libpangoft2-1.0-0 fontconfig fonts-dejavu-core; \
		else \
			echo "Printing needs Pango and a font: apt-get install libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core"; \
		fi; \
	fi
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

run: $(STAMP)  ## migrate, load the demo events into an empty database, serve on HOST:PORT
	$(BIN)/calendar-service migrate
	$(BIN)/calendar-service demo --if-empty
	$(BIN)/calendar-service serve --host $(HOST) --port $(PORT)

$(NODE_STAMP): tests/js/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		cd tests/js && npm ci --no-fund --no-audit --silent && touch node_modules/.installed; \
	else \
		echo "npm not found: the ical.js tests will be skipped (they fail in CI)"; \
	fi

test: $(STAMP) $(NODE_STAMP)  ## the whole suite (PostgreSQL, nginx and ical.js tests skip without them, fail in CI)
	$(BIN)/python -m pytest

check: $(STAMP)  ## lint and type-check
	$(BIN)/ruff check calendar_service tests benchmarks
	$(BIN)/ruff format --check calendar_service tests benchmarks
	$(BIN)/mypy

bench: $(STAMP)  ## API, editor list and agenda (1,000 vs 100,000 events), feed and newsletter (need wrk), topology (wrk, nginx)
	$(BIN)/python benchmarks/bench_api.py
	$(BIN)/python benchmarks/bench_feeds.py --databases sqlite,postgresql
	$(BIN)/python benchmarks/bench_newsletter.py --databases sqlite,postgresql
	$(BIN)/python benchmarks/bench_editor.py
	$(BIN)/python benchmarks/bench_agenda.py
	$(BIN)/python benchmarks/bench_topology.py

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .mypy_cache .ruff_cache
