#!/usr/bin/env bash
# Lints the Solidity sources: solhint (pinned in package.json) and slither (pinned, in its own virtualenv at
# .venv-slither, because its web3 pin conflicts with the project's). Fails on any solhint error or warning
# and on any slither finding of medium or high impact.
#
# Slither compiles through the project's solc wrapper (contracts/solc-wrapper/solc, npm solc) with a
# standard-JSON input, so it needs no native solc and no network.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

SLITHER_VERSION="0.11.6"
VENV="$ROOT/.venv-slither"

if [[ ! -x node_modules/.bin/solhint ]]; then
  npm ci --no-audit --no-fund
fi

echo "== solhint"
node_modules/.bin/solhint --max-warnings 0 --config contracts/.solhint.json 'contracts/src/**/*.sol'

echo "== slither ${SLITHER_VERSION}"
if [[ ! -x "$VENV/bin/slither" ]] || [[ "$("$VENV/bin/slither" --version)" != "$SLITHER_VERSION" ]]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet "slither-analyzer==${SLITHER_VERSION}"
fi

# The input lives outside contracts/: next to foundry.toml, crytic-compile would switch to the Foundry
# platform and rewrite the remappings relative to contracts/.
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
cat > "$WORK/input.json" <<'JSON'
{
  "language": "Solidity",
  "sources": {"contracts/src/TraceLedger.sol": {"urls": ["contracts/src/TraceLedger.sol"]}},
  "settings": {
    "remappings": ["@openzeppelin/contracts/=node_modules/@openzeppelin/contracts/"],
    "optimizer": {"enabled": true, "runs": 10000},
    "evmVersion": "prague"
  }
}
JSON

"$VENV/bin/slither" "$WORK/input.json" \
  --compile-force-framework solc-json \
  --solc "$ROOT/contracts/solc-wrapper/solc" \
  --solc-working-dir "$ROOT" \
  --filter-paths "node_modules" \
  --exclude-informational --exclude-optimization \
  --fail-medium
echo "contracts lint: clean"
