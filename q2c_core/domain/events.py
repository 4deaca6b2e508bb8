"""Engagement events: past tense facts, the only thing the journal stores."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import Field, TypeAdapter

from q2c_core.domain.base import Frozen
from q2c_core.domain.entities import (
    BusinessException,
    Contract,
    EngagementState,
    Expense,
    GatedStep,
    StaffingAssignment,
    TimeEntry,
)
from q2c_core.domain.invoices import CreditNote, Invoice, Payment


class EngagementCreated(Frozen):
    """An engagement was opened from an opportunity."""

    type: Literal["EngagementCreated"] = "EngagementCreated"
    engagement_id: str
    customer_id: str
    display_name: str
    opportunity_ref: str
    expected_start_date: date | None
    service_line: str


class EngagementQualified(Frozen):
    """The opportunity was qualified."""

    type: Literal["EngagementQualified"] = "EngagementQualified"


class EngagementWon(Frozen):
    """The opportunity was closed as won."""

    type: Literal["EngagementWon"] = "EngagementWon"
    service_line: str


class BusinessExceptionRaised(Frozen):
    """A policy check failed (or auto-corrected) and was queued for operations."""

    type: Literal["BusinessExceptionRaised"] = "BusinessExceptionRaised"
    exception: BusinessException


class EngagementPutOnHold(Frozen):
    """A blocking check stopped a gated step; the engagement waits for resolution."""

    type: Literal["EngagementPutOnHold"] = "EngagementPutOnHold"
    step: GatedStep
    held_from: EngagementState


class BusinessExceptionResolved(Frozen):
    """Someone resolved a business exception."""

    type: Literal["BusinessExceptionResolved"] = "BusinessExceptionResolved"
    exception_id: str
    resolution_note: str
    resolved_by: str


class EngagementReleasedFromHold(Frozen):
    """The last blocking exception was resolved; the engagement is back where it was."""

    type: Literal["EngagementReleasedFromHold"] = "EngagementReleasedFromHold"
    returned_to: EngagementState


class ContractApproved(Frozen):
    """A contract revision was approved."""

    type: Literal["ContractApproved"] = "ContractApproved"
    contract: Contract


class EngagementActivated(Frozen):
    """Delivery started."""

    type: Literal["EngagementActivated"] = "EngagementActivated"
    start_date: date
    project_template_id: str
    staffing_plan: list[StaffingAssignment]


class TimeEntriesSubmitted(Frozen):
    """Time entries were submitted for approval (each entry names its submitter, submitted_by)."""

    type: Literal["TimeEntriesSubmitted"] = "TimeEntriesSubmitted"
    entries: list[TimeEntry]


class TimeEntriesApproved(Frozen):
    """Time entries were approved (and became billable)."""

    type: Literal["TimeEntriesApproved"] = "TimeEntriesApproved"
    entry_ids: list[str]


class TimeEntriesRejected(Frozen):
    """Time entries were rejected."""

    type: Literal["TimeEntriesRejected"] = "TimeEntriesRejected"
    entry_ids: list[str]
    reason: str


class ExpensesSubmitted(Frozen):
    """Expenses were submitted for approval (each expense names its submitter, submitted_by)."""

    type: Literal["ExpensesSubmitted"] = "ExpensesSubmitted"
    expenses: list[Expense]


class ExpensesApproved(Frozen):
    """Expenses were approved (and became billable)."""

    type: Literal["ExpensesApproved"] = "ExpensesApproved"
    expense_ids: list[str]


class ExpensesRejected(Frozen):
    """Expenses were rejected."""

    type: Literal["ExpensesRejected"] = "ExpensesRejected"
    expense_ids: list[str]
    reason: str


class MilestoneCompleted(Frozen):
    """Delivery completed a milestone."""

    type: Literal["MilestoneCompleted"] = "MilestoneCompleted"
    milestone_id: str


class MilestoneAccepted(Frozen):
    """The customer accepted a milestone (it became billable)."""

    type: Literal["MilestoneAccepted"] = "MilestoneAccepted"
    milestone_id: str


class MilestoneRejected(Frozen):
    """The customer rejected a milestone."""

    type: Literal["MilestoneRejected"] = "MilestoneRejected"
    milestone_id: str
    reason: str


class EngagementCompleted(Frozen):
    """Delivery finished."""

    type: Literal["EngagementCompleted"] = "EngagementCompleted"


class EngagementCancelled(Frozen):
    """The engagement was cancelled."""

    type: Literal["EngagementCancelled"] = "EngagementCancelled"
    reason: str


class InvoiceGenerated(Frozen):
    """A draft invoice billed these items; each is now billed exactly once."""

    type: Literal["InvoiceGenerated"] = "InvoiceGenerated"
    invoice: Invoice
    recurring_keys: list[str] = []


class TimeEntriesHeldAtCap(Frozen):
    """Approved hours over the not-to-exceed cap wait for an approver."""

    type: Literal["TimeEntriesHeldAtCap"] = "TimeEntriesHeldAtCap"
    entry_ids: list[str]


class TimeEntriesReleasedFromCap(Frozen):
    """An approver released held hours: they bill in the next invoice, above the cap."""

    type: Literal["TimeEntriesReleasedFromCap"] = "TimeEntriesReleasedFromCap"
    entry_ids: list[str]


class TimeEntriesWrittenOff(Frozen):
    """An approver wrote held hours off: they are never billed."""

    type: Literal["TimeEntriesWrittenOff"] = "TimeEntriesWrittenOff"
    entry_ids: list[str]


class InvoiceIssued(Frozen):
    """The invoice was issued and is now immutable and due."""

    type: Literal["InvoiceIssued"] = "InvoiceIssued"
    invoice_id: str
    issue_date: date
    due_date: date


class PaymentRecorded(Frozen):
    """A payment was received against an invoice."""

    type: Literal["PaymentRecorded"] = "PaymentRecorded"
    invoice_id: str
    payment: Payment


class InvoiceVoided(Frozen):
    """The invoice was voided (with a credit note if it had been issued); its items are released."""

    type: Literal["InvoiceVoided"] = "InvoiceVoided"
    invoice_id: str
    reason: str
    credit_note: CreditNote | None = None


class InvoicePosted(Frozen):
    """The ERP acknowledged the invoice under its document number (an ISSUED one becomes POSTED)."""

    type: Literal["InvoicePosted"] = "InvoicePosted"
    invoice_id: str
    erp_document_number: str
    post_time: datetime


class ContractAmended(Frozen):
    """A change order created a new contract revision."""

    type: Literal["ContractAmended"] = "ContractAmended"
    contract: Contract


class EngagementClosed(Frozen):
    """Delivery complete and every invoice paid or void."""

    type: Literal["EngagementClosed"] = "EngagementClosed"


Event = Annotated[
    EngagementCreated
    | EngagementQualified
    | EngagementWon
    | BusinessExceptionRaised
    | EngagementPutOnHold
    | BusinessExceptionResolved
    | EngagementReleasedFromHold
    | ContractApproved
    | EngagementActivated
    | TimeEntriesSubmitted
    | TimeEntriesApproved
    | TimeEntriesRejected
    | ExpensesSubmitted
    | ExpensesApproved
    | ExpensesRejected
    | MilestoneCompleted
    | MilestoneAccepted
    | MilestoneRejected
    | EngagementCompleted
    | EngagementCancelled
    | InvoiceGenerated
    | TimeEntriesHeldAtCap
    | TimeEntriesReleasedFromCap
    | TimeEntriesWrittenOff
    | InvoiceIssued
    | PaymentRecorded
    | InvoiceVoided
    | ContractAmended
    | EngagementClosed
    | InvoicePosted,
    Field(discriminator="type"),
]

EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)


def event_from_payload(payload: dict[str, object]) -> Event:
    """Rebuild an event from its stored JSON payload."""
    return EVENT_ADAPTER.validate_python(payload)


def event_to_payload(event: Event) -> dict[str, object]:
    """The JSON-able payload stored in the journal."""
    return event.model_dump(mode="json")
