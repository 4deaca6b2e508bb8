"""Engagement commands: imperative, validated on construction, decided by the aggregate."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from q2c_core.domain.base import Frozen
from q2c_core.domain.billing_commands import (
    AmendContract,
    GenerateInvoice,
    IssueInvoice,
    RaiseReconciliationMismatch,
    RecordInvoicePosting,
    RecordPayment,
    VoidInvoice,
)
from q2c_core.domain.entities import BillingLine, Identifier, StaffingAssignment, Text, check_contract_lines
from q2c_core.domain.limits import (
    MAX_BATCH,
    MAX_BILLING_LINES,
    MAX_NAME_LENGTH,
    MAX_REF_LENGTH,
    MAX_ROLE_LENGTH,
    MAX_STAFFING_ASSIGNMENTS,
    MAX_TEXT_LENGTH,
)
from q2c_core.domain.money import ExactDecimal, Money, check_currency

MAX_HOURS_PER_DAY = Decimal(24)

IdList = Annotated[list[Identifier], Field(min_length=1, max_length=MAX_BATCH)]


class CreateEngagement(Frozen):
    """Open an engagement from a won-able opportunity."""

    kind: Literal["CreateEngagement"] = "CreateEngagement"
    customer_id: Identifier
    display_name: str = Field(min_length=1, max_length=MAX_NAME_LENGTH)
    opportunity_ref: str = Field(default="", max_length=MAX_REF_LENGTH)
    expected_start_date: date | None = None
    service_line: str = Field(default="", max_length=MAX_REF_LENGTH)


class QualifyEngagement(Frozen):
    """Mark the opportunity as qualified."""

    kind: Literal["QualifyEngagement"] = "QualifyEngagement"
    comment: Text = ""


class CloseWonEngagement(Frozen):
    """Close the opportunity as won (gated by the close-won policy checks)."""

    kind: Literal["CloseWonEngagement"] = "CloseWonEngagement"
    comment: Text = ""


class ApproveContract(Frozen):
    """Approve contract revision 1 (gated by the contract policy checks)."""

    kind: Literal["ApproveContract"] = "ApproveContract"
    currency: str
    start_date: date
    end_date: date | None = None
    po_reference: str = Field(default="", max_length=MAX_REF_LENGTH)
    billing_lines: list[BillingLine] = Field(min_length=1, max_length=MAX_BILLING_LINES)
    comment: Text = ""

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        return check_currency(value)

    @model_validator(mode="after")
    def _consistent(self) -> ApproveContract:
        if self.end_date is not None and self.end_date < self.start_date:
            raise ValueError("end_date must not be before start_date")
        check_contract_lines(self.billing_lines)
        return self


class ActivateEngagement(Frozen):
    """Start delivery (gated by the activation policy checks)."""

    kind: Literal["ActivateEngagement"] = "ActivateEngagement"
    start_date: date | None = None
    project_template_id: str = Field(default="", max_length=128)
    staffing_plan: list[StaffingAssignment] = Field(default=[], max_length=MAX_STAFFING_ASSIGNMENTS)
    comment: Text = ""


class TimeEntryInput(Frozen):
    """One time entry as submitted."""

    entry_id: Identifier
    billing_line_id: Identifier
    person: str = Field(min_length=1, max_length=MAX_NAME_LENGTH)
    role: str = Field(min_length=1, max_length=MAX_ROLE_LENGTH)
    work_date: date
    hours: ExactDecimal
    description: Text = ""

    @field_validator("hours")
    @classmethod
    def _hours_in_a_day(cls, value: Decimal) -> Decimal:
        if value <= 0:
            raise ValueError("hours must be positive")
        if value > MAX_HOURS_PER_DAY:
            raise ValueError("hours must not exceed 24 in a day")
        if value.as_tuple().exponent < -2:  # type: ignore[operator]
            raise ValueError("hours have at most 2 decimal places")
        return value


class SubmitTimeEntries(Frozen):
    """Submit a batch of time entries for approval."""

    kind: Literal["SubmitTimeEntries"] = "SubmitTimeEntries"
    entries: list[TimeEntryInput] = Field(min_length=1, max_length=MAX_BATCH)


class ApproveTimeEntries(Frozen):
    """Approve submitted time entries."""

    kind: Literal["ApproveTimeEntries"] = "ApproveTimeEntries"
    entry_ids: IdList
    comment: Text = ""


class RejectTimeEntries(Frozen):
    """Reject submitted time entries with a reason."""

    kind: Literal["RejectTimeEntries"] = "RejectTimeEntries"
    entry_ids: IdList
    reason: str = Field(min_length=1, max_length=MAX_TEXT_LENGTH)


class ExpenseInput(Frozen):
    """One expense as submitted."""

    expense_id: Identifier
    billing_line_id: Identifier
    category: str = Field(min_length=1, max_length=MAX_REF_LENGTH)
    incurred_date: date
    amount: Money
    description: Text = ""

    @field_validator("amount")
    @classmethod
    def _positive(cls, value: Money) -> Money:
        if value.amount <= 0:
            raise ValueError("expense amount must be positive")
        return value


class SubmitExpenses(Frozen):
    """Submit a batch of expenses for approval."""

    kind: Literal["SubmitExpenses"] = "SubmitExpenses"
    expenses: list[ExpenseInput] = Field(min_length=1, max_length=MAX_BATCH)


class ApproveExpenses(Frozen):
    """Approve submitted expenses."""

    kind: Literal["ApproveExpenses"] = "ApproveExpenses"
    expense_ids: IdList
    comment: Text = ""


class RejectExpenses(Frozen):
    """Reject submitted expenses with a reason."""

    kind: Literal["RejectExpenses"] = "RejectExpenses"
    expense_ids: IdList
    reason: str = Field(min_length=1, max_length=MAX_TEXT_LENGTH)


class CompleteMilestone(Frozen):
    """Delivery says the milestone is done."""

    kind: Literal["CompleteMilestone"] = "CompleteMilestone"
    milestone_id: Identifier
    comment: Text = ""


class AcceptMilestone(Frozen):
    """The customer accepts a completed milestone (it becomes billable)."""

    kind: Literal["AcceptMilestone"] = "AcceptMilestone"
    milestone_id: Identifier
    comment: Text = ""


class RejectMilestone(Frozen):
    """The customer rejects a completed milestone; delivery reworks it."""

    kind: Literal["RejectMilestone"] = "RejectMilestone"
    milestone_id: Identifier
    reason: str = Field(min_length=1, max_length=MAX_TEXT_LENGTH)


class CompleteEngagement(Frozen):
    """Delivery is finished; the engagement closes once every invoice is settled."""

    kind: Literal["CompleteEngagement"] = "CompleteEngagement"
    comment: Text = ""


class CancelEngagement(Frozen):
    """Cancel an open engagement."""

    kind: Literal["CancelEngagement"] = "CancelEngagement"
    reason: str = Field(min_length=1, max_length=MAX_TEXT_LENGTH)


class Resolution(StrEnum):
    """How an exception is resolved; RELEASE / WRITE_OFF apply to not-to-exceed cap holds."""

    RESOLVE = "RESOLVE"
    RELEASE = "RELEASE"
    WRITE_OFF = "WRITE_OFF"


class ResolveException(Frozen):
    """Resolve a business exception raised on this engagement."""

    kind: Literal["ResolveException"] = "ResolveException"
    exception_id: Identifier
    resolution_note: str = Field(min_length=1, max_length=MAX_TEXT_LENGTH)
    resolution: Resolution = Resolution.RESOLVE


Command = Annotated[
    CreateEngagement
    | QualifyEngagement
    | CloseWonEngagement
    | ApproveContract
    | ActivateEngagement
    | SubmitTimeEntries
    | ApproveTimeEntries
    | RejectTimeEntries
    | SubmitExpenses
    | ApproveExpenses
    | RejectExpenses
    | CompleteMilestone
    | AcceptMilestone
    | RejectMilestone
    | CompleteEngagement
    | CancelEngagement
    | ResolveException
    | GenerateInvoice
    | IssueInvoice
    | RecordPayment
    | VoidInvoice
    | AmendContract
    | RecordInvoicePosting
    | RaiseReconciliationMismatch,
    Field(discriminator="kind"),
]

COMMAND_TYPES: tuple[str, ...] = (
    "CreateEngagement",
    "QualifyEngagement",
    "CloseWonEngagement",
    "ApproveContract",
    "ActivateEngagement",
    "SubmitTimeEntries",
    "ApproveTimeEntries",
    "RejectTimeEntries",
    "SubmitExpenses",
    "ApproveExpenses",
    "RejectExpenses",
    "CompleteMilestone",
    "AcceptMilestone",
    "RejectMilestone",
    "CompleteEngagement",
    "CancelEngagement",
    "ResolveException",
    "GenerateInvoice",
    "IssueInvoice",
    "RecordPayment",
    "VoidInvoice",
    "AmendContract",
    "RecordInvoicePosting",
    "RaiseReconciliationMismatch",
)


def command_comment(command: Frozen) -> str:
    """The human reason or comment a command carries, for the audit log."""
    fields = command.__dict__  # getattr's default costs a raised AttributeError per missing name
    for name in ("comment", "reason", "resolution_note"):
        value = fields.get(name)
        if value:
            return str(value)
    return ""


__all__ = [
    "MAX_BATCH",
    "AmendContract",
    "Command",
    "GenerateInvoice",
    "IssueInvoice",
    "Money",
    "RaiseReconciliationMismatch",
    "RecordInvoicePosting",
    "RecordPayment",
    "Text",
    "VoidInvoice",
]
