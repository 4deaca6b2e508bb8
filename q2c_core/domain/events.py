"""Engagement events: past tense facts, the only thing the journal stores."""

from __future__ import annotations

from datetime import date
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
    """Time entries were submitted for approval."""

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
    """Expenses were submitted for approval."""

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
    | EngagementCancelled,
    Field(discriminator="type"),
]

EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)


def event_from_payload(payload: dict[str, object]) -> Event:
    """Rebuild an event from its stored JSON payload."""
    return EVENT_ADAPTER.validate_python(payload)


def event_to_payload(event: Event) -> dict[str, object]:
    """The JSON-able payload stored in the journal."""
    return event.model_dump(mode="json")
