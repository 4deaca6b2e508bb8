#!/usr/bin/env bash
# Install the Node client's dependencies and run its tests (node's test runner) against a
# real q2c server that the tests start themselves. Exits non-zero on failure.
# Needs node >= 20 and npm; the q2c Python environment (scripts/test.sh creates <repo>/.venv;
# else Q2C_PYTHON, <repo>/../.venv or python3 are used).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
echo "== node $(node --version), npm $(npm --version 2>/dev/null)"
if [[ -f package-lock.json ]]; then
  npm ci --no-audit --no-fund
else
  npm install --no-audit --no-fund
fi
echo "== npm test (clients/node)"
npm test
