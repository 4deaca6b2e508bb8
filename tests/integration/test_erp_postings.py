"""Invoices and payments posted to the simulated ERP: numbers, replays, crashes and conflicts."""

from __future__ import annotations

from q2c_core.adapters.erp.simulator_connectors import SimulatorErp
from q2c_core.app.connectors import (
    DeliveryFailure,
    FailureKind,
    PostedDocument,
    invoice_key,
    payment_key,
)
from tests.integration.builders import eur, invoice, payment
from tests.simulator.conftest import RunningSimulator


def posted(result: PostedDocument | DeliveryFailure) -> PostedDocument:
    """The posted document, failing the test with the failure otherwise."""
    assert isinstance(result, PostedDocument), result
    return result


def test_posting_an_invoice_returns_the_erp_document_number(erp: SimulatorErp, sim: RunningSimulator) -> None:
    inv = invoice()
    document = posted(erp.post_invoice(inv, key=invoice_key(inv)))
    assert (document.document_number, document.replayed, document.status) == ("INV-000001", False, "posted")
    stored = sim.client.get_invoice(invoice_key(inv))["payload"]
    assert (stored["total"], stored["currency"], stored["customer"]) == ("1190.00", "EUR", "cust-1")
    assert [line["amount"] for line in stored["lines"]] == ["750.00", "250.00"]
    assert stored["lines"][0]["quantity"] == "7.5"


def test_posting_the_same_invoice_again_replays_the_first_number(erp: SimulatorErp) -> None:
    inv = invoice()
    first = posted(erp.post_invoice(inv, key=invoice_key(inv)))
    again = posted(erp.post_invoice(inv, key=invoice_key(inv)))
    assert again.document_number == first.document_number
    assert again.replayed


def test_a_later_state_of_the_same_invoice_still_replays(erp: SimulatorErp) -> None:
    inv = invoice()
    first = posted(erp.post_invoice(inv, key=invoice_key(inv)))
    paid = inv.model_copy(update={"amount_paid": eur("1190.00"), "payments": [payment()]})
    assert posted(erp.post_invoice(paid, key=invoice_key(paid))).document_number == first.document_number


def test_crash_after_commit_is_an_unknown_outcome_and_a_retry_finds_the_one_document(
    erp: SimulatorErp, sim: RunningSimulator
) -> None:
    inv = invoice()
    sim.client.set_faults({"crash_after_commit": 1})
    failure = erp.post_invoice(inv, key=invoice_key(inv))
    assert isinstance(failure, DeliveryFailure)
    assert failure.kind is FailureKind.UNKNOWN_OUTCOME
    assert failure.may_retry
    document = posted(erp.post_invoice(inv, key=invoice_key(inv)))
    assert (document.document_number, document.replayed) == ("INV-000001", True)
    assert [d["document_number"] for d in sim.client.list_invoices()] == ["INV-000001"]


def test_another_payload_under_the_same_key_is_permanent(erp: SimulatorErp, sim: RunningSimulator) -> None:
    inv = invoice()
    posted(erp.post_invoice(inv, key=invoice_key(inv)))
    failure = erp.post_invoice(invoice(total=eur("999.00")), key=invoice_key(inv))
    assert isinstance(failure, DeliveryFailure)
    assert (failure.kind, failure.status, failure.may_retry) == (FailureKind.PERMANENT, 409, False)
    assert failure.payload is not None and "different payload" in failure.payload
    assert len(sim.client.list_invoices()) == 1


def test_recording_a_payment_marks_the_erp_invoice_paid(erp: SimulatorErp, sim: RunningSimulator) -> None:
    inv, pay = invoice(), payment()
    number = posted(erp.post_invoice(inv, key=invoice_key(inv))).document_number
    first = posted(erp.record_payment(inv, pay, invoice_number=number, key=payment_key(inv, pay)))
    again = posted(erp.record_payment(inv, pay, invoice_number=number, key=payment_key(inv, pay)))
    assert (first.document_number, first.status, first.replayed) == ("PAY-000001", "applied", False)
    assert (again.document_number, again.replayed) == ("PAY-000001", True)
    assert sim.client.get_invoice(invoice_key(inv))["status"] == "paid"
    stored = sim.client.request("GET", f"/erp/payments/{payment_key(inv, pay)}")["payload"]
    assert (stored["amount"], stored["currency"], stored["invoice_number"]) == ("1190.00", "EUR", number)


def test_a_payment_for_an_unknown_erp_invoice_is_permanent(erp: SimulatorErp) -> None:
    inv, pay = invoice(), payment()
    failure = erp.record_payment(inv, pay, invoice_number="INV-999999", key=payment_key(inv, pay))
    assert isinstance(failure, DeliveryFailure)
    assert (failure.kind, failure.status) == (FailureKind.PERMANENT, 422)
