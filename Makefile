# The two commands of the README:
#   make demo   set everything up, load the demo factory, serve GraphiQL at http://127.0.0.1:8000/graphql
#   make test   set everything up, then lint, type-check and run every test (SQLite and PostgreSQL)
# uv is installed from PyPI when missing; it builds .venv from uv.lock with the machine's Python.

SHELL := /bin/bash
export UV_PYTHON_DOWNLOADS := never
UV = $$(command -v uv || echo python3 -m uv)

.PHONY: setup demo serve test lint schema bench chromium

setup:
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 \
	  || python3 -m pip install --quiet uv \
	  || python3 -m pip install --quiet --user --break-system-packages uv
	@$(UV) sync --locked --quiet

demo: setup
	$(UV) run mes demo
	$(UV) run mes serve

serve: setup
	$(UV) run mes serve

lint: setup
	$(UV) run ruff check .
	$(UV) run ruff format --check .
	$(UV) run mypy --strict domain
	$(UV) run mypy adapters graphql_api migrations tests bench

# the browser test's Chromium (Debian's package): installed when missing, as root with apt-get;
# otherwise the test says what is missing (it fails under CI=true, skips outside)
chromium:
	@command -v chromium >/dev/null 2>&1 || [ "$$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1 \
	  || { echo "installing chromium for the browser test (apt-get, log in /tmp/mes-chromium-apt.log)"; \
	       { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } \
	         >/tmp/mes-chromium-apt.log 2>&1 \
	       || echo "could not install chromium (see /tmp/mes-chromium-apt.log)"; }

test: lint chromium
	$(UV) run pytest

schema: setup
	$(UV) run mes export-schema
