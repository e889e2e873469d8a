# The two commands of the README:  `make run`  (the app with demo data)  and  `make test`  (the suite).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
NPM ?= npm

.PHONY: setup run test test-postgres translations vendor browser bench clean

$(BIN)/expo: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,prod]'
	touch $(BIN)/expo

setup: $(BIN)/expo translations vendor

# Front-end packages from package-lock.json (no install scripts), then the served files into static/vendor/.
node_modules/.package-lock.json: package.json package-lock.json
	$(NPM) ci --ignore-scripts --no-audit --no-fund
	touch $@

static/vendor/.synced: node_modules/.package-lock.json scripts/sync_vendor.py
	$(PYTHON) scripts/sync_vendor.py
	touch $@

vendor: static/vendor/.synced

translations: $(BIN)/expo
	$(BIN)/pybabel compile --use-fuzzy -d expo/translations -D messages

run: setup
	$(BIN)/expo run --host $(HOST) --port $(PORT)

browser:
	bash scripts/install-browser

# The suite in two processes (pytest-xdist, a file per worker at a time, a database and a broker each), then
# the tests marked serial alone (they restart the PostgreSQL server); "no tests collected" (5) is not a failure.
TEST_WORKERS ?= 2
test: setup browser
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile -m "not serial" $(PYTEST_ARGS)
	$(BIN)/pytest -m serial $(PYTEST_ARGS) || [ $$? -eq 5 ]

# Refresh the message catalogue after changing user-facing strings (then translate the new entries).
extract: $(BIN)/expo
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o expo/translations/messages.pot --no-location --sort-output .
	$(BIN)/pybabel update -i expo/translations/messages.pot -d expo/translations -D messages --no-fuzzy-matching --ignore-obsolete

# The benchmarks (bench/README.md); each prints a table for docs/benchmarks.md. wrk drives the HTTP load.
bench: setup
	bash scripts/install-bench-tools
	$(BIN)/python bench/scan_api.py
	$(BIN)/python bench/registrations.py --seconds 15 --workers 2
	$(BIN)/python bench/imports.py
	$(BIN)/python bench/badges.py
	$(BIN)/python bench/matchmaking.py
	$(BIN)/python bench/postshow.py --connections 4

clean:
	rm -rf $(VENV) instance node_modules static/vendor
