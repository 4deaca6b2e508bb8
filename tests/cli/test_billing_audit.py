"""`q2c bill-runs ...` and `q2c audit ...` against a real server."""

from __future__ import annotations

from tests.cli.conftest import Cli, Server


def test_bill_runs_list_and_get_show_the_seeded_run(cli: Cli, server: Server) -> None:
    run = cli("bill-runs", "list")
    assert run.code == 0, run.err
    assert server.data.bill_run_id in run.out and "2025-12" in run.out
    detail = cli("bill-runs", "get", server.data.bill_run_id)
    assert "SUCCEEDED" in detail.out and "NOTHING_TO_BILL" in detail.out
    data = cli("--json", "bill-runs", "get", server.data.bill_run_id).json()
    assert data["state"] == "BILL_RUN_STATE_SUCCEEDED"
    assert data["engagements_processed"] == data["engagements_total"] == 2


def test_bill_run_start_watch_ends_succeeded_with_a_progress_bar(cli: Cli, server: Server) -> None:
    run = cli("bill-runs", "start", "--month", "2026-01", "--watch")
    assert run.code == 0, run.err
    assert "bill run 2026-01 SUCCEEDED" in run.err  # the progress bar, on stderr
    assert "SUCCEEDED" in run.out and "2026-01" in run.out
    invoices = cli("--json", "invoices", "list", "--engagement", server.data.billable_engagement_id).json()
    assert len(invoices["invoices"]) == 1 and invoices["invoices"][0]["bill_run_id"]


def test_bill_run_start_watch_json_prints_the_final_run(cli: Cli) -> None:
    run = cli("--json", "bill-runs", "start", "--month", "2026-02", "--watch")
    assert run.code == 0, run.err
    data = run.json()
    assert data["state"] == "BILL_RUN_STATE_SUCCEEDED"
    assert data["period"] == {"month": "2026-02"}
    assert data["engagements_processed"] == data["engagements_total"]


def test_bill_run_start_without_watch_returns_at_once_and_watch_follows_it(cli: Cli) -> None:
    started = cli("--json", "bill-runs", "start", "--month", "2026-03")
    assert started.code == 0, started.err
    bill_run_id = started.json()["bill_run_id"]
    watched = cli("bill-runs", "watch", bill_run_id)
    assert watched.code == 0, watched.err
    assert bill_run_id in watched.out and "SUCCEEDED" in watched.out


def test_cancelling_a_finished_bill_run_conflicts(cli: Cli, server: Server) -> None:
    run = cli("bill-runs", "cancel", server.data.bill_run_id, "--reason", "too late")
    assert run.code == 5
    assert "BILL_RUN_FINISHED" in run.err


def test_audit_list_shows_the_engagement_chain(cli: Cli, server: Server) -> None:
    run = cli("audit", "list", server.data.engagement_id)
    assert run.code == 0, run.err
    for command in ("CreateEngagement", "ApproveContract", "GenerateInvoice", "seeder", "ACCEPTED"):
        assert command in run.out
    data = cli("--json", "audit", "list", server.data.engagement_id, "--limit", "3").json()
    assert [r["sequence"] for r in data["audit_records"]] == [1, 2, 3]
    assert data["audit_records"][0]["command_type"] == "CreateEngagement"
    assert data["next_page_token"]


def test_audit_verify_reports_the_chain_verifies(cli: Cli, server: Server) -> None:
    run = cli("audit", "verify")
    assert run.code == 0, run.err
    assert "OK: the chain verifies" in run.out
    data = cli("--json", "audit", "verify", "--stream", server.data.engagement_id).json()
    assert data["ok"] is True and data["records_checked"] >= 8 and data["problem"] == ""
