"""Billing commands: generate, issue, pay and void invoices, amend the contract, and the ERP's
acknowledgements and reconciliation findings.

Part of the `Command` union in `commands`, which re-exports them.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field, field_validator, model_validator

from q2c_core.domain.base import Frozen
from q2c_core.domain.entities import BillingLine, Identifier, Text, check_contract_lines
from q2c_core.domain.invoices import ReconciliationMismatch
from q2c_core.domain.limits import MAX_BILLING_LINES, MAX_REF_LENGTH
from q2c_core.domain.money import Money
from q2c_core.domain.periods import BillingPeriod


class GenerateInvoice(Frozen):
    """Invoice everything billable for the period (a bill run sets bill_run_id)."""

    kind: Literal["GenerateInvoice"] = "GenerateInvoice"
    period: BillingPeriod
    bill_run_id: str = Field(default="", max_length=128)
    comment: Text = ""


class IssueInvoice(Frozen):
    """DRAFT -> ISSUED: the invoice becomes immutable and due."""

    kind: Literal["IssueInvoice"] = "IssueInvoice"
    invoice_id: Identifier
    comment: Text = ""


class RecordPayment(Frozen):
    """Money received against an issued invoice."""

    kind: Literal["RecordPayment"] = "RecordPayment"
    invoice_id: Identifier
    amount: Money
    received_date: date
    reference: str = Field(default="", max_length=200)

    @field_validator("amount")
    @classmethod
    def _positive(cls, value: Money) -> Money:
        if value.amount <= 0:
            raise ValueError("payment amount must be positive")
        return value


class VoidInvoice(Frozen):
    """Cancel an unpaid invoice with a credit note; its items can be billed again."""

    kind: Literal["VoidInvoice"] = "VoidInvoice"
    invoice_id: Identifier
    reason: str = Field(min_length=1, max_length=2000)


class RecordInvoicePosting(Frozen):
    """The ERP acknowledged an issued invoice under its own document number (internal, no RPC)."""

    kind: Literal["RecordInvoicePosting"] = "RecordInvoicePosting"
    engagement_id: Identifier  # the envelope's: the ERP integration's payload names it too
    invoice_id: Identifier
    erp_document_number: str = Field(min_length=1, max_length=64)

    @field_validator("erp_document_number")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("erp_document_number must not be blank")
        return value


class RaiseReconciliationMismatch(Frozen):
    """ERP reconciliation found the books disagree: a REVIEW exception for finance (internal)."""

    kind: Literal["RaiseReconciliationMismatch"] = "RaiseReconciliationMismatch"
    engagement_id: Identifier  # the envelope's, as in RecordInvoicePosting
    invoice_id: Identifier
    mismatch: ReconciliationMismatch
    detail: str = Field(min_length=1, max_length=1000)
    reconciliation_id: Identifier


class AmendContract(Frozen):
    """A change order: a new contract revision, effective from a date."""

    kind: Literal["AmendContract"] = "AmendContract"
    effective_date: date
    billing_lines: list[BillingLine] = Field(min_length=1, max_length=MAX_BILLING_LINES)
    po_reference: str | None = Field(default=None, max_length=MAX_REF_LENGTH)
    comment: Text = ""

    @model_validator(mode="after")
    def _unique_lines(self) -> AmendContract:
        check_contract_lines(self.billing_lines)
        return self
