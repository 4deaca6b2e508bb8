#!/usr/bin/env bash
# Install q2c into a virtual environment, start the service (embedded SQLite + a local Ray, with
# /metrics and the operations dashboard on free ports) and the ERP/PSA simulator, and drive it
# through a realistic engagement scenario; then print the dashboard URL (with a fresh
# dashboard:read token) and the metrics URL. In a terminal the server keeps running until Enter;
# otherwise it is stopped at once. Needs: python3 (3.11+), curl.
# Arguments go to `python -m clients.demo`; with --target it drives that server instead.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${Q2C_VENV:-.venv}"
if [ ! -x "$VENV/bin/python" ]; then
  "${PYTHON:-python3}" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet -c constraints.txt -e .
PY="$(cd "$VENV" && pwd)/bin/python"
Q2C="$(dirname "$PY")/q2c"
for arg in "$@"; do
  if [ "$arg" = --target ] || [[ "$arg" == --target=* ]]; then
    exec "$PY" -m clients.demo "$@"
  fi
done

TENANT=acme-consulting # clients/demo_access.py's tenant
work="$(mktemp -d "${TMPDIR:-/tmp}/q2c-demo.XXXXXX")"
pids=()
stop() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap stop EXIT

wait_for() { # wait_for FILE SED-EXPRESSION PID: the first match in FILE, or fail when PID exits
  local file="$1" expr="$2" pid="$3" found
  for _ in $(seq 1 1200); do
    found="$(sed -n "$expr" "$file" | head -n 1)"
    if [ -n "$found" ]; then printf '%s' "$found"; return 0; fi
    kill -0 "$pid" 2>/dev/null || { echo "demo.sh: process $pid exited early; see $file" >&2; return 1; }
    sleep 0.1
  done
  echo "demo.sh: timed out waiting in $file" >&2
  return 1
}

"$Q2C" auth dev-key --dir "$work/dev-key" >/dev/null
"$PY" -m simulator --port 0 --db "$work/erp.db" >"$work/simulator.log" 2>&1 &
pids+=($!)
erp="http://$(wait_for "$work/simulator.log" 's/^simulator listening on //p' "$!")"

"$PY" server.py --port 0 --shards "${Q2C_DEMO_SHARDS:-2}" --database-url "sqlite:///$work/q2c.db" \
  --ray-num-cpus 2 --log-level INFO --log-format text --erp-url "$erp" --psa-url "$erp" \
  --delivery-base-seconds 0.2 --dev-key-dir "$work/dev-key" --metrics-port 0 --dashboard-port 0 \
  >"$work/server.out" 2>"$work/server.log" &
server=$!
pids+=("$server")
target="$(wait_for "$work/server.out" 's/^q2c listening on //p' "$server")"
metrics="$(wait_for "$work/server.log" 's|.*metrics on \(http://[^ ]*/metrics\).*|\1|p' "$server")"
dashboard="$(wait_for "$work/server.log" 's|.*dashboard on \(https*://[^ ]*/dashboard\).*|\1|p' "$server")"
echo "q2c started on $target (SQLite, local Ray), ERP/PSA simulator at $erp; logs in $work"

"$PY" -m clients.demo --target "$target" --dev-key-dir "$work/dev-key" --erp-url "$erp" "$@"

token="$("$Q2C" auth token --dev-key-dir "$work/dev-key" --tenant "$TENANT" \
  --principal ops --scope dashboard:read --ttl 3600)"
echo
echo "== /metrics answers (first RPC counters):"
scrape="$(curl -fsS "$metrics")"  # read it whole: grep -m stopping early would fail curl under pipefail
grep -m 3 '^grpc_server_handled_total' <<<"$scrape"
signin="$(curl -sS -o /dev/null -w '%{http_code}' "$dashboard?token=$token")"
[ "$signin" = 303 ] || { echo "demo.sh: the dashboard answered $signin to the token, not 303" >&2; exit 1; }
echo
echo "Operations dashboard (tenant $TENANT, token valid for an hour; the token leaves the URL"
echo "once the browser has it in a cookie):"
echo "  $dashboard?token=$token"
echo "Prometheus metrics:"
echo "  $metrics"
if [ -t 0 ] && [ -t 1 ]; then
  read -r -p "The server keeps running: press Enter to stop it. " _ || true
fi
