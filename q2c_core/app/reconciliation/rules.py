"""The reconciliation rules: q2c's issued invoices and payments against the ERP's documents (pure).

A document belongs to the invoice (payment) its payload names (``invoice_id``, ``payment_id``),
whatever key it was posted under, so a second document naming the same invoice is a duplicate.

=========================  ================================================================
mismatch                   when
=========================  ================================================================
MISSING_IN_ERP             an issued invoice has no document, and q2c holds it POSTED (it has
                           an ERP number, recorded before the ERP was read) or it was issued
                           longer than the grace period before the ERP was read (younger ones
                           are still in flight to the ERP)
DUPLICATE_IN_ERP           two or more documents name the invoice (or the same payment)
AMOUNT_DIFFERS             a document's total or currency is not the invoice's (exact decimal
                           compare; an unreadable amount differs)
PAYMENT_MISSING_IN_ERP     the invoice has a document but a payment has none, and the payment
                           was recorded longer than the grace period ago (a payment cannot be
                           posted before its invoice, so an invoice without a document reports
                           itself, not its payments)
PAYMENT_AMOUNT_DIFFERS     a payment document's amount or currency is not the payment's
UNKNOWN_IN_Q2C             a document names an invoice or payment q2c has not issued, and it
                           can be attributed to one of the tenant's engagements (the invoice is
                           the tenant's DRAFT, or the document's engagement is the tenant's);
                           documents of other tenants, or of no one, are skipped
=========================  ================================================================

VOID invoices are skipped, and so are documents naming them: the ERP has no credit-note
operation yet, so a voided invoice's document stays in the ERP as posted.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from q2c_core.app.connectors import ErpDocument
from q2c_core.domain.base import Frozen
from q2c_core.domain.invoices import Invoice, InvoiceState, Payment, ReconciliationMismatch
from q2c_core.domain.money import Money

M = ReconciliationMismatch
ISSUED_STATES = frozenset(
    {InvoiceState.ISSUED, InvoiceState.POSTED, InvoiceState.PARTIALLY_PAID, InvoiceState.PAID}
)
"""The states reconciled: issued, so q2c owes the ERP a document."""

INVOICE_MARKER = ".inv."
"""Invoice ids are `<engagement_id>.inv.<n>`: a document naming no engagement is attributed by it."""


class ErpDocumentSummary(Frozen):
    """One ERP document behind a mismatch: its number, key and amount as the ERP holds it."""

    document_number: str
    key: str
    currency: str
    amount: str  # exact decimal text; the raw value when not a decimal; "" when missing


class Finding(Frozen):
    """One mismatch between q2c's books and the ERP's."""

    mismatch: ReconciliationMismatch
    engagement_id: str
    invoice_id: str
    payment_id: str = ""
    q2c_amount: Money | None = None  # None for UNKNOWN_IN_Q2C
    erp_documents: list[ErpDocumentSummary] = []
    detail: str


@dataclass(frozen=True)
class Books:
    """q2c's side for one tenant: issued invoices, and the DRAFT / VOID ones by id."""

    issued: Sequence[Invoice]
    unissued: dict[str, Invoice]
    known_ids: frozenset[str]

    @classmethod
    def of(cls, invoices: Iterable[Invoice]) -> Books:
        """Split a tenant's invoices into issued and not."""
        issued: list[Invoice] = []
        unissued: dict[str, Invoice] = {}
        for invoice in invoices:
            if invoice.state in ISSUED_STATES:
                issued.append(invoice)
            else:
                unissued[invoice.invoice_id] = invoice
        known = frozenset([*unissued, *(i.invoice_id for i in issued)])
        return cls(sorted(issued, key=lambda i: (i.engagement_id, i.invoice_id)), unissued, known)

    def knows(self, invoice_id: str) -> bool:
        """Whether q2c has the invoice at all (in any state)."""
        return invoice_id in self.known_ids


def summary(document: ErpDocument) -> ErpDocumentSummary:
    """What a report shows of a document."""
    amount = document.raw_amount if document.amount is None else format(document.amount, "f")
    return ErpDocumentSummary(
        document_number=document.number, key=document.key, currency=document.currency, amount=amount
    )


