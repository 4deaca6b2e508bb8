"""How lifecycle, exception, contract and delivery-item events change an engagement (pure).

Each rule is filed in this module's RULES table under its event type; q2c_core.domain.evolve
merges the tables explicitly.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from q2c_core.domain import events as ev
from q2c_core.domain.base import replaced
from q2c_core.domain.engagement import Engagement, rule_table, set_status
from q2c_core.domain.entities import (
    Contract,
    EngagementState,
    ExceptionState,
    FixedFeeTerms,
    ItemStatus,
    Milestone,
    MilestoneStatus,
)

RULES, rule = rule_table()
"""This module's evolve rules by event type (merged in q2c_core.domain.evolve)."""


@rule
def _(event: ev.EngagementCreated, state: Engagement, at: datetime) -> dict[str, Any]:
    raise ValueError("EngagementCreated can only start a journal")


@rule
def _(event: ev.EngagementQualified, state: Engagement, at: datetime) -> dict[str, Any]:
    return {"state": EngagementState.QUALIFIED}


@rule
def _(event: ev.EngagementWon, state: Engagement, at: datetime) -> dict[str, Any]:
    return {"state": EngagementState.WON, "service_line": event.service_line}


@rule
def _(event: ev.BusinessExceptionRaised, state: Engagement, at: datetime) -> dict[str, Any]:
    return {"exceptions": {**state.exceptions, event.exception.exception_id: event.exception}}


@rule
def _(event: ev.EngagementPutOnHold, state: Engagement, at: datetime) -> dict[str, Any]:
    return {"state": EngagementState.ON_HOLD, "held_from": event.held_from, "held_step": event.step}


@rule
def _(event: ev.BusinessExceptionResolved, state: Engagement, at: datetime) -> dict[str, Any]:
    resolved = replaced(
        state.exceptions[event.exception_id],
        {
            "state": ExceptionState.RESOLVED,
            "resolution_note": event.resolution_note,
            "resolved_by": event.resolved_by,
            "resolve_time": at,
        },
    )
    return {"exceptions": {**state.exceptions, event.exception_id: resolved}}


@rule
def _(event: ev.EngagementReleasedFromHold, state: Engagement, at: datetime) -> dict[str, Any]:
    return {"state": event.returned_to, "held_from": None, "held_step": None}


def _planned_milestones(state: Engagement, contract: Contract, at: datetime) -> dict[str, Milestone]:
    """The contract's fixed-fee milestones, adding the new ones as PLANNED."""
    milestones = dict(state.milestones)
    for line in contract.billing_lines:
        if isinstance(line.terms, FixedFeeTerms):
            for spec in line.terms.milestones:
                if spec.milestone_id in milestones:
                    continue
                milestones[spec.milestone_id] = Milestone(
                    milestone_id=spec.milestone_id,
                    billing_line_id=line.line_id,
                    display_name=spec.display_name,
                    amount=spec.amount,
                    due_date=spec.due_date,
                    update_time=at,
                )
    return milestones


@rule
def _(event: ev.ContractApproved, state: Engagement, at: datetime) -> dict[str, Any]:
    return {
        "state": EngagementState.CONTRACTED,
        "contract": event.contract,
        "contract_revisions": [event.contract],
        "milestones": _planned_milestones(state, event.contract, at),
    }


@rule
def _(event: ev.ContractAmended, state: Engagement, at: datetime) -> dict[str, Any]:
    return {
        "contract": event.contract,
        "contract_revisions": [*state.contract_revisions, event.contract],
        "milestones": _amended_milestones(state, event.contract, at),
    }


