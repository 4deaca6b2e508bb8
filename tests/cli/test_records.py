"""`q2c customers|rate-cards|engagements|invoices|exceptions` against a real server."""

from __future__ import annotations

from tests.cli.conftest import Cli, Server


def test_customers_list_shows_both_customers_with_their_tax(cli: Cli, server: Server) -> None:
    run = cli("customers", "list")
    assert run.code == 0, run.err
    assert server.data.customer_id in run.out
    assert "Acme" in run.out and "Globex" in run.out
    assert "US-NY @ 0.08875" in run.out


def test_customers_list_json_is_the_list_response(cli: Cli, server: Server) -> None:
    run = cli("--json", "customers", "list", "--status", "active")
    assert run.code == 0, run.err
    names = {c["display_name"] for c in run.json()["customers"]}
    assert names == {"Acme", "Globex"}
    assert run.json()["next_page_token"] == ""


def test_customers_get_in_table_and_json(cli: Cli, server: Server) -> None:
    table = cli("customers", "get", server.data.customer_id)
    assert table.code == 0 and "Acme Holdings LLC" in table.out
    data = cli("customers", "get", server.data.customer_id, "--json").json()
    assert data["customer_id"] == server.data.customer_id
    assert data["tax_profile"] == {"jurisdiction": "US-NY", "rate": "0.08875", "exempt": False}


def test_rate_cards_show_rates_as_money_with_currency(cli: Cli, server: Server) -> None:
    assert "engineer 150.00 USD" in cli("rate-cards", "list").out
    data = cli("--json", "rate-cards", "get", server.data.rate_card_id).json()
    assert data["revision"] == 1
    assert {"role": "engineer", "hourly_rate": {"currency_code": "USD", "amount": "150.00"}} in data["rates"]


def test_engagements_list_filters_by_state(cli: Cli, server: Server) -> None:
    run = cli("engagements", "list", "--state", "on_hold")
    assert run.code == 0, run.err
    assert server.data.held_engagement_id in run.out
    assert server.data.engagement_id not in run.out
    data = cli(
        "--json", "engagements", "list", "--state", "ACTIVE", "--customer", server.data.customer_id
    ).json()
    ids = {e["engagement_id"] for e in data["engagements"]}
    assert ids == {server.data.engagement_id, server.data.billable_engagement_id}


def test_engagements_list_limit_returns_a_token_to_continue(cli: Cli, server: Server) -> None:
    first = cli("--json", "engagements", "list", "--limit", "2").json()
    assert len(first["engagements"]) == 2 and first["next_page_token"]
    rest = cli("--json", "engagements", "list", "--page-token", first["next_page_token"]).json()
    ids = [e["engagement_id"] for e in first["engagements"] + rest["engagements"]]
    assert len(ids) == len(set(ids)) == 3
    assert "--page-token" in cli("engagements", "list", "--limit", "1").out


def test_engagements_get_shows_contract_time_and_invoices(cli: Cli, server: Server) -> None:
    run = cli("engagements", "get", server.data.engagement_id)
    assert run.code == 0, run.err
    for expected in (
        "ACTIVE",
        "2026-01-01..2026-12-31",
        "2 BILLED",
        server.data.invoice_id,
        "TIME_AND_MATERIALS",
    ):
        assert expected in run.out
    data = cli("--json", "engagements", "get", server.data.engagement_id).json()
    assert data["state"] == "ENGAGEMENT_STATE_ACTIVE"
    assert data["invoice_ids"] == [server.data.invoice_id]


def test_engagements_get_view_basic_leaves_out_contract_lines_and_work(cli: Cli, server: Server) -> None:
    eid = server.data.engagement_id
    basic = cli("--json", "engagements", "get", eid, "--view", "basic")
    assert basic.code == 0, basic.err
    data = basic.json()
    assert (data["engagement_id"], data["state"]) == (eid, "ENGAGEMENT_STATE_ACTIVE")
    assert data["contract"]["currency_code"] == "USD" and not data["contract"].get("billing_lines")
    assert not any(data.get(name) for name in ("time_entries", "milestones", "invoice_ids"))
    full = cli("--json", "engagements", "get", eid, "--view", "FULL").json()
    assert full["invoice_ids"] == [server.data.invoice_id] and full["time_entries"]
    assert full == cli("--json", "engagements", "get", eid).json()
    table = cli("engagements", "get", eid, "--view", "basic")
    assert table.code == 0 and "ACTIVE" in table.out and "TIME_AND_MATERIALS" not in table.out
    wrong = cli("engagements", "get", eid, "--view", "everything")
    assert wrong.code != 0 and "--view" in wrong.err


