#!/bin/sh
# make browser: the web UI's browser tests (run.mjs) against BIN (default build/bulkrepo).
# Installs what is missing: Debian's chromium (apt, as root or through sudo) and
# playwright-core (npm ci from package-lock.json). playwright-core never downloads
# a browser of its own here: it drives /usr/bin/chromium.
set -eu
BIN=$(realpath "${1:-build/bulkrepo}")
DIR=$(dirname "$0")
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"
    elif command -v sudo >/dev/null 2>&1; then sudo "$@"
    else echo "browser tests: run as root or install $*" >&2; exit 1
    fi
}
if [ ! -x "$CHROMIUM" ]; then
    echo "browser tests: installing Debian's chromium"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "browser tests: installing Node.js and npm"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
fi
if [ ! -d "$DIR/node_modules/playwright-core" ]; then
    (cd "$DIR" && npm ci --no-audit --no-fund --loglevel=error)
fi
BULKREPO_BIN="$BIN" CHROMIUM="$CHROMIUM" exec node "$DIR/run.mjs"
