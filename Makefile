# Parlor — `make run` to start it, `make test` to test it. Both install what they need.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
FLASK := $(VENV)/bin/flask --app run
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
CHROMIUM ?= /usr/bin/chromium

.PHONY: run dev serve test bench lint install install-test chromium wrk clean

$(PY):
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "Parlor needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(PY)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(PIP) install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test chromium wrk

# Browser tests use Debian's Chromium (Playwright's own browser download needs the internet).
chromium:
	@test -x $(CHROMIUM) || { $(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium >/dev/null; }

# A local deployment on HOST:PORT (default 127.0.0.1:5000): migrate, first admin, serve.
run: install
	$(FLASK) db upgrade
	$(FLASK) bootstrap
	$(PY) run.py

# Development server with the debugger and reloader.
dev: install
	$(FLASK) db upgrade
	$(FLASK) bootstrap
	$(FLASK) run --debug --host $${HOST:-127.0.0.1} --port $${PORT:-5000}

# Production server (gunicorn, settings in gunicorn.conf.py; WEB_CONCURRENCY sets the workers).
serve: install
	$(FLASK) db upgrade
	$(FLASK) bootstrap
	$(VENV)/bin/gunicorn -c gunicorn.conf.py --bind $${HOST:-127.0.0.1}:$${PORT:-5000} run:app

test: install-test
	$(PY) -m pytest

# Gateway overhead, throughput, 100/1,000 concurrent streams, memory and page speed.
bench: install-test wrk
	$(PY) -m bench

wrk:
	@command -v wrk >/dev/null || { $(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq wrk >/dev/null; }

lint: install-test
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(VENV) .pytest_cache
