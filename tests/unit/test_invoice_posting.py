"""The ERP's side of an invoice: its acknowledgement (posting) and reconciliation mismatches."""

from __future__ import annotations

from datetime import date

import pydantic
import pytest

from q2c_core.domain import commands as cmd
from q2c_core.domain import events as ev
from q2c_core.domain.entities import EngagementState, ExceptionState, GatedStep, OwnerQueue, Severity
from q2c_core.domain.errors import NotFoundError, PreconditionError, ValidationError
from q2c_core.domain.invoices import Invoice, InvoiceState, ReconciliationMismatch
from q2c_core.domain.reconciliation import RECONCILIATION_CHECK
from q2c_core.domain.routing import add_business_days

from .billing_builders import (
    active,
    bill,
    cards,
    expenses,
    issue,
    money,
    month,
    pay,
    spend,
    taxed,
    tm,
    void,
    work,
)
from .builders import ENGAGEMENT_ID, Driver, create


def issued_march() -> tuple[Driver, Invoice]:
    """An ACTIVE engagement with one ISSUED 1200.00 invoice for March."""
    driver = active(tm(), expenses("0"), rate_cards=cards(engineer="100"), who=taxed("0.20"))
    work(driver, "t1", date(2025, 3, 3), "8")
    spend(driver, "x1", money("200"))
    invoice = issue(driver, bill(driver, month("2025-03")))
    assert invoice.state is InvoiceState.ISSUED and invoice.total == money("1200.00")
    return driver, invoice


def post(driver: Driver, invoice: Invoice, number: str = "ERP-100") -> list[ev.Event]:
    """The ERP acknowledges the invoice under `number`."""
    return driver.run(
        cmd.RecordInvoicePosting(
            engagement_id=ENGAGEMENT_ID, invoice_id=invoice.invoice_id, erp_document_number=number
        )
    )


def current(driver: Driver, invoice: Invoice) -> Invoice:
    return driver.engagement.invoices[invoice.invoice_id]


def mismatch(
    invoice_id: str,
    kind: ReconciliationMismatch = ReconciliationMismatch.AMOUNT_DIFFERS,
    reconciliation_id: str = "rec-1",
) -> cmd.RaiseReconciliationMismatch:
    return cmd.RaiseReconciliationMismatch(
        engagement_id=ENGAGEMENT_ID,
        invoice_id=invoice_id,
        mismatch=kind,
        detail="q2c total 1200.00 USD, ERP 1100.00",
        reconciliation_id=reconciliation_id,
    )


# --- posting --------------------------------------------------------------------------------


def test_posting_an_issued_invoice_makes_it_posted_with_the_erp_number() -> None:
    driver, invoice = issued_march()
    at = driver.now
    events = post(driver, invoice)
    assert events == [
        ev.InvoicePosted(invoice_id=invoice.invoice_id, erp_document_number="ERP-100", post_time=at)
    ]
    posted = current(driver, invoice)
    assert posted.state is InvoiceState.POSTED
    assert (posted.erp_document_number, posted.post_time, posted.update_time) == ("ERP-100", at, at)
    assert posted.balance_due == money("1200.00") and not posted.settled


def test_posting_again_with_the_same_number_records_nothing() -> None:
    driver, invoice = issued_march()
    post(driver, invoice)
    before = driver.engagement
    assert post(driver, invoice) == []
    assert driver.engagement == before


def test_posting_again_with_another_number_is_refused_naming_the_recorded_one() -> None:
    driver, invoice = issued_march()
    post(driver, invoice, "ERP-100")
    with pytest.raises(PreconditionError) as raised:
        post(driver, invoice, "ERP-200")
    assert raised.value.reason == "INVOICE_ALREADY_POSTED"
    assert raised.value.metadata == {"invoice_id": invoice.invoice_id, "erp_document_number": "ERP-100"}
    assert current(driver, invoice).erp_document_number == "ERP-100"


def test_a_draft_cannot_be_posted() -> None:
    driver, issued = issued_march()
    work(driver, "t2", date(2025, 4, 2))
    draft = bill(driver, month("2025-04"))
    with pytest.raises(PreconditionError) as raised:
        post(driver, draft)
    assert raised.value.reason == "INVALID_INVOICE_STATE"
    assert raised.value.metadata == {"invoice_id": draft.invoice_id, "state": "DRAFT"}
    assert issued.state is InvoiceState.ISSUED


