"""The installed `q2c` console script and `python -m clients.cli` both run the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests import credentials
from tests.cli.conftest import Server

ROOT = Path(__file__).resolve().parents[2]
CONSOLE_SCRIPT = Path(sys.executable).parent / "q2c"


def test_console_script_help_documents_commands_and_exit_codes() -> None:
    done = subprocess.run([str(CONSOLE_SCRIPT), "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "bill-runs" in done.stdout and "exit codes:" in done.stdout


def test_console_script_lists_customers_as_json(server: Server) -> None:
    args = ["--target", server.target, "--json", "customers", "list"]
    env = {**os.environ, "Q2C_TOKEN": credentials.token(server.data.tenant_id)}
    done = subprocess.run([str(CONSOLE_SCRIPT), *args], capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 0, done.stderr
    assert {c["display_name"] for c in json.loads(done.stdout)["customers"]} == {"Acme", "Globex"}


def test_module_entry_point_exits_with_the_error_code(server: Server) -> None:
    token = credentials.token(server.data.tenant_id)
    args = ["--target", server.target, "--token", token, "engagements", "get", "nope"]
    done = subprocess.run(
        [sys.executable, "-m", "clients.cli", *args], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert done.returncode == 4
    assert "ENGAGEMENT_NOT_FOUND" in done.stderr and "Traceback" not in done.stderr


def test_serve_and_demo_keep_their_own_options() -> None:
    for command in ("serve", "demo"):
        done = subprocess.run(
            [str(CONSOLE_SCRIPT), command, "--help"], capture_output=True, text=True, timeout=120, cwd=ROOT
        )
        assert done.returncode == 0, done.stderr
        assert "--target" in done.stdout if command == "demo" else "--database-url" in done.stdout
