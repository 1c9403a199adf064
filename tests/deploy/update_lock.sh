#!/usr/bin/env bash
# Rewrites requirements.lock: Parlor's dependencies (pyproject.toml, the source of truth)
# resolved for any Python 3.11+ on Linux (markers where they differ) and pinned exactly, with
# uv's universal resolution (uv is installed into a throw-away environment, never .venv).
# Run it after changing the dependencies; tests/deploy/test_lock.py fails while the lock does
# not satisfy pyproject.toml.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
tools=$(mktemp -d)
trap 'rm -rf "$tools"' EXIT
"${PYTHON:-python3}" -m venv "$tools"
"$tools/bin/pip" install --quiet 'uv>=0.13,<0.14'
cd "$root"
"$tools/bin/uv" pip compile pyproject.toml --universal --python-version 3.11 --native-tls \
    --quiet --custom-compile-command tests/deploy/update_lock.sh -o requirements.lock
echo "requirements.lock: $(grep -c '^[a-z]' requirements.lock) pinned packages"
