"""Helpers of the API governance tests: run the repo's scripts, edit scratch copies."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROTOS = ROOT / "protos"
# npx may have to download @bufbuild/buf on a fresh machine; be generous.
TIMEOUT = 180


def run(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run cmd; the scripts find grpc_tools through $PYTHON (the interpreter running pytest)."""
    full_env = {k: v for k, v in os.environ.items() if k != "Q2C_REQUIRE_BREAKING_CHECK"}
    full_env["PYTHON"] = sys.executable
    full_env.update(env or {})
    return subprocess.run(cmd, cwd=cwd, env=full_env, capture_output=True, text=True, timeout=TIMEOUT)


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True, timeout=60
    ).stdout


def commit(repo: Path, message: str) -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "--quiet", "--no-verify", "-m", message)


def output(result: subprocess.CompletedProcess[str]) -> str:
    return result.stdout + result.stderr


def edit_message(path: Path, message: str, old: str, new: str) -> None:
    """Replace old, which must occur exactly once in the body of top-level `message`, in path."""
    text = path.read_text(encoding="utf-8")
    head = f"\nmessage {message} {{\n"
    assert text.count(head) == 1, f"message {message} not found once in {path}"
    start = text.index(head) + len(head)
    end = text.index("\n}\n", start)
    body = text[start:end]
    assert body.count(old) == 1, f"{old!r} occurs {body.count(old)} times in message {message}"
    path.write_text(text[:start] + body.replace(old, new) + text[end:], encoding="utf-8")
