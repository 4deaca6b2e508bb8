#!/usr/bin/env bash
# Install q2c with its development tools into a virtual environment, then run every check
# and the whole test suite (unit, store, host, service, end-to-end with Ray) on SQLite and
# PostgreSQL. Needs: python3 (3.11+), PostgreSQL on 127.0.0.1:5432 (trust auth), node/npx.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${Q2C_VENV:-.venv}"
if [ ! -x "$VENV/bin/python" ]; then
  "${PYTHON:-python3}" -m venv "$VENV"
fi
PY="$VENV/bin/python"
"$PY" -m pip install --quiet --upgrade pip
"$PY" -m pip install --quiet -e '.[dev]'

echo "== generated protobuf code is fresh"
"$PY" scripts/gen_protos.py --check
echo "== buf lint"
PYTHON="$PY" bash scripts/buf_lint.sh
echo "== ruff"
"$VENV/bin/ruff" check .
echo "== mypy --strict (q2c_core)"
"$VENV/bin/mypy" q2c_core
echo "== pytest"
"$PY" -m pytest "$@"
