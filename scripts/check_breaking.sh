#!/usr/bin/env bash
# `buf breaking` (FILE rules of ./buf.yaml) for the protos of the working tree against an
# earlier version of them (API_RULES.md rules 1 and 16).
#
#   bash scripts/check_breaking.sh                  # against the previous commit (HEAD~1): CI
#   bash scripts/check_breaking.sh --last-tag       # against the last release tag (git describe)
#   bash scripts/check_breaking.sh --against REF    # against any git ref, e.g. origin/main
#
# On main, HEAD~1 is the previous commit of main, so every commit is checked against the one
# before it. The check is skipped, with a message saying why, when there is nothing to compare
# with: not a git checkout, the first commit, a shallow clone without HEAD~1 (fetch with
# --depth 2 or more), no tag for --last-tag, or a REF that has no protos/ yet.
# Set Q2C_REQUIRE_BREAKING_CHECK=1 to make such a skip an error.
# buf and the googleapis imports are set up by scripts/buf_lint.sh (see there).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MODE="previous"
REF=""
case "${1:-}" in
  "") ;;
  --last-tag) MODE="tag" ;;
  --against) MODE="ref"; REF="${2:?--against needs a git ref}" ;;
  *) echo "usage: $0 [--last-tag | --against REF]" >&2; exit 2 ;;
esac

skip() {
  echo "buf breaking: SKIPPED: $*"
  if [[ "${Q2C_REQUIRE_BREAKING_CHECK:-0}" == 1 ]]; then
    echo "buf breaking: Q2C_REQUIRE_BREAKING_CHECK=1, so a skipped check fails" >&2
    exit 1
  fi
  exit 0
}

if ! git -C "$ROOT" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  skip "$ROOT is not a git checkout; nothing to compare with"
fi

case "$MODE" in
  previous)
    if ! REF="$(git -C "$ROOT" rev-parse --verify --quiet 'HEAD~1^{commit}')"; then
      if [[ "$(git -C "$ROOT" rev-parse --is-shallow-repository)" == true ]]; then
        skip "shallow clone without the previous commit (fetch with --depth 2 or more, or unshallow)"
      fi
      skip "HEAD is the first commit; there is no previous commit to compare with"
    fi
    LABEL="previous commit $(git -C "$ROOT" rev-parse --short "$REF")"
    ;;
  tag)
    if ! REF="$(git -C "$ROOT" describe --tags --abbrev=0 2>/dev/null)"; then
      skip "no release tag reachable from HEAD"
    fi
    LABEL="last release tag $REF"
    ;;
  ref)
    if ! git -C "$ROOT" rev-parse --verify --quiet "$REF^{commit}" >/dev/null; then
      echo "buf breaking: $REF is not a commit of $ROOT" >&2
      exit 2
    fi
    LABEL="$REF"
    ;;
esac

if [[ -z "$(git -C "$ROOT" ls-tree -d --name-only "$REF" -- protos)" ]]; then
  skip "$LABEL has no protos/ directory"
fi

echo "buf breaking: protos/ of the working tree against $LABEL"
exec bash "$ROOT/scripts/buf_lint.sh" --breaking-only "$REF"