def _amended_milestones(state: Engagement, contract: Contract, at: datetime) -> dict[str, Milestone]:
    """New specs plan milestones; open ones follow their spec or go; accepted or billed ones stay."""
    specs = {
        spec.milestone_id: (line.line_id, spec)
        for line in contract.billing_lines
        if isinstance(line.terms, FixedFeeTerms)
        for spec in line.terms.milestones
    }
    kept: dict[str, Milestone] = {}
    for milestone_id, milestone in state.milestones.items():
        locked = milestone.status is MilestoneStatus.ACCEPTED or milestone.invoice_id
        if locked:
            kept[milestone_id] = milestone
        elif milestone_id in specs:
            line_id, spec = specs[milestone_id]
            kept[milestone_id] = replaced(
                milestone,
                {
                    "billing_line_id": line_id,
                    "display_name": spec.display_name,
                    "amount": spec.amount,
                    "due_date": spec.due_date,
                    "update_time": at,
                },
            )
    return _planned_milestones(replaced(state, {"milestones": kept}), contract, at)


@rule
def _(event: ev.EngagementActivated, state: Engagement, at: datetime) -> dict[str, Any]:
    return {
        "state": EngagementState.ACTIVE,
        "start_date": event.start_date,
        "project_template_id": event.project_template_id,
        "staffing_plan": event.staffing_plan,
    }


@rule
def _(event: ev.TimeEntriesSubmitted, state: Engagement, at: datetime) -> dict[str, Any]:
    return {"time_entries": {**state.time_entries, **{e.entry_id: e for e in event.entries}}}


@rule
def _(event: ev.TimeEntriesApproved, state: Engagement, at: datetime) -> dict[str, Any]:
    return {"time_entries": set_status(state.time_entries, event.entry_ids, at, status=ItemStatus.APPROVED)}


@rule
def _(event: ev.TimeEntriesRejected, state: Engagement, at: datetime) -> dict[str, Any]:
    entries = set_status(
        state.time_entries, event.entry_ids, at, status=ItemStatus.REJECTED, rejection_reason=event.reason
    )
    return {"time_entries": entries}


@rule
def _(event: ev.ExpensesSubmitted, state: Engagement, at: datetime) -> dict[str, Any]:
    return {"expenses": {**state.expenses, **{e.expense_id: e for e in event.expenses}}}


@rule
def _(event: ev.ExpensesApproved, state: Engagement, at: datetime) -> dict[str, Any]:
    return {"expenses": set_status(state.expenses, event.expense_ids, at, status=ItemStatus.APPROVED)}


@rule
def _(event: ev.ExpensesRejected, state: Engagement, at: datetime) -> dict[str, Any]:
    expenses = set_status(
        state.expenses, event.expense_ids, at, status=ItemStatus.REJECTED, rejection_reason=event.reason
    )
    return {"expenses": expenses}


@rule
def _(event: ev.MilestoneCompleted, state: Engagement, at: datetime) -> dict[str, Any]:
    ms = set_status(state.milestones, [event.milestone_id], at, status=MilestoneStatus.COMPLETED)
    return {"milestones": ms}


@rule
def _(event: ev.MilestoneAccepted, state: Engagement, at: datetime) -> dict[str, Any]:
    ms = set_status(state.milestones, [event.milestone_id], at, status=MilestoneStatus.ACCEPTED)
    return {"milestones": ms}


@rule
def _(event: ev.MilestoneRejected, state: Engagement, at: datetime) -> dict[str, Any]:
    ms = set_status(
        state.milestones,
        [event.milestone_id],
        at,
        status=MilestoneStatus.REJECTED,
        rejection_reason=event.reason,
    )
    return {"milestones": ms}


@rule
def _(event: ev.EngagementCompleted, state: Engagement, at: datetime) -> dict[str, Any]:
    return {"state": EngagementState.COMPLETED, "completed_on": at.date()}


@rule
def _(event: ev.EngagementClosed, state: Engagement, at: datetime) -> dict[str, Any]:
    return {"state": EngagementState.CLOSED}


@rule
def _(event: ev.EngagementCancelled, state: Engagement, at: datetime) -> dict[str, Any]:
    return {"state": EngagementState.CANCELLED, "held_from": None, "held_step": None}
