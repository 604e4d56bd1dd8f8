#!/usr/bin/env bash
# Installs everything SilkTrace needs on a fresh machine, from the package registries only:
# the pinned Node toolchain (Anvil, Forge, solc, OpenZeppelin), a Python venv with the project,
# and with --browser Debian's Chromium for the browser tests. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

browser=0
for arg in "$@"; do
  case "$arg" in
    --browser) browser=1 ;;
    *) echo "usage: scripts/setup.sh [--browser]" >&2; exit 2 ;;
  esac
done

step() { printf '\033[1m==> %s\033[0m\n' "$*"; }

command -v node >/dev/null || { echo "Node.js 20+ is required (apt-get install nodejs npm)" >&2; exit 1; }
PY=${PYTHON:-python3}
"$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
  || { echo "Python 3.11+ is required (set PYTHON=...)" >&2; exit 1; }

step "Node toolchain (package-lock.json)"
if [ ! -x node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil ] \
   || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi

step "Python environment (.venv)"
[ -x .venv/bin/python ] || "$PY" -m venv .venv
stamp=.venv/.silktrace-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e ".[dev]"
  touch "$stamp"
fi

if [ "$browser" = 1 ] && [ ! -x /usr/bin/chromium ]; then
  step "Chromium (Debian package) for the browser tests"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium fonts-noto-cjk >/dev/null
fi

step "ready"