def engagement_of(document: ErpDocument) -> str:
    """The engagement a document names: its payload's, else its invoice id's prefix."""
    if document.engagement_id:
        return document.engagement_id
    engagement_id, marker, _ = document.invoice_id.rpartition(INVOICE_MARKER)
    return engagement_id if marker else ""


def attribution_candidates(books: Books, documents: Iterable[ErpDocument]) -> set[str]:
    """Engagement ids to look up for documents naming invoices q2c does not have at all."""
    return {engagement_of(d) for d in documents if d.invoice_id and not books.knows(d.invoice_id)} - {""}


def _agrees(document: ErpDocument, money: Money) -> bool:
    return document.amount == money.amount and document.currency == money.currency


def _shown(documents: Iterable[ErpDocument]) -> str:
    return ", ".join(f"{d.number} {summary(d).amount or '(none)'} {d.currency}".rstrip() for d in documents)


def _q2c(money: Money) -> str:
    return f"{format(money.amount, 'f')} {money.currency}"


def find_mismatches(
    books: Books,
    erp_invoices: Sequence[ErpDocument],
    erp_payments: Sequence[ErpDocument],
    tenant_engagements: set[str],
    as_of: datetime,
    grace: timedelta,
) -> list[Finding]:
    """Every mismatch, issued invoices first (by engagement, invoice), then unknown documents.

    `as_of` is when the ERP documents were read: what q2c issued, posted or recorded within
    `grace` before it (or after it) is still in flight, not missing.
    """
    invoices_by_id: dict[str, list[ErpDocument]] = defaultdict(list)
    for document in erp_invoices:
        invoices_by_id[document.invoice_id].append(document)
    payments_by_id: dict[tuple[str, str], list[ErpDocument]] = defaultdict(list)
    for document in erp_payments:
        payments_by_id[(document.invoice_id, document.payment_id)].append(document)
    cutoff = as_of - grace
    findings: list[Finding] = []
    for invoice in books.issued:
        documents = invoices_by_id.get(invoice.invoice_id, [])
        findings += _invoice_findings(invoice, documents, as_of, cutoff)
        for payment in invoice.payments:
            found = payments_by_id.get((invoice.invoice_id, payment.payment_id), [])
            findings += _payment_findings(invoice, payment, found, bool(documents), cutoff)
    findings += _unknown(books, erp_invoices, erp_payments, tenant_engagements)
    return findings


def _issued_no_later_than(invoice: Invoice) -> datetime:
    """An upper bound of the issue time (invoices keep no issue timestamp): its last change, or
    its first payment if earlier; erring late only ever delays a MISSING_IN_ERP finding."""
    return min([invoice.update_time, *(p.record_time for p in invoice.payments)])


def _posted_by(invoice: Invoice, as_of: datetime) -> bool:
    """q2c recorded the ERP's acknowledgement no later than `as_of` (so the ERP had it then)."""
    return bool(invoice.erp_document_number) and (invoice.post_time is None or invoice.post_time <= as_of)


def _invoice_findings(
    invoice: Invoice, documents: list[ErpDocument], as_of: datetime, cutoff: datetime
) -> list[Finding]:
    base = {"engagement_id": invoice.engagement_id, "invoice_id": invoice.invoice_id}
    total = invoice.total
    if not documents:
        if _posted_by(invoice, as_of):
            detail = f"q2c holds it POSTED as {invoice.erp_document_number}; the ERP has no document"
        elif _issued_no_later_than(invoice) <= cutoff:
            detail = "issued before the grace period began; the ERP has no document"
        else:
            return []  # still in flight to the ERP
        return [Finding(mismatch=M.MISSING_IN_ERP, q2c_amount=total, detail=detail, **base)]
    findings = []
    if len(documents) > 1:
        detail = f"{len(documents)} ERP documents name it: {_shown(documents)}"
        findings.append(
            Finding(
                mismatch=M.DUPLICATE_IN_ERP,
                q2c_amount=total,
                erp_documents=[summary(d) for d in documents],
                detail=detail,
                **base,
            )
        )
    differing = [d for d in documents if not _agrees(d, total)]
    if differing:
        detail = f"q2c total {_q2c(total)}; ERP {_shown(differing)}"
        findings.append(
            Finding(
                mismatch=M.AMOUNT_DIFFERS,
                q2c_amount=total,
                erp_documents=[summary(d) for d in differing],
                detail=detail,
                **base,
            )
        )
    return findings


