"""`q2c reports kpis --from --to` against a real server: the seeded tenant's KPIs, in a table and
as JSON, and the refusals (a bad date, a token without reports:read)."""

from __future__ import annotations

import pytest

from clients.cli import main
from tests import credentials
from tests.cli.conftest import Cli, Server

WHOLE = ("--from", "2000-01-01", "--to", "2100-01-01T00:00:00+00:00")


def test_reports_kpis_shows_the_seeded_activations_and_unbilled_hours(cli: Cli) -> None:
    run = cli("reports", "kpis", *WHOLE)

    assert run.code == 0, run.err
    assert "quote to activation" in run.out and "cash application" in run.out
    assert "2250.00 USD" in run.out  # the billable engagement: 2 x 7.5 h x 150, not invoiced


def test_reports_kpis_json_is_the_kpis_message(cli: Cli, server: Server) -> None:
    data = cli("--json", "reports", "kpis", *WHOLE).json()

    assert data["tenant_id"] == server.data.tenant_id
    assert data["unbilled_amounts"] == [{"currency_code": "USD", "amount": "2250.00"}]
    assert int(data["quote_to_activation"]["count"]) == 2  # the held engagement was never won
    assert int(data["billing_cycle"]["count"]) == 0  # the seeded invoice is a draft
    assert data["start_time"] == "2000-01-01T00:00:00Z"


def test_reports_kpis_of_an_empty_period_prints_no_unbilled_work(cli: Cli) -> None:
    run = cli("reports", "kpis", "--from", "2000-01-01", "--to", "2000-02-01")

    assert run.code == 0, run.err
    assert "none" in run.out


@pytest.mark.parametrize("bad", ["yesterday", "2026-13-01"])
def test_reports_kpis_refuses_a_date_it_cannot_read_as_a_usage_error(cli: Cli, bad: str) -> None:
    assert cli("reports", "kpis", "--from", bad, "--to", "2026-01-01").code == 2


def test_reports_kpis_without_reports_read_exits_11(
    server: Server, capsys: pytest.CaptureFixture[str]
) -> None:
    token = credentials.token(server.data.tenant_id, "sales", ("engagements:read",))

    code = main(["--target", server.target, "--token", token, "reports", "kpis", *WHOLE])

    assert code == 11
    assert "SCOPE_MISSING" in capsys.readouterr().err
