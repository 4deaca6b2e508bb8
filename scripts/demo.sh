#!/usr/bin/env bash
# Install q2c into a virtual environment, start the service (embedded SQLite + a local Ray),
# and drive it through a realistic engagement scenario. Needs: python3 (3.11+).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${Q2C_VENV:-.venv}"
if [ ! -x "$VENV/bin/python" ]; then
  "${PYTHON:-python3}" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet -c constraints.txt -e .
exec "$VENV/bin/python" -m clients.demo "$@"
