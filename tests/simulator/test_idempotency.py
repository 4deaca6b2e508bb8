"""Idempotent postings, crash-after-commit retries, and persistence across restarts."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from simulator.client import ConflictError, HTTPStatusError, SimulatorConnectionError
from tests.simulator.conftest import RunningSimulator

INVOICE = {
    "customer": "ACME",
    "currency": "EUR",
    "lines": [{"description": "Discovery", "amount": "1200.00"}],
}


def test_same_key_returns_the_first_document(sim: RunningSimulator) -> None:
    first = sim.client.post_invoice("eng-1/inv-1", INVOICE)
    again = sim.client.post_invoice("eng-1/inv-1", INVOICE)
    assert first.document_number == again.document_number == "INV-000001"
    assert (first.replayed, again.replayed) == (False, True)
    assert sim.client.post_invoice("eng-1/inv-2", INVOICE).document_number == "INV-000002"
    assert len(sim.client.list_invoices()) == 2


def test_other_payload_under_same_key_is_a_conflict(sim: RunningSimulator) -> None:
    sim.client.post_invoice("k", INVOICE)
    with pytest.raises(ConflictError) as caught:
        sim.client.post_invoice("k", {**INVOICE, "currency": "USD"})
    assert caught.value.status == 409
    assert len(sim.client.list_invoices()) == 1


def test_key_may_come_from_the_body(sim: RunningSimulator) -> None:
    reply = sim.client.request("POST", "/erp/invoices", {**INVOICE, "key": "body-key"})
    assert sim.client.get_invoice("body-key")["document_number"] == reply["document_number"]
    with pytest.raises(HTTPStatusError) as caught:
        sim.client.request("POST", "/erp/invoices", INVOICE)
    assert caught.value.status == 400


def test_crash_after_commit_then_retry_yields_exactly_one_document(sim: RunningSimulator) -> None:
    sim.client.set_faults({"crash_after_commit": {"count": 1}})
    with pytest.raises(SimulatorConnectionError):
        sim.client.post_invoice("crash-1", INVOICE)
    # The document exists although the client never saw a reply.
    committed = sim.client.get_invoice("crash-1")["document_number"]
    retry = sim.client.post_invoice("crash-1", INVOICE)
    assert retry.document_number == committed == "INV-000001"
    assert retry.replayed
    assert [d["key"] for d in sim.client.list_invoices()] == ["crash-1"]


def test_payments_are_idempotent_and_mark_the_invoice_paid(sim: RunningSimulator) -> None:
    invoice = sim.client.post_invoice("inv", INVOICE)
    payment = {"invoice_number": invoice.document_number, "amount": "1200.00"}
    first = sim.client.post_payment("pay-1", payment)
    assert sim.client.post_payment("pay-1", payment).document_number == first.document_number == "PAY-000001"
    assert sim.client.get_invoice("inv")["status"] == "paid"
    with pytest.raises(HTTPStatusError) as caught:
        sim.client.post_payment("pay-2", {"invoice_number": "INV-999999", "amount": "1"})
    assert caught.value.status == 422


def test_reference_records_upsert(sim: RunningSimulator) -> None:
    assert sim.client.put_customer("ACME", {"name": "Acme"})["version"] == 1
    assert sim.client.put_customer("ACME", {"name": "Acme Ltd"})["version"] == 2
    assert sim.client.put_job("job-1", {"customer": "ACME"})["payload"] == {"customer": "ACME"}
    assert sim.client.put_project("p-1", {"name": "Rollout"})["key"] == "p-1"
    assert sim.client.request("GET", "/erp/customers/ACME")["payload"] == {"name": "Acme Ltd"}


def test_restart_keeps_documents_and_numbering(launch: Callable[[], RunningSimulator]) -> None:
    first = launch()
    posted = first.client.post_invoice("persist", INVOICE)
    assert first.stop() == 0
    second = launch()
    assert second.client.get_invoice("persist")["document_number"] == posted.document_number
    assert second.client.post_invoice("persist", INVOICE).replayed
    assert second.client.post_invoice("next", INVOICE).document_number == "INV-000002"