def _payment_findings(
    invoice: Invoice, payment: Payment, documents: list[ErpDocument], invoice_in_erp: bool, cutoff: datetime
) -> list[Finding]:
    base = {
        "engagement_id": invoice.engagement_id,
        "invoice_id": invoice.invoice_id,
        "payment_id": payment.payment_id,
        "q2c_amount": payment.amount,
    }
    if not documents:
        if invoice_in_erp and payment.record_time <= cutoff:
            detail = f"payment {payment.payment_id} recorded before the grace period began; no ERP document"
            return [Finding(mismatch=M.PAYMENT_MISSING_IN_ERP, detail=detail, **base)]
        return []
    findings = []
    if len(documents) > 1:
        detail = f"{len(documents)} ERP documents name payment {payment.payment_id}: {_shown(documents)}"
        summaries = [summary(d) for d in documents]
        findings.append(Finding(mismatch=M.DUPLICATE_IN_ERP, erp_documents=summaries, detail=detail, **base))
    differing = [d for d in documents if not _agrees(d, payment.amount)]
    if differing:
        detail = f"payment {payment.payment_id}: q2c {_q2c(payment.amount)}; ERP {_shown(differing)}"
        summaries = [summary(d) for d in differing]
        findings.append(
            Finding(mismatch=M.PAYMENT_AMOUNT_DIFFERS, erp_documents=summaries, detail=detail, **base)
        )
    return findings


def _unknown(
    books: Books,
    erp_invoices: Sequence[ErpDocument],
    erp_payments: Sequence[ErpDocument],
    tenant_engagements: set[str],
) -> list[Finding]:
    """UNKNOWN_IN_Q2C, one per invoice (or payment) named, for documents this tenant owns."""
    issued = {i.invoice_id: i for i in books.issued}
    known_payments = {(i.invoice_id, p.payment_id) for i in books.issued for p in i.payments}
    groups: dict[tuple[str, str], list[ErpDocument]] = defaultdict(list)
    for document in erp_invoices:
        if document.invoice_id not in issued:
            groups[(document.invoice_id, "")].append(document)
    for document in erp_payments:
        if (document.invoice_id, document.payment_id) not in known_payments:
            groups[(document.invoice_id, document.payment_id)].append(document)
    findings = []
    for (invoice_id, payment_id), documents in sorted(groups.items()):
        owner = _owner(invoice_id, documents[0], issued, books.unissued, tenant_engagements)
        if owner is None:
            continue
        engagement_id, what = owner
        named = f"payment {payment_id} of invoice {invoice_id}" if payment_id else f"invoice {invoice_id}"
        detail = f"ERP {_shown(documents)} names {named}, which q2c {what}"
        findings.append(
            Finding(
                mismatch=M.UNKNOWN_IN_Q2C,
                engagement_id=engagement_id,
                invoice_id=invoice_id,
                payment_id=payment_id,
                erp_documents=[summary(d) for d in documents],
                detail=detail,
            )
        )
    return findings


def _owner(
    invoice_id: str,
    document: ErpDocument,
    issued: dict[str, Invoice],
    unissued: dict[str, Invoice],
    tenant_engagements: set[str],
) -> tuple[str, str] | None:
    """(engagement, what q2c has) when the tenant owns the document; None to skip it."""
    if not invoice_id:
        return None
    if invoice_id in issued:
        return issued[invoice_id].engagement_id, "has not recorded"
    if invoice_id in unissued:
        invoice = unissued[invoice_id]
        if invoice.state is InvoiceState.VOID:
            return None  # no credit-note operation in the ERP yet: its document stays
        return invoice.engagement_id, f"holds only as {invoice.state.value}"
    engagement_id = engagement_of(document)
    return (engagement_id, "does not have") if engagement_id in tenant_engagements else None