def test_invoices_list_shows_exact_totals_with_currency(cli: Cli, server: Server) -> None:
    run = cli("invoices", "list", "--engagement", server.data.engagement_id)
    assert run.code == 0, run.err
    assert server.data.invoice_id in run.out and "2449.69 USD" in run.out and "DRAFT" in run.out
    data = cli(
        "--json", "invoices", "list", "--state", "draft", "--engagement", server.data.engagement_id
    ).json()
    assert [i["invoice_id"] for i in data["invoices"]] == [server.data.invoice_id]
    assert data["invoices"][0]["total"] == {"currency_code": "USD", "amount": "2449.69"}


def test_invoices_get_lists_lines_and_tax(cli: Cli, server: Server) -> None:
    run = cli("invoices", "get", server.data.invoice_id)
    assert run.code == 0, run.err
    for expected in ("1125.00 USD", "2250.00 USD", "199.69 USD (US-NY @ 0.08875)", "TIME_ENTRY"):
        assert expected in run.out
    data = cli("invoices", "get", server.data.invoice_id, "--json").json()
    assert [line["amount"]["amount"] for line in data["lines"]] == ["1125.00", "1125.00"]
    assert data["tax"]["rounding_rule"] == "TAX_ON_SUBTOTAL_HALF_UP"


def test_exceptions_list_and_get_show_the_blocking_exception(cli: Cli, server: Server) -> None:
    run = cli("exceptions", "list", "--severity", "blocking", "--engagement", server.data.held_engagement_id)
    assert run.code == 0, run.err
    assert server.data.exception_id in run.out and "TAX_PROFILE_PRESENT" in run.out
    data = cli("--json", "exceptions", "get", server.data.exception_id).json()
    assert data["check"] == "TAX_PROFILE_PRESENT"
    assert data["severity"] == "EXCEPTION_SEVERITY_BLOCKING"
    assert "CLOSE_WON" in cli("exceptions", "get", server.data.exception_id).out


def test_exceptions_list_by_queue_oldest_first_shows_queue_age_and_sla(cli: Cli, server: Server) -> None:
    run = cli("exceptions", "list", "--queue", "finance-ops", "--oldest-first")
    assert run.code == 0, run.err
    assert server.data.exception_id in run.out
    assert "FINANCE_OPS" in run.out and "SLA due" in run.out and "age" in run.out
    assert server.data.exception_id not in cli("exceptions", "list", "--queue", "sales-ops").out
    listed = cli("--json", "exceptions", "list", "--queue", "FINANCE_OPS").json()["exceptions"]
    assert {x["owner_queue"] for x in listed} == {"OWNER_QUEUE_FINANCE_OPS"}
    [held] = [x for x in listed if x["exception_id"] == server.data.exception_id]
    assert held["sla_due_time"] and held["age"].endswith("s") and held["sla_breached"] is False
    detail = cli("exceptions", "get", server.data.exception_id).out
    assert "FINANCE_OPS" in detail and "SLA breached" in detail and "CLOSE_WON" in detail


def test_exceptions_list_newest_first_reverses_the_age_order(cli: Cli, server: Server) -> None:
    def ids(*flags: str) -> list[str]:
        run = cli("--json", "exceptions", "list", *flags)
        assert run.code == 0, run.err
        return [x["exception_id"] for x in run.json()["exceptions"]]

    oldest = ids("--oldest-first")
    assert len(oldest) >= 2 and oldest == ids()
    assert ids("--newest-first") == oldest[::-1]
    assert ids("--newest-first", "--limit", "1") == oldest[-1:]
    assert cli("exceptions", "list", "--oldest-first", "--newest-first").code == 2
    assert cli("exceptions", "list", "--queue", "legal-ops").code == 2


def test_resolving_an_exception_twice_conflicts(cli: Cli, server: Server) -> None:
    first = cli("--json", "exceptions", "resolve", server.data.exception_id, "--note", "tax profile added")
    assert first.code == 0, first.err
    assert first.json()["state"] == "EXCEPTION_STATE_RESOLVED"
    assert first.json()["resolution_note"] == "tax profile added"
    again = cli("exceptions", "resolve", server.data.exception_id, "--note", "again")
    assert again.code == 5
    assert again.err.count("\n") == 1
    assert "FAILED_PRECONDITION EXCEPTION_ALREADY_RESOLVED" in again.err
    resolved = cli(
        "exceptions", "list", "--state", "resolved", "--engagement", server.data.held_engagement_id
    )
    assert server.data.exception_id in resolved.out
