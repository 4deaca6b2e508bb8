"""Every failure is one line on stderr (or one JSON object) and an exit code that means something."""

from __future__ import annotations

import socket

import pytest

from clients.cli import main
from tests.cli.conftest import Cli


def test_unknown_engagement_is_not_found_in_one_line_without_traceback(cli: Cli) -> None:
    run = cli("engagements", "get", "no-such-engagement")
    assert run.code == 4
    assert run.out == ""
    assert run.err.count("\n") == 1
    assert run.err.startswith("error: NOT_FOUND ENGAGEMENT_NOT_FOUND: ")
    assert "no-such-engagement" in run.err
    assert "Traceback" not in run.err


def test_json_mode_prints_the_error_as_one_json_object(cli: Cli) -> None:
    run = cli("--json", "invoices", "get", "no-such-invoice")
    assert run.code == 4
    error = run.error()["error"]
    assert error["code"] == "NOT_FOUND"
    assert error["reason"] == "INVOICE_NOT_FOUND"
    assert error["exit_code"] == 4


def test_invalid_month_is_invalid_argument_naming_the_field(cli: Cli) -> None:
    run = cli("bill-runs", "start", "--month", "2026-13")
    assert run.code == 3
    assert "INVALID_ARGUMENT VALIDATION_FAILED" in run.err and "period.month" in run.err
    error = cli("--json", "bill-runs", "start", "--month", "January").error()["error"]
    assert [v["field"] for v in error["field_violations"]] == ["period.month"]


def test_unknown_exception_and_bill_run_are_not_found(cli: Cli) -> None:
    assert cli("exceptions", "resolve", "nope", "--note", "x").code == 4
    assert cli("bill-runs", "watch", "nope").code == 4
    assert "BILL_RUN_NOT_FOUND" in cli("bill-runs", "get", "nope").err


def test_server_down_means_retry_later(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    code = main(["--target", f"127.0.0.1:{port}", "--timeout", "0.5", "customers", "list"])
    err = capsys.readouterr().err
    assert code == 6
    assert err.count("\n") == 1 and err.startswith("error: ")
    assert ("UNAVAILABLE" in err or "DEADLINE_EXCEEDED" in err) and f"127.0.0.1:{port}" in err


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["customers"]) == 2
    assert main(["engagements", "list", "--state", "sleeping"]) == 2
    assert main(["exceptions", "resolve", "x"]) == 2  # --note is required
    assert main([]) == 2
    assert "invalid choice" in capsys.readouterr().err


def test_help_lists_the_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "exit codes:" in out and "NOT_FOUND" in out and "dead-letters" in out


def test_ctrl_c_exits_130_quietly(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def interrupted(argv: list[str]) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr("clients.cli._operate", interrupted)
    assert main(["customers", "list"]) == 130
    assert capsys.readouterr() == ("", "")
