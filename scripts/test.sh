#!/usr/bin/env bash
# Installs everything, then runs the whole test suite: lint, types, contracts, Python and browser.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --browser

step() { printf '\033[1m==> %s\033[0m\n' "$*"; }
step "ruff"
.venv/bin/ruff check .
step "mypy"
.venv/bin/mypy
if [ -x scripts/lint_contracts.sh ]; then
  step "solhint + slither"
  scripts/lint_contracts.sh
fi
step "forge test"
(cd contracts && ../node_modules/@foundry-rs/forge-linux-amd64/bin/forge test)
step "pytest"
.venv/bin/pytest "$@"
