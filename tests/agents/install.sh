#!/usr/bin/env bash
# Installs the coding agents the `agents` tests drive (Claude Code and Codex CLI) from the npm
# registry into a cache outside the repo, at pinned versions. Idempotent: when both binaries
# already answer --version with the pinned version, it does nothing.
#
# Both packages carry their native binary in a platform package that npm itself installs
# (@anthropic-ai/claude-code-linux-x64, @openai/codex-linux-x64): nothing is downloaded from
# anywhere but the registry. Prints the cache's bin directory on success.
set -euo pipefail

CLAUDE_CODE_VERSION=2.1.332
CODEX_VERSION=0.171.0
CACHE="${PARLOR_AGENTS_CACHE:-$HOME/.cache/parlor-agents}"
BIN="$CACHE/node_modules/.bin"

installed() {
    [ -x "$BIN/claude" ] && [ -x "$BIN/codex" ] &&
        "$BIN/claude" --version 2>/dev/null | grep -qx "$CLAUDE_CODE_VERSION (Claude Code)" &&
        "$BIN/codex" --version 2>/dev/null | grep -qx "codex-cli $CODEX_VERSION"
}

if ! installed; then
    command -v npm >/dev/null || {
        echo "tests/agents/install.sh: npm is needed (apt-get install nodejs npm)" >&2
        exit 1
    }
    mkdir -p "$CACHE"
    # Claude Code's postinstall only links the platform binary over bin/claude.exe; npm runs it.
    npm install --prefix "$CACHE" --no-audit --no-fund --no-update-notifier --save-exact \
        --loglevel=error \
        "@anthropic-ai/claude-code@$CLAUDE_CODE_VERSION" "@openai/codex@$CODEX_VERSION" >&2
    installed || {
        echo "tests/agents/install.sh: the agents did not install under $CACHE" >&2
        exit 1
    }
fi
echo "$BIN"
