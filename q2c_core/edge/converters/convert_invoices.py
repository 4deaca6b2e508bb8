"""Invoices, their lines, tax, payments and credit notes, and invoice readiness -> proto."""

from __future__ import annotations

from typing import Any

from q2c.v1 import billing_pb2, common_pb2
from q2c.v1 import engagement_pb2 as pb
from q2c_core.domain.billing import BillingDraft, Blocker
from q2c_core.domain.errors import NotFoundError
from q2c_core.domain.invoices import CreditNote, Invoice, InvoiceLine, InvoiceState, Payment, TaxDetail
from q2c_core.domain.money import Money
from q2c_core.edge.converters.convert_common import (
    amount_out,
    date_out,
    decimal_out,
    enum_in,
    enum_out,
    money_out,
    timestamp_out,
    view_is_basic,
)
from q2c_core.edge.converters.convert_periods import period_out

INVOICE_MARKER = ".inv."
_STATE = "INVOICE_STATE_"
_BLOCKER = "READINESS_BLOCKER_KIND_"


def engagement_of_invoice(invoice_id: str) -> str:
    """The engagement an invoice id belongs to (`<engagement_id>.inv.<n>`); else NOT_FOUND."""
    engagement_id, marker, number = invoice_id.rpartition(INVOICE_MARKER)
    if not (marker and engagement_id and number.isdigit()):
        raise NotFoundError("invoice", invoice_id)
    return engagement_id


def invoice_number(invoice_id: str) -> int:
    """The `<n>` of `<engagement_id>.inv.<n>` (0 for a malformed id)."""
    number = invoice_id.rpartition(INVOICE_MARKER)[2]
    return int(number) if number.isdigit() else 0


def invoice_etag(invoice: Invoice) -> str:
    """Changes with every change of the invoice: generation, issue, posting, each payment, void."""
    changes = 1 + (invoice.issue_date is not None) + len(invoice.payments)
    changes += (invoice.state is InvoiceState.VOID) + (invoice.post_time is not None)
    return f'"v{changes}"'


def invoice_state_out(state: InvoiceState) -> Any:
    """Invoice state -> proto enum number."""
    return enum_out(billing_pb2.InvoiceState, _STATE, state)


def invoice_state_in(number: int, path: str = "state") -> InvoiceState | None:
    """Proto invoice state -> domain (UNSPECIFIED = any)."""
    return enum_in(billing_pb2.InvoiceState, _STATE, number, InvoiceState, path)


def basic_invoice_view(view: int) -> bool:
    """Whether a request's InvoiceView asks for BASIC (UNSPECIFIED is FULL); unknown values are
    a field violation on `view`."""
    return view_is_basic(view, billing_pb2.INVOICE_VIEW_BASIC, billing_pb2.INVOICE_VIEW_FULL)


def invoice_out(invoice: Invoice, *, basic: bool = False) -> billing_pb2.Invoice:
    """Domain invoice -> proto; every amount an exact decimal in the invoice currency. `basic`
    (InvoiceView BASIC): every field but the lines."""
    return billing_pb2.Invoice(
        invoice_id=invoice.invoice_id,
        engagement_id=invoice.engagement_id,
        customer_id=invoice.customer_id,
        period=period_out(invoice.period),
        state=invoice_state_out(invoice.state),
        currency_code=invoice.currency,
        lines=() if basic else [invoice_line_out(line) for line in invoice.lines],
        subtotal=amount_out(invoice.subtotal),
        tax=tax_out(invoice.tax),
        total=amount_out(invoice.total),
        amount_paid=amount_out(invoice.amount_paid),
        balance_due=amount_out(invoice.balance_due),
        payments=[payment_out(p) for p in invoice.payments],
        credit_note=credit_note_out(invoice.credit_note) if invoice.credit_note else None,
        bill_run_id=invoice.bill_run_id,
        issue_date=date_out(invoice.issue_date),
        due_date=date_out(invoice.due_date),
        po_reference=invoice.po_reference,
        create_time=timestamp_out(invoice.create_time),
        update_time=timestamp_out(invoice.update_time),
        etag=invoice_etag(invoice),
        erp_document_number=invoice.erp_document_number,
        post_time=timestamp_out(invoice.post_time),
    )


def invoice_line_out(line: InvoiceLine, *, preview: bool = False) -> billing_pb2.InvoiceLine:
    """Invoice line -> proto; a readiness `preview` has no line_id yet."""
    return billing_pb2.InvoiceLine(
        line_id="" if preview else line.line_id,
        source=enum_out(billing_pb2.InvoiceLineSource, "INVOICE_LINE_SOURCE_", line.source),
        source_id=line.source_id,
        billing_line_id=line.billing_line_id,
        contract_revision=line.contract_revision,
        description=line.description,
        quantity=decimal_out(line.quantity),
        unit_price=money_out(line.unit_price),
        amount=amount_out(line.amount),
        rounding_rule=line.rounding_rule,
        service_period=period_out(line.service_period) if line.service_period else None,
    )


def tax_out(tax: TaxDetail) -> billing_pb2.TaxDetail:
    """Tax detail -> proto."""
    return billing_pb2.TaxDetail(
        jurisdiction=tax.jurisdiction,
        rate=decimal_out(tax.rate),
        exempt=tax.exempt,
        amount=amount_out(tax.amount),
        rounding_rule=tax.rounding_rule,
    )


def payment_out(payment: Payment) -> billing_pb2.Payment:
    """Payment -> proto."""
    return billing_pb2.Payment(
        payment_id=payment.payment_id,
        amount=amount_out(payment.amount),
        received_date=date_out(payment.received_date),
        reference=payment.reference,
        record_time=timestamp_out(payment.record_time),
    )


def credit_note_out(note: CreditNote) -> billing_pb2.CreditNote:
    """Credit note -> proto."""
    return billing_pb2.CreditNote(
        credit_note_id=note.credit_note_id,
        amount=amount_out(note.amount),
        reason=note.reason,
        create_time=timestamp_out(note.create_time),
    )


def blocker_kind_out(kind: str) -> Any:
    """A domain blocker kind -> ReadinessBlockerKind (an unknown kind is UNSPECIFIED)."""
    try:
        return pb.ReadinessBlockerKind.Value(_BLOCKER + kind)
    except ValueError:
        return 0


def _blocker_out(blocker: Blocker) -> pb.ReadinessBlocker:
    return pb.ReadinessBlocker(
        kind=blocker_kind_out(blocker.kind), message=blocker.message, item_ids=list(blocker.item_ids)
    )


def readiness_out(
    engagement_id: str, period: common_pb2.BillingPeriod, draft: BillingDraft
) -> pb.InvoiceReadiness:
    """The preview of GenerateInvoice for the period (echoed as given) and every blocker."""
    already = any(b.kind == "PERIOD_ALREADY_INVOICED" for b in draft.blockers)
    lines = [] if already else draft.lines
    zero = Money.zero(draft.currency)
    subtotal = sum((line.amount for line in lines), zero)
    tax = draft.tax.amount if draft.tax is not None and not already else zero
    blockers = sorted(draft.blockers, key=lambda b: blocker_kind_out(b.kind))
    return pb.InvoiceReadiness(
        engagement_id=engagement_id,
        period=period,
        ready=draft.ready,
        billable_lines=[invoice_line_out(line, preview=True) for line in lines],
        subtotal=amount_out(subtotal),
        tax=amount_out(tax),
        total=amount_out(subtotal + tax),
        blockers=[_blocker_out(b) for b in blockers],
    )
