#!/usr/bin/env bash
# Install q2c with its development tools into a virtual environment, then run every check
# and the whole test suite (unit, store, host, service, end-to-end with Ray) on SQLite and
# PostgreSQL. Needs: python3 (3.11+), PostgreSQL on 127.0.0.1:5432 (trust auth), node/npx;
# installs Debian's prometheus (prometheus + promtool, for the real-scrape and alert-rule tests)
# when it is missing.
#
# Order (fails fast): generated code fresh, API reference fresh (+ every RPC and field
# commented), buf lint, buf breaking against the previous commit, ruff, mypy, pytest, then the
# Node client's own tests when clients/node/test.sh exists. Arguments are passed to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${Q2C_VENV:-.venv}"
if [ ! -x "$VENV/bin/python" ]; then
  "${PYTHON:-python3}" -m venv "$VENV"
fi
PY="$(cd "$VENV" && pwd)/bin/python"
"$PY" -m pip install --quiet --upgrade pip
"$PY" -m pip install --quiet -c constraints.txt -e '.[dev]'
# Debian packages of the tests' external binaries, one apt-get call for all missing ones:
# prometheus + promtool, chromium + chromedriver (tests/e2e/test_dashboard_browser.py), and
# iproute2's ip (network namespaces: tests/e2e/test_direct_channel_silent_peer.py).
missing=()
{ command -v prometheus >/dev/null && command -v promtool >/dev/null; } || missing+=(prometheus)
command -v chromium >/dev/null || missing+=(chromium)
command -v chromedriver >/dev/null || missing+=(chromium-driver)
command -v ip >/dev/null || missing+=(iproute2)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "== installing Debian's ${missing[*]} (real-scrape, alert-rule, dashboard browser and network tests)"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

echo "== generated protobuf code is fresh"
"$PY" scripts/gen_protos.py --check
echo "== API reference docs/api.md is fresh, every RPC and field has a comment"
"$PY" scripts/gen_api_docs.py --check
echo "== scope tables in docs/security.md are fresh"
"$PY" scripts/gen_security_docs.py --check
echo "== generated SDK methods clients/python/q2c_sdk/_gen_*.py are fresh"
"$PY" scripts/gen_sdk.py --check
echo "== buf lint"
PYTHON="$PY" bash scripts/buf_lint.sh
echo "== buf breaking against the previous commit"
PYTHON="$PY" bash scripts/check_breaking.sh
echo "== ruff (lint, and the format of the Python files and the Markdown's Python blocks)"
"$VENV/bin/ruff" check .
"$VENV/bin/ruff" format --check .
echo "== mypy --strict (q2c_core)"
"$VENV/bin/mypy" q2c_core
echo "== pytest"
"$PY" -m pytest "$@"
if [ -f clients/node/test.sh ]; then
  echo "== Node client (clients/node/test.sh)"
  Q2C_PYTHON="$PY" bash clients/node/test.sh
fi
