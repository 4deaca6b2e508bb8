"""The reconciliation rules over hand-made books and ERP documents (pure, no I/O)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from decimal import Decimal
from typing import Any

from q2c_core.app.connectors import ErpDocument
from q2c_core.app.reconciliation.rules import Books, attribution_candidates, find_mismatches
from q2c_core.domain.invoices import InvoiceState
from q2c_core.domain.invoices import ReconciliationMismatch as M
from tests.integration.builders import NOW, eur, invoice, payment

GRACE = timedelta(hours=1)
LATER = NOW + timedelta(hours=2)


def doc(number: str, invoice_id: str = "inv-1", amount: str | None = "1190.00", **fields: Any) -> ErpDocument:
    """An ERP document naming `invoice_id` (a payment when payment_id is given)."""
    values: dict[str, Any] = {
        "number": number,
        "key": f"key-{number}",
        "invoice_id": invoice_id,
        "payment_id": "",
        "engagement_id": "eng-1",
        "amount": None if amount is None else Decimal(amount),
        "currency": "EUR",
        "raw_amount": amount or "",
    }
    values.update(fields)
    return ErpDocument(**values)


def kinds(
    books: Books, invoices: list[ErpDocument], payments: Sequence[ErpDocument] = (), **kw: Any
) -> list[Any]:
    """(mismatch, invoice id, payment id) of every finding, at LATER unless `now` is given."""
    owned = kw.pop("owned", set())
    findings = find_mismatches(books, invoices, list(payments), owned, kw.pop("now", LATER), GRACE)
    return [(f.mismatch, f.invoice_id, f.payment_id) for f in findings]


def test_an_equal_amount_written_with_more_decimals_agrees() -> None:
    books = Books.of([invoice()])
    assert kinds(books, [doc("INV-1", amount="1190.000")]) == []


def test_another_currency_differs_even_with_the_same_number() -> None:
    books = Books.of([invoice()])
    assert kinds(books, [doc("INV-1", currency="USD")]) == [(M.AMOUNT_DIFFERS, "inv-1", "")]


def test_an_unreadable_amount_differs_and_is_shown_raw() -> None:
    books = Books.of([invoice()])
    (finding,) = find_mismatches(
        books, [doc("INV-1", amount=None, raw_amount="n/a")], [], set(), LATER, GRACE
    )
    assert finding.mismatch is M.AMOUNT_DIFFERS
    assert finding.erp_documents[0].amount == "n/a"


def test_a_duplicate_with_another_total_is_both_duplicate_and_different() -> None:
    books = Books.of([invoice()])
    found = kinds(books, [doc("INV-1"), doc("INV-2", amount="1.00")])
    assert found == [(M.DUPLICATE_IN_ERP, "inv-1", ""), (M.AMOUNT_DIFFERS, "inv-1", "")]


def test_a_young_unposted_invoice_is_in_flight_but_a_posted_one_is_missing_at_once() -> None:
    young, posted = invoice("inv-1"), invoice("inv-2", erp_document_number="INV-9", state=InvoiceState.POSTED)
    assert kinds(Books.of([young, posted]), [], now=NOW) == [(M.MISSING_IN_ERP, "inv-2", "")]


def test_an_early_payment_dates_the_issue_for_the_grace_period() -> None:
    paid = invoice(payments=[payment()], update_time=LATER, state=InvoiceState.PAID)
    assert kinds(Books.of([paid]), [], now=LATER) == [(M.MISSING_IN_ERP, "inv-1", "")]


def test_two_documents_for_one_payment_are_a_payment_duplicate() -> None:
    books = Books.of([invoice(payments=[payment()], state=InvoiceState.PAID)])
    payments = [doc("PAY-1", payment_id="pay-1"), doc("PAY-2", payment_id="pay-1")]
    assert kinds(books, [doc("INV-1")], payments) == [(M.DUPLICATE_IN_ERP, "inv-1", "pay-1")]


def test_documents_for_a_draft_are_unknown_and_for_a_void_invoice_skipped() -> None:
    draft = invoice("inv-d", state=InvoiceState.DRAFT)
    void = invoice("inv-v", state=InvoiceState.VOID)
    found = kinds(Books.of([draft, void]), [doc("INV-1", "inv-d"), doc("INV-2", "inv-v")])
    assert found == [(M.UNKNOWN_IN_Q2C, "inv-d", "")]


def test_documents_are_attributed_by_engagement_only_when_the_tenant_owns_it() -> None:
    books = Books.of([])
    stray = [doc("INV-1", "eng-1.inv.4", engagement_id=""), doc("INV-2", "eng-2.inv.1", engagement_id="")]
    assert attribution_candidates(books, stray) == {"eng-1", "eng-2"}
    assert kinds(books, stray, owned={"eng-1"}) == [(M.UNKNOWN_IN_Q2C, "eng-1.inv.4", "")]


def test_an_unknown_payment_of_an_issued_invoice_is_unknown() -> None:
    books = Books.of([invoice(payments=[payment()], amount_paid=eur("1190.00"), state=InvoiceState.PAID)])
    payments = [doc("PAY-1", payment_id="pay-1"), doc("PAY-2", payment_id="pay-x", amount="5")]
    assert kinds(books, [doc("INV-1")], payments) == [(M.UNKNOWN_IN_Q2C, "inv-1", "pay-x")]


def test_an_invoice_posted_after_the_erp_was_read_is_not_missing() -> None:
    fields = {"erp_document_number": "INV-9", "state": InvoiceState.POSTED}
    recent = invoice(
        update_time=LATER - timedelta(minutes=10), post_time=LATER + timedelta(seconds=1), **fields
    )
    assert kinds(Books.of([recent]), [], now=LATER) == []
    known_then = recent.model_copy(update={"post_time": LATER - timedelta(seconds=1)})
    assert kinds(Books.of([known_then]), [], now=LATER) == [(M.MISSING_IN_ERP, "inv-1", "")]
