# The two commands of the README:
#   make demo   set everything up, load the demo factory, serve GraphiQL at http://127.0.0.1:8000/graphql
#   make test   set everything up, then lint, type-check and run every test (SQLite and PostgreSQL)
#   make bench  the benchmark's smoke mode (tiny sizes, seconds) on PostgreSQL (BENCH_DATABASE_URL)
# uv is installed from PyPI when missing; it builds .venv from uv.lock with the machine's Python.

SHELL := /bin/bash
export UV_PYTHON_DOWNLOADS := never
# how to run uv, found when a recipe runs (after `setup` may have installed it): `uv` on the
# PATH, else the module pip installed
UV = $(shell command -v uv >/dev/null 2>&1 && echo uv || echo python3 -m uv)
# the benchmark's database: dropped and created again by each `make bench`
BENCH_DATABASE_URL ?= postgresql+asyncpg://postgres@127.0.0.1:5432/mes_bench_smoke

.PHONY: setup demo serve test lint schema bench chromium amqp

setup:
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 \
	  || python3 -m pip install --quiet uv \
	  || python3 -m pip install --quiet --user --break-system-packages uv
	@$$(command -v uv || echo python3 -m uv) sync --locked --quiet

demo: setup
	$(UV) run mes demo
	$(UV) run mes serve

serve: setup
	$(UV) run mes serve

lint: setup
	$(UV) run ruff check .
	$(UV) run ruff format --check .
	$(UV) run mypy --strict domain graphql_api adapters
	$(UV) run mypy migrations tests bench scripts

# the browser test's Chromium (Debian's package): installed when missing, as root with apt-get;
# otherwise the test says what is missing (it fails under CI=true, skips outside)
chromium:
	@command -v chromium >/dev/null 2>&1 || [ "$$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1 \
	  || { echo "installing chromium for the browser test (apt-get, log in /tmp/mes-chromium-apt.log)"; \
	       { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } \
	         >/tmp/mes-chromium-apt.log 2>&1 \
	       || echo "could not install chromium (see /tmp/mes-chromium-apt.log)"; }

# the AMQP 1.0 tests' broker: RabbitMQ on this machine, started when it is not running and its
# AMQP 1.0 plugin enabled (as root; idempotent), then waited for (an AMQP 1.0 connection, up to
# 30 s); otherwise the tests say what is missing (they fail under CI=true, skip outside)
amqp: setup
	@if ! command -v rabbitmq-plugins >/dev/null 2>&1; then \
	  echo "rabbitmq-plugins not found: the AMQP tests need RabbitMQ with rabbitmq_amqp1_0"; \
	else \
	  if [ "$$(id -u)" = 0 ]; then \
	    rabbitmqctl -q status >/dev/null 2>&1 || rabbitmq-server -detached >/dev/null 2>&1 || true; \
	    rabbitmq-plugins --quiet enable rabbitmq_amqp1_0 >/tmp/mes-rabbitmq-plugins.log 2>&1 \
	      || echo "could not enable rabbitmq_amqp1_0 (see /tmp/mes-rabbitmq-plugins.log)"; \
	  fi; \
	  $(UV) run python -m tests.amqp.broker --wait 30 || true; \
	fi

test: lint chromium amqp
	$(UV) run pytest

schema: setup
	$(UV) run mes export-schema

# the full runs (10k and 1M units, the fault run) are in the README's Benchmark section
bench: setup
	$(UV) run python -m bench --smoke --recreate --database-url $(BENCH_DATABASE_URL)
