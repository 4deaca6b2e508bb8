#!/usr/bin/env bash
# Run `buf lint` over protos/ with the rules of ./buf.yaml.
#
#   bash scripts/buf_lint.sh                          # lint
#   bash scripts/buf_lint.sh --breaking-against REF   # lint, then `buf breaking` against git REF
#   bash scripts/buf_lint.sh --breaking-only REF      # only `buf breaking` against git REF
#
# scripts/check_breaking.sh chooses REF for CI (the previous commit, or the last release tag).
#
# No buf registry is reachable, so the googleapis imports (google/api, google/rpc, google/type)
# are copied from the googleapis-common-protos wheel and the well-known types (google/protobuf)
# from grpcio-tools' bundled protos into a temporary second module, which is not linted.
# Python: $PYTHON, else the first of ./.venv, ../.venv, python3 that has grpc_tools.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# buf is pinned so a new release's lint or breaking rules cannot change CI's verdict on an
# unchanged tree; bump it deliberately (override with $Q2C_BUF_VERSION).
BUF_VERSION="${Q2C_BUF_VERSION:-1.75.0}"
BUF=(npx --yes "@bufbuild/buf@$BUF_VERSION")
AGAINST=""
LINT=1
case "${1:-}" in
  "") ;;
  --breaking-against) AGAINST="${2:?--breaking-against needs a git ref}" ;;
  --breaking-only) AGAINST="${2:?--breaking-only needs a git ref}"; LINT=0 ;;
  *) echo "usage: $0 [--breaking-against REF | --breaking-only REF]" >&2; exit 2 ;;
esac

find_python() {
  local candidate
  for candidate in "${PYTHON:-}" "$ROOT/.venv/bin/python" "$ROOT/../.venv/bin/python" python3; do
    if [[ -n "$candidate" ]] && "$candidate" -c "import grpc_tools, google.rpc.status_pb2" 2>/dev/null; then
      echo "$candidate"
      return 0
    fi
  done
  echo "no python with grpcio-tools and googleapis-common-protos found; set PYTHON" >&2
  return 1
}
PY="$(find_python)"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/q2c-buf.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

# Builds a workspace in $1: protos/ from $2, third_party/ with the imports, buf.yaml from ./buf.yaml.
make_workspace() {
  local ws="$1" protos="$2"
  mkdir -p "$ws/third_party"
  cp -R "$protos" "$ws/protos"
  "$PY" - "$ws" "$ROOT/buf.yaml" <<'PYEOF'
import shutil, sys
from importlib import resources
from pathlib import Path

import google.rpc.status_pb2 as status_pb2
import yaml

ws, config = Path(sys.argv[1]), Path(sys.argv[2])
googleapis = Path(status_pb2.__file__).resolve().parents[2]
wkt = Path(str(resources.files("grpc_tools") / "_proto"))
for base, sub in [(googleapis, "google/api"), (googleapis, "google/rpc"),
                  (googleapis, "google/type"), (wkt, "google/protobuf")]:
    for src in (base / sub).rglob("*.proto"):
        dst = ws / "third_party" / src.relative_to(base)
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dst)
cfg = yaml.safe_load(config.read_text())
cfg["modules"] = [{"path": "protos"}, {"path": "third_party"}]
(ws / "buf.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
PYEOF
}

make_workspace "$WORK/current" "$ROOT/protos"
if [[ "$LINT" == 1 ]]; then
  (cd "$WORK/current" && "${BUF[@]}" lint --path protos/q2c)
  echo "buf lint: OK"
fi

if [[ -n "$AGAINST" ]]; then
  mkdir -p "$WORK/against-src"
  git -C "$ROOT" rev-parse --verify --quiet "$AGAINST^{commit}" >/dev/null \
    || { echo "buf breaking: $AGAINST is not a commit of $ROOT" >&2; exit 2; }
  git -C "$ROOT" archive "$AGAINST" -- protos | tar -x -C "$WORK/against-src"
  make_workspace "$WORK/against" "$WORK/against-src/protos"
  cd "$WORK/current"
  if ! "${BUF[@]}" breaking protos --against ../against/protos; then
    echo "buf breaking against $AGAINST: FAILED (breaking changes listed above; API_RULES.md rule 1)" >&2
    exit 1
  fi
  echo "buf breaking against $AGAINST: OK"
fi
