"""The engagement aggregate's state and `evolve`: how each event changes it (pure)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from functools import singledispatch
from typing import Any

from q2c_core.domain import events as ev
from q2c_core.domain.base import Frozen
from q2c_core.domain.entities import (
    BusinessException,
    Contract,
    EngagementState,
    ExceptionState,
    Expense,
    FixedFeeTerms,
    GatedStep,
    ItemStatus,
    Milestone,
    MilestoneStatus,
    Severity,
    StaffingAssignment,
    TimeEntry,
)


class Engagement(Frozen):
    """Everything q2c knows about one engagement, rebuilt by folding its events."""

    engagement_id: str
    customer_id: str
    display_name: str
    opportunity_ref: str = ""
    service_line: str = ""
    expected_start_date: date | None = None
    start_date: date | None = None
    state: EngagementState = EngagementState.DRAFT
    held_from: EngagementState | None = None
    held_step: GatedStep | None = None
    contract: Contract | None = None
    project_template_id: str = ""
    staffing_plan: list[StaffingAssignment] = []
    time_entries: dict[str, TimeEntry] = {}
    expenses: dict[str, Expense] = {}
    milestones: dict[str, Milestone] = {}
    exceptions: dict[str, BusinessException] = {}
    version: int = 0
    create_time: datetime
    update_time: datetime

    def open_exceptions(self) -> list[BusinessException]:
        """Exceptions still waiting for resolution."""
        return [x for x in self.exceptions.values() if x.state is ExceptionState.OPEN]

    def open_blocking(self) -> list[BusinessException]:
        """Open exceptions that keep the engagement on hold."""
        return [x for x in self.open_exceptions() if x.severity is Severity.BLOCKING]


def evolve(state: Engagement | None, event: ev.Event, at: datetime) -> Engagement:
    """Apply one event recorded at `at`; the version counts events."""
    if state is None:
        if not isinstance(event, ev.EngagementCreated):
            raise ValueError(f"a journal must start with EngagementCreated, not {event.type}")
        return _created(event, at)
    changes = _apply(event, state, at)
    return state.model_copy(update={**changes, "version": state.version + 1, "update_time": at})


def fold(events: Iterable[tuple[ev.Event, datetime]], state: Engagement | None = None) -> Engagement | None:
    """Fold a journal (events with their times) into the state."""
    for event, at in events:
        state = evolve(state, event, at)
    return state


def _created(event: ev.EngagementCreated, at: datetime) -> Engagement:
    return Engagement(
        engagement_id=event.engagement_id,
        customer_id=event.customer_id,
        display_name=event.display_name,
        opportunity_ref=event.opportunity_ref,
        service_line=event.service_line,
        expected_start_date=event.expected_start_date,
        version=1,
        create_time=at,
        update_time=at,
    )


def _set_status(items: dict[str, Any], ids: list[str], at: datetime, **fields: Any) -> dict[str, Any]:
    updated = dict(items)
    for item_id in ids:
        updated[item_id] = updated[item_id].model_copy(update={**fields, "update_time": at})
    return updated


@singledispatch
def _apply(event: Any, state: Engagement, at: datetime) -> dict[str, Any]:
    raise TypeError(f"no evolve rule for {type(event).__name__}")


@_apply.register
def _(event: ev.EngagementCreated, state: Engagement, at: datetime) -> dict[str, Any]:
    raise ValueError("EngagementCreated can only start a journal")


@_apply.register
def _(event: ev.EngagementQualified, state: Engagement, at: datetime) -> dict[str, Any]:
    return {"state": EngagementState.QUALIFIED}


@_apply.register
def _(event: ev.EngagementWon, state: Engagement, at: datetime) -> dict[str, Any]:
    return {"state": EngagementState.WON, "service_line": event.service_line}


@_apply.register
def _(event: ev.BusinessExceptionRaised, state: Engagement, at: datetime) -> dict[str, Any]:
    return {"exceptions": {**state.exceptions, event.exception.exception_id: event.exception}}


@_apply.register
def _(event: ev.EngagementPutOnHold, state: Engagement, at: datetime) -> dict[str, Any]:
    return {"state": EngagementState.ON_HOLD, "held_from": event.held_from, "held_step": event.step}


@_apply.register
def _(event: ev.BusinessExceptionResolved, state: Engagement, at: datetime) -> dict[str, Any]:
    resolved = state.exceptions[event.exception_id].model_copy(
        update={
            "state": ExceptionState.RESOLVED,
            "resolution_note": event.resolution_note,
            "resolved_by": event.resolved_by,
            "resolve_time": at,
        }
    )
    return {"exceptions": {**state.exceptions, event.exception_id: resolved}}


@_apply.register
def _(event: ev.EngagementReleasedFromHold, state: Engagement, at: datetime) -> dict[str, Any]:
    return {"state": event.returned_to, "held_from": None, "held_step": None}


@_apply.register
def _(event: ev.ContractApproved, state: Engagement, at: datetime) -> dict[str, Any]:
    milestones = dict(state.milestones)
    for line in event.contract.billing_lines:
        if isinstance(line.terms, FixedFeeTerms):
            for spec in line.terms.milestones:
                milestones[spec.milestone_id] = Milestone(
                    milestone_id=spec.milestone_id,
                    billing_line_id=line.line_id,
                    display_name=spec.display_name,
                    amount=spec.amount,
                    due_date=spec.due_date,
                    update_time=at,
                )
    return {"state": EngagementState.CONTRACTED, "contract": event.contract, "milestones": milestones}


@_apply.register
def _(event: ev.EngagementActivated, state: Engagement, at: datetime) -> dict[str, Any]:
    return {
        "state": EngagementState.ACTIVE,
        "start_date": event.start_date,
        "project_template_id": event.project_template_id,
        "staffing_plan": event.staffing_plan,
    }


@_apply.register
def _(event: ev.TimeEntriesSubmitted, state: Engagement, at: datetime) -> dict[str, Any]:
    return {"time_entries": {**state.time_entries, **{e.entry_id: e for e in event.entries}}}


@_apply.register
def _(event: ev.TimeEntriesApproved, state: Engagement, at: datetime) -> dict[str, Any]:
    return {"time_entries": _set_status(state.time_entries, event.entry_ids, at, status=ItemStatus.APPROVED)}


@_apply.register
def _(event: ev.TimeEntriesRejected, state: Engagement, at: datetime) -> dict[str, Any]:
    entries = _set_status(
        state.time_entries, event.entry_ids, at, status=ItemStatus.REJECTED, rejection_reason=event.reason
    )
    return {"time_entries": entries}


@_apply.register
def _(event: ev.ExpensesSubmitted, state: Engagement, at: datetime) -> dict[str, Any]:
    return {"expenses": {**state.expenses, **{e.expense_id: e for e in event.expenses}}}


@_apply.register
def _(event: ev.ExpensesApproved, state: Engagement, at: datetime) -> dict[str, Any]:
    return {"expenses": _set_status(state.expenses, event.expense_ids, at, status=ItemStatus.APPROVED)}


@_apply.register
def _(event: ev.ExpensesRejected, state: Engagement, at: datetime) -> dict[str, Any]:
    expenses = _set_status(
        state.expenses, event.expense_ids, at, status=ItemStatus.REJECTED, rejection_reason=event.reason
    )
    return {"expenses": expenses}


@_apply.register
def _(event: ev.MilestoneCompleted, state: Engagement, at: datetime) -> dict[str, Any]:
    ms = _set_status(state.milestones, [event.milestone_id], at, status=MilestoneStatus.COMPLETED)
    return {"milestones": ms}


@_apply.register
def _(event: ev.MilestoneAccepted, state: Engagement, at: datetime) -> dict[str, Any]:
    ms = _set_status(state.milestones, [event.milestone_id], at, status=MilestoneStatus.ACCEPTED)
    return {"milestones": ms}


@_apply.register
def _(event: ev.MilestoneRejected, state: Engagement, at: datetime) -> dict[str, Any]:
    ms = _set_status(
        state.milestones,
        [event.milestone_id],
        at,
        status=MilestoneStatus.REJECTED,
        rejection_reason=event.reason,
    )
    return {"milestones": ms}


@_apply.register
def _(event: ev.EngagementCompleted, state: Engagement, at: datetime) -> dict[str, Any]:
    return {"state": EngagementState.COMPLETED}


@_apply.register
def _(event: ev.EngagementCancelled, state: Engagement, at: datetime) -> dict[str, Any]:
    return {"state": EngagementState.CANCELLED, "held_from": None, "held_step": None}
