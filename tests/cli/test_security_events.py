"""`q2c audit security-events`: a reviewer lists the calls the server refused."""

from __future__ import annotations

import uuid

import pytest

from clients.cli import main
from clients.cli_errors import ExitCode
from tests import credentials
from tests.cli.conftest import Cli, Run, Server


def _as(capsys: pytest.CaptureFixture[str], server: Server, token: str, *args: str) -> Run:
    code = main(["--target", server.target, "--token", token, *args])
    captured = capsys.readouterr()
    return Run(code, captured.out, captured.err)


def test_a_refused_call_is_listed_with_who_what_and_why(
    cli: Cli, server: Server, capsys: pytest.CaptureFixture[str]
) -> None:
    reader = credentials.token(server.data.tenant_id, "reader", ("customers:read",))
    refused = _as(capsys, server, reader, "bill-runs", "list")
    assert refused.code == int(ExitCode.PERMISSION_DENIED), refused.err

    run = cli("--json", "audit", "security-events", "--limit", "20")

    assert run.code == 0, run.err
    events = run.json()["security_events"]
    mine = [e for e in events if e["principal"] == "reader"]
    assert mine and mine[0]["reason"] == "SCOPE_MISSING" and mine[0]["code"] == "PERMISSION_DENIED"
    assert mine[0]["method"] == "/q2c.v1.BillingService/ListBillRuns"


def test_refusals_without_a_tenant_need_admin(server: Server, capsys: pytest.CaptureFixture[str]) -> None:
    auditor = credentials.token(server.data.tenant_id, "auditor", ("audit:read",))
    anonymous_probe = _as(capsys, server, f"not-a-token-{uuid.uuid4().hex}", "customers", "list")
    assert anonymous_probe.code == int(ExitCode.UNAUTHENTICATED)

    run = _as(capsys, server, auditor, "audit", "security-events", "--all")

    assert run.code == int(ExitCode.PERMISSION_DENIED) and "admin" in run.err