def test_posting_an_unknown_invoice_is_not_found() -> None:
    driver, _invoice = issued_march()
    with pytest.raises(NotFoundError) as raised:
        driver.run(
            cmd.RecordInvoicePosting(
                engagement_id=ENGAGEMENT_ID, invoice_id="eng-1.inv.9", erp_document_number="ERP-1"
            )
        )
    assert raised.value.reason == "INVOICE_NOT_FOUND"


@pytest.mark.parametrize("number", ["", " ", "x" * 65])
def test_the_erp_document_number_is_required_and_at_most_64_characters(number: str) -> None:
    with pytest.raises(pydantic.ValidationError):
        cmd.RecordInvoicePosting(
            engagement_id=ENGAGEMENT_ID, invoice_id="eng-1.inv.1", erp_document_number=number
        )


def test_payments_on_a_posted_invoice_go_partially_paid_then_paid_keeping_the_number() -> None:
    driver, invoice = issued_march()
    post(driver, invoice)
    pay(driver, invoice, money("200"))
    assert current(driver, invoice).state is InvoiceState.PARTIALLY_PAID
    pay(driver, invoice)
    paid = current(driver, invoice)
    assert paid.state is InvoiceState.PAID and paid.amount_paid == money("1200.00")
    assert paid.erp_document_number == "ERP-100"


def test_posting_a_paid_invoice_keeps_it_paid_and_records_the_number() -> None:
    driver, invoice = issued_march()
    pay(driver, invoice)
    post(driver, invoice)
    paid = current(driver, invoice)
    assert paid.state is InvoiceState.PAID and paid.erp_document_number == "ERP-100"
    assert paid.post_time is not None


def test_posting_a_void_invoice_keeps_it_void() -> None:
    driver, invoice = issued_march()
    void(driver, invoice)
    post(driver, invoice)
    assert current(driver, invoice).state is InvoiceState.VOID
    assert current(driver, invoice).erp_document_number == "ERP-100"


def test_voiding_a_posted_invoice_creates_a_credit_note_for_its_total() -> None:
    driver, invoice = issued_march()
    post(driver, invoice)
    void(driver, invoice)
    voided = current(driver, invoice)
    assert voided.state is InvoiceState.VOID
    assert voided.credit_note is not None and voided.credit_note.amount == money("1200.00")
    assert driver.engagement.time_entries["t1"].invoice_id == ""


def test_a_closed_engagement_accepts_the_erps_late_posting() -> None:
    driver, invoice = issued_march()
    pay(driver, invoice)
    driver.run(cmd.CompleteEngagement())
    assert driver.engagement.state is EngagementState.CLOSED
    events = post(driver, invoice)
    assert [type(e) for e in events] == [ev.InvoicePosted]
    assert driver.engagement.state is EngagementState.CLOSED
    assert current(driver, invoice).state is InvoiceState.PAID


def test_a_cancelled_engagement_accepts_a_posting_of_its_issued_invoice() -> None:
    driver, invoice = issued_march()
    driver.run(cmd.CancelEngagement(reason="customer left"))
    post(driver, invoice)
    assert current(driver, invoice).state is InvoiceState.POSTED
    assert driver.engagement.state is EngagementState.CANCELLED


def test_a_posted_invoice_keeps_a_completed_engagement_open_until_paid() -> None:
    driver, invoice = issued_march()
    post(driver, invoice)
    driver.run(cmd.CompleteEngagement())
    assert driver.engagement.state is EngagementState.COMPLETED
    events = pay(driver, invoice)
    assert isinstance(events[-1], ev.EngagementClosed)


# --- reconciliation mismatches ---------------------------------------------------------------


def test_a_mismatch_raises_one_review_exception_for_finance() -> None:
    driver, invoice = issued_march()
    at = driver.now
    events = driver.run(mismatch(invoice.invoice_id))
    assert [type(e) for e in events] == [ev.BusinessExceptionRaised]
    raised = events[0].exception  # type: ignore[union-attr]
    assert (raised.check, raised.severity, raised.step) == (
        RECONCILIATION_CHECK,
        Severity.REVIEW,
        GatedStep.INVOICE,
    )
    assert raised.owner_queue is OwnerQueue.FINANCE_OPS
    assert raised.sla_due_time == add_business_days(at, 2)
    assert raised.state is ExceptionState.OPEN
    assert raised.item_ids == [invoice.invoice_id, "AMOUNT_DIFFERS", "rec-1"]
    for text in ("AMOUNT_DIFFERS", "q2c total 1200.00 USD, ERP 1100.00", invoice.invoice_id, "rec-1"):
        assert text in raised.message
    assert raised.exception_id == f"eng-1.x{driver.engagement.version}.1"
    assert driver.engagement.state is EngagementState.ACTIVE
    assert not driver.engagement.open_blocking()


