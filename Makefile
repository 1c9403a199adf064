# Parlor — `make run` to start it, `make test` to test it. Both install what they need.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
FLASK := $(VENV)/bin/flask --app run
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
CHROMIUM ?= /usr/bin/chromium

.PHONY: run dev serve test test-agents test-deploy bench bench-compare lint audit install install-test chromium wrk node clean

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

install-test: $(VENV)/.installed-test chromium wrk node

# Browser tests use Debian's Chromium (Playwright's own browser download needs the internet).
chromium:
	@test -x $(CHROMIUM) || { $(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium >/dev/null; }

# The single sign-on tests run panva's oidc-provider (tests/oidc/install.sh puts it, pinned,
# into ~/.cache/parlor-oidc from the npm registry on first use): Node.js and npm from Debian.
node:
	@command -v npm >/dev/null || { $(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq nodejs npm >/dev/null; }

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
	$(VENV)/bin/gunicorn -c gunicorn.conf.py --bind $${HOST:-127.0.0.1}:$${PORT:-5000}

test: install-test
	$(PY) -m pytest

# Real Claude Code and Codex CLI through Parlor against the fake vendor. The agents are
# installed from the npm registry into PARLOR_AGENTS_CACHE (default ~/.cache/parlor-agents).
test-agents: install-test
	bash tests/agents/install.sh >/dev/null
	$(PY) -m pytest -m agents tests/agents

# The container image (Dockerfile) and compose stack (compose.yaml) built and run with podman:
# Debian's podman, podman-compose and debootstrap are installed when missing; the base images
# made from Debian's packages stay in podman's storage, so a warm run takes a few minutes.
test-deploy: install-test
	@command -v podman >/dev/null && command -v podman-compose >/dev/null && \
		command -v debootstrap >/dev/null && command -v runc >/dev/null || \
		{ $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install \
			-y -qq podman podman-compose debootstrap runc >/dev/null; }
	$(PY) -m pytest -m deploy tests/deploy

# Gateway overhead, throughput, 100/1,000 concurrent streams, memory and page speed.
# Workers as `make serve` (one per core); BENCH_ARGS="--workers 1" for one.
bench: install-test wrk
	$(PY) -m bench $(BENCH_ARGS)

# The same measures side by side with LiteLLM (same fake upstream, same worker count), in one run.
# LiteLLM is installed once into .bench/litellm-venv, never into $(VENV).
# BENCH_ARGS="--workers 1" compares one worker process each.
bench-compare: install-test wrk
	$(PY) -m bench.compare $(BENCH_ARGS)

wrk:
	@command -v wrk >/dev/null || { $(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq wrk >/dev/null; }

lint: install-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/bandit -q -r app -c pyproject.toml

# Known-vulnerable dependencies. pip-audit needs PyPI's vulnerability data (the internet): when
# it cannot get it, this says so and does not fail the build. Not part of `make test`.
audit: install-test
	@out=$$($(VENV)/bin/pip-audit --skip-editable --progress-spinner off --timeout 15 2>&1); \
	status=$$?; echo "$$out"; \
	if echo "$$out" | grep -q "Found [0-9]* known vulnerabilit"; then exit 1; fi; \
	if [ $$status -ne 0 ] || echo "$$out" | grep -q "could not be audited"; then \
		echo "make audit: pip-audit could not reach its vulnerability service for every" \
			"package (no internet?): the audit is INCOMPLETE, not failing the build."; \
		exit 0; fi

clean:
	rm -rf $(VENV) .pytest_cache
