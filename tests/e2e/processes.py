"""server.py started as a process from the checkout, as an operator starts it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def launch_server(args: list[str], stderr_path: Path | None = None) -> tuple[subprocess.Popen[str], str]:
    """`python server.py ARGS` (stderr to `stderr_path` when given); the process and the target
    it printed on its "q2c listening on HOST:PORT" line. AssertionError when it exits first."""
    command = [sys.executable, "server.py", *args]
    if stderr_path is None:
        proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    else:
        with stderr_path.open("w") as stderr:
            proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=stderr, text=True)
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("q2c listening on"):
            return proc, line.split()[-1]
    logged = f": {stderr_path.read_text()}" if stderr_path is not None else ""
    raise AssertionError(f"server exited with {proc.wait()} before listening{logged}")