def test_the_same_mismatch_while_its_exception_is_open_records_nothing() -> None:
    driver, invoice = issued_march()
    driver.run(mismatch(invoice.invoice_id, reconciliation_id="rec-1"))
    assert driver.run(mismatch(invoice.invoice_id, reconciliation_id="rec-2")) == []
    assert len([x for x in driver.engagement.open_exceptions() if x.check == RECONCILIATION_CHECK]) == 1


def test_another_mismatch_on_the_same_invoice_raises_its_own_exception() -> None:
    driver, invoice = issued_march()
    driver.run(mismatch(invoice.invoice_id))
    events = driver.run(mismatch(invoice.invoice_id, ReconciliationMismatch.MISSING_IN_ERP))
    assert [type(e) for e in events] == [ev.BusinessExceptionRaised]


def test_a_resolved_mismatch_does_not_stop_a_new_one() -> None:
    driver, invoice = issued_march()
    [first] = driver.run(mismatch(invoice.invoice_id))
    exception_id = first.exception.exception_id  # type: ignore[union-attr]
    driver.run(cmd.ResolveException(exception_id=exception_id, resolution_note="ERP corrected"))
    [second] = driver.run(mismatch(invoice.invoice_id, reconciliation_id="rec-2"))
    assert isinstance(second, ev.BusinessExceptionRaised)
    assert second.exception.exception_id != exception_id
    assert driver.engagement.exceptions[exception_id].state is ExceptionState.RESOLVED


def test_a_mismatch_is_raised_and_resolved_on_a_closed_engagement() -> None:
    driver, invoice = issued_march()
    pay(driver, invoice)
    driver.run(cmd.CompleteEngagement())
    assert driver.engagement.state is EngagementState.CLOSED
    [raised] = driver.run(mismatch(invoice.invoice_id, ReconciliationMismatch.PAYMENT_MISSING_IN_ERP))
    exception_id = raised.exception.exception_id  # type: ignore[union-attr]
    events = driver.run(cmd.ResolveException(exception_id=exception_id, resolution_note="booked in ERP"))
    assert [type(e) for e in events] == [ev.BusinessExceptionResolved]
    assert driver.engagement.state is EngagementState.CLOSED


def test_a_mismatch_on_an_unknown_invoice_is_not_found_unless_the_erp_has_it_and_q2c_does_not() -> None:
    driver, _invoice = issued_march()
    with pytest.raises(NotFoundError):
        driver.run(mismatch("eng-1.inv.9"))
    events = driver.run(mismatch("eng-1.inv.9", ReconciliationMismatch.UNKNOWN_IN_Q2C))
    assert [type(e) for e in events] == [ev.BusinessExceptionRaised]


def test_a_mismatch_on_an_engagement_on_hold_leaves_it_on_hold() -> None:
    driver = Driver(customer=taxed(legal_entity=""))
    driver.run(create())
    driver.run(cmd.QualifyEngagement())
    driver.run(cmd.CloseWonEngagement())
    assert driver.engagement.state is EngagementState.ON_HOLD
    driver.run(mismatch("eng-1.inv.1", ReconciliationMismatch.UNKNOWN_IN_Q2C))
    assert driver.engagement.state is EngagementState.ON_HOLD


@pytest.mark.parametrize("detail", ["", "x" * 1001])
def test_a_mismatch_detail_is_required_and_at_most_1000_characters(detail: str) -> None:
    with pytest.raises(pydantic.ValidationError):
        cmd.RaiseReconciliationMismatch(
            engagement_id=ENGAGEMENT_ID,
            invoice_id="eng-1.inv.1",
            mismatch="AMOUNT_DIFFERS",
            detail=detail,
            reconciliation_id="rec-1",
        )


def test_a_posting_naming_another_engagement_is_a_validation_error() -> None:
    driver, invoice = issued_march()
    elsewhere = cmd.RecordInvoicePosting(
        engagement_id="eng-2", invoice_id=invoice.invoice_id, erp_document_number="ERP-1"
    )
    with pytest.raises(ValidationError) as raised:
        driver.run(elsewhere)
    assert [v.field for v in raised.value.field_violations] == ["engagement_id"]
    assert current(driver, invoice).state is InvoiceState.ISSUED
