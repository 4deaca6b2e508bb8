"""Reading documents back page by page, and planting mismatches with the test-only tamper endpoint."""

from __future__ import annotations

from decimal import Decimal

import pytest

from simulator.client import HTTPStatusError
from tests.simulator.conftest import RunningSimulator

INVOICE = {"invoice_id": "inv-1", "currency": "EUR", "total": "1190.00"}


def _post_invoices(sim: RunningSimulator, count: int) -> None:
    for n in range(count):
        sim.client.post_invoice(f"k{n}", {**INVOICE, "invoice_id": f"inv-{n}"})


def test_pages_follow_number_order_until_next_after_is_null(sim: RunningSimulator) -> None:
    _post_invoices(sim, 5)
    first = sim.client.list_page("invoices", limit=2)
    assert [d["document_number"] for d in first["documents"]] == ["INV-000001", "INV-000002"]
    assert first["next_after"] == "INV-000002"
    second = sim.client.list_page("invoices", after=first["next_after"], limit=2)
    last = sim.client.list_page("invoices", after=second["next_after"], limit=2)
    assert [d["payload"]["invoice_id"] for d in last["documents"]] == ["inv-4"]
    assert last["next_after"] is None


def test_a_page_of_exactly_the_rest_has_no_next(sim: RunningSimulator) -> None:
    _post_invoices(sim, 2)
    assert sim.client.list_page("invoices", limit=2)["next_after"] is None
    assert sim.client.list_page("payments", limit=2) == {"documents": [], "next_after": None}


@pytest.mark.parametrize("limit", ["0", "1001", "x"])
def test_an_out_of_range_limit_is_refused(sim: RunningSimulator, limit: str) -> None:
    with pytest.raises(HTTPStatusError) as caught:
        sim.client.request("GET", f"/erp/invoices?limit={limit}")
    assert caught.value.status == 400


def test_listing_without_limit_still_returns_everything(sim: RunningSimulator) -> None:
    _post_invoices(sim, 3)
    assert len(sim.client.list_invoices()) == 3


def test_tamper_overwrites_payload_fields_and_keeps_the_number(sim: RunningSimulator) -> None:
    posted = sim.client.post_invoice("k", INVOICE)
    reply = sim.client.tamper("invoice", "k", fields={"total": "1200.00"})
    assert (reply["document_number"], reply["deleted"]) == (posted.document_number, False)
    stored = sim.client.get_invoice("k")["payload"]
    assert (stored["total"], stored["currency"], stored["invoice_id"]) == ("1200.00", "EUR", "inv-1")


def test_reposting_the_original_payload_replays_the_tampered_document(sim: RunningSimulator) -> None:
    sim.client.post_invoice("k", INVOICE)
    sim.client.tamper("invoice", "k", fields={"total": "1.00"})
    again = sim.client.post_invoice("k", INVOICE)
    assert again.replayed
    assert sim.client.get_invoice("k")["payload"]["total"] == "1.00"


def test_tamper_delete_removes_the_document(sim: RunningSimulator) -> None:
    sim.client.post_invoice("k", INVOICE)
    sim.client.post_payment("p", {"invoice_id": "inv-1", "payment_id": "p1", "amount": "10.00"})
    assert sim.client.tamper("payment", "p", delete=True)["deleted"] is True
    assert sim.client.list_payments() == []
    with pytest.raises(HTTPStatusError) as caught:
        sim.client.get_payment("p")
    assert caught.value.status == 404


def test_tamper_of_an_unknown_key_is_not_found(sim: RunningSimulator) -> None:
    with pytest.raises(HTTPStatusError) as caught:
        sim.client.tamper("invoice", "nope", delete=True)
    assert caught.value.status == 404


@pytest.mark.parametrize(
    "body",
    [
        {"kind": "invoice", "key": "k"},
        {"kind": "invoice", "key": "k", "set": {"total": "1"}, "delete": True},
        {"kind": "credit_note", "key": "k", "delete": True},
        {"kind": "invoice", "key": "k", "set": ["total"]},
    ],
)
def test_a_malformed_tamper_is_refused(sim: RunningSimulator, body: dict[str, object]) -> None:
    sim.client.post_invoice("k", INVOICE)
    with pytest.raises(HTTPStatusError) as caught:
        sim.client.request("POST", "/admin/tamper", body)
    assert caught.value.status == 400


def test_tamper_is_never_faulted(sim: RunningSimulator) -> None:
    sim.client.post_invoice("k", INVOICE)
    sim.client.set_faults({"path_prefix": "/", "error": {"count": 5, "status": 500}})
    assert sim.client.tamper("invoice", "k", fields={"total": "2.00"})["payload"]["total"] == "2.00"


def test_the_same_payload_under_another_key_is_a_second_document(sim: RunningSimulator) -> None:
    first = sim.client.post_invoice("q2c:invoice:inv-1", INVOICE)
    second = sim.client.post_invoice("dup", INVOICE)
    assert first.document_number != second.document_number
    assert [d["payload"]["invoice_id"] for d in sim.client.list_invoices()] == ["inv-1", "inv-1"]


def test_numbers_can_be_read_as_exact_decimals(sim: RunningSimulator) -> None:
    sim.client.post_invoice("k", {**INVOICE, "total": 0.1})
    reply = sim.client.request("GET", "/erp/invoices", parse_float=Decimal)
    assert reply["documents"][0]["payload"]["total"] == Decimal("0.1")
