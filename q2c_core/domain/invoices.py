"""Invoices and what hangs off them: lines traceable to their sources, tax, payments, credit notes."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from q2c_core.domain.base import Frozen
from q2c_core.domain.money import ExactDecimal, Money
from q2c_core.domain.periods import BillingPeriod


class InvoiceState(StrEnum):
    """DRAFT -> ISSUED -> POSTED -> PARTIALLY_PAID -> PAID, or VOID (with a credit note).

    POSTED: the ERP acknowledged the issued invoice; for payments and voids it is ISSUED.
    """

    DRAFT = "DRAFT"
    ISSUED = "ISSUED"
    POSTED = "POSTED"
    PARTIALLY_PAID = "PARTIALLY_PAID"
    PAID = "PAID"
    VOID = "VOID"


class LineSource(StrEnum):
    """What an invoice line bills."""

    TIME_ENTRY = "TIME_ENTRY"
    EXPENSE = "EXPENSE"
    MILESTONE = "MILESTONE"
    RETAINER = "RETAINER"
    SUBSCRIPTION = "SUBSCRIPTION"


class InvoiceLine(Frozen):
    """One billed unit: quantity x unit price, rounded by the named rule."""

    line_id: str
    source: LineSource
    source_id: str
    billing_line_id: str
    contract_revision: int
    description: str
    quantity: ExactDecimal
    unit_price: Money
    amount: Money
    rounding_rule: str
    service_period: BillingPeriod | None = None


class TaxDetail(Frozen):
    """Tax on the invoice subtotal, from the customer's tax profile at generation."""

    jurisdiction: str
    rate: ExactDecimal
    exempt: bool
    amount: Money
    rounding_rule: str


class Payment(Frozen):
    """Money received against an invoice."""

    payment_id: str
    amount: Money
    received_date: date
    reference: str = ""
    record_time: datetime


class CreditNote(Frozen):
    """The document that cancels an issued invoice."""

    credit_note_id: str
    amount: Money
    reason: str
    create_time: datetime


class Invoice(Frozen):
    """An invoice for one engagement and period; immutable once issued (void and re-bill)."""

    invoice_id: str
    engagement_id: str
    customer_id: str
    period: BillingPeriod
    state: InvoiceState = InvoiceState.DRAFT
    currency: str
    lines: list[InvoiceLine]
    subtotal: Money
    tax: TaxDetail
    total: Money
    amount_paid: Money
    payments: list[Payment] = []
    credit_note: CreditNote | None = None
    bill_run_id: str = ""
    po_reference: str = ""
    issue_date: date | None = None
    due_date: date | None = None
    erp_document_number: str = ""  # set by the ERP's acknowledgement (InvoicePosted)
    post_time: datetime | None = None
    create_time: datetime
    update_time: datetime

    @property
    def balance_due(self) -> Money:
        """What is still owed (zero once void)."""
        if self.state is InvoiceState.VOID:
            return Money.zero(self.currency)
        return self.total - self.amount_paid

    @property
    def settled(self) -> bool:
        """PAID or VOID: nothing more will happen to it."""
        return self.state in (InvoiceState.PAID, InvoiceState.VOID)


OPEN_ISSUED = (InvoiceState.ISSUED, InvoiceState.POSTED)
"""Issued and not yet paid or void: the states a payment or a void with a credit note start from."""


class ReconciliationMismatch(StrEnum):
    """How the ERP's books and q2c's disagree about an invoice or a payment."""

    MISSING_IN_ERP = "MISSING_IN_ERP"
    DUPLICATE_IN_ERP = "DUPLICATE_IN_ERP"
    AMOUNT_DIFFERS = "AMOUNT_DIFFERS"
    PAYMENT_MISSING_IN_ERP = "PAYMENT_MISSING_IN_ERP"
    PAYMENT_AMOUNT_DIFFERS = "PAYMENT_AMOUNT_DIFFERS"
    UNKNOWN_IN_Q2C = "UNKNOWN_IN_Q2C"  # an ERP document names an invoice or payment q2c lacks


ZERO = Decimal(0)
