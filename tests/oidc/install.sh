#!/usr/bin/env bash
# Installs panva's oidc-provider (the certified OpenID Provider the SSO tests sign in against)
# from the npm registry into a cache outside the repo, at a pinned version. Idempotent: when
# the pinned version is already there, it does nothing. Prints the package's directory.
set -euo pipefail

OIDC_PROVIDER_VERSION=9.13.3
CACHE="${PARLOR_OIDC_CACHE:-$HOME/.cache/parlor-oidc}"
PACKAGE="$CACHE/node_modules/oidc-provider"

installed() {
    [ -f "$PACKAGE/package.json" ] &&
        node -e 'process.exit(require(process.argv[1]).version === process.argv[2] ? 0 : 1)' \
            "$PACKAGE/package.json" "$OIDC_PROVIDER_VERSION"
}

if ! installed; then
    command -v npm >/dev/null || {
        echo "tests/oidc/install.sh: npm is needed (apt-get install nodejs npm)" >&2
        exit 1
    }
    mkdir -p "$CACHE"
    npm install --prefix "$CACHE" --no-audit --no-fund --no-update-notifier --save-exact \
        --loglevel=error "oidc-provider@$OIDC_PROVIDER_VERSION" >&2
    installed || {
        echo "tests/oidc/install.sh: oidc-provider did not install under $CACHE" >&2
        exit 1
    }
fi
echo "$PACKAGE"
