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
from q2c_core.domain.invoices import Invoice, InvoiceState, LineSource


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
    contract_revisions: list[Contract] = []
    invoices: dict[str, Invoice] = {}
    invoiced_periods: dict[str, str] = {}  # period key -> invoice id (released by a void)
    billed_recurring: dict[str, str] = {}  # "<line>:<period start>" -> invoice id
    completed_on: date | None = None
    version: int = 0
    create_time: datetime
    update_time: datetime

    def open_exceptions(self) -> list[BusinessException]:
        """Exceptions still waiting for resolution."""
        return [x for x in self.exceptions.values() if x.state is ExceptionState.OPEN]

    def open_blocking(self) -> list[BusinessException]:
        """Open exceptions that keep the engagement on hold."""
        return [x for x in self.open_exceptions() if x.severity is Severity.BLOCKING]

    def contract_on(self, day: date) -> Contract | None:
        """The contract revision whose terms apply to work done on the day."""
        revisions = self.contract_revisions or ([self.contract] if self.contract else [])
        applicable = [c for c in revisions if c.effective <= day]
        return applicable[-1] if applicable else (revisions[0] if revisions else None)


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


@_apply.register
def _(event: ev.ContractApproved, state: Engagement, at: datetime) -> dict[str, Any]:
    return {
        "state": EngagementState.CONTRACTED,
        "contract": event.contract,
        "contract_revisions": [event.contract],
        "milestones": _planned_milestones(state, event.contract, at),
    }


@_apply.register
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
            kept[milestone_id] = milestone.model_copy(
                update={
                    "billing_line_id": line_id,
                    "display_name": spec.display_name,
                    "amount": spec.amount,
                    "due_date": spec.due_date,
                    "update_time": at,
                }
            )
    return _planned_milestones(state.model_copy(update={"milestones": kept}), contract, at)


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
    return {"state": EngagementState.COMPLETED, "completed_on": at.date()}


@_apply.register
def _(event: ev.EngagementClosed, state: Engagement, at: datetime) -> dict[str, Any]:
    return {"state": EngagementState.CLOSED}


@_apply.register
def _(event: ev.EngagementCancelled, state: Engagement, at: datetime) -> dict[str, Any]:
    return {"state": EngagementState.CANCELLED, "held_from": None, "held_step": None}


@_apply.register
def _(event: ev.TimeEntriesHeldAtCap, state: Engagement, at: datetime) -> dict[str, Any]:
    return {
        "time_entries": _set_status(state.time_entries, event.entry_ids, at, status=ItemStatus.HELD_AT_CAP)
    }


@_apply.register
def _(event: ev.TimeEntriesReleasedFromCap, state: Engagement, at: datetime) -> dict[str, Any]:
    entries = _set_status(
        state.time_entries, event.entry_ids, at, status=ItemStatus.APPROVED, cap_override=True
    )
    return {"time_entries": entries}


@_apply.register
def _(event: ev.TimeEntriesWrittenOff, state: Engagement, at: datetime) -> dict[str, Any]:
    return {
        "time_entries": _set_status(state.time_entries, event.entry_ids, at, status=ItemStatus.WRITTEN_OFF)
    }


@_apply.register
def _(event: ev.InvoiceGenerated, state: Engagement, at: datetime) -> dict[str, Any]:
    invoice = event.invoice
    ids = billed_sources(invoice)
    billed = {"status": ItemStatus.BILLED, "invoice_id": invoice.invoice_id}
    return {
        "invoices": {**state.invoices, invoice.invoice_id: invoice},
        "invoiced_periods": {**state.invoiced_periods, invoice.period.key: invoice.invoice_id},
        "billed_recurring": {
            **state.billed_recurring,
            **dict.fromkeys(event.recurring_keys, invoice.invoice_id),
        },
        "time_entries": _set_status(state.time_entries, ids[LineSource.TIME_ENTRY], at, **billed),
        "expenses": _set_status(state.expenses, ids[LineSource.EXPENSE], at, **billed),
        "milestones": _set_status(
            state.milestones, ids[LineSource.MILESTONE], at, invoice_id=invoice.invoice_id
        ),
    }


@_apply.register
def _(event: ev.InvoiceIssued, state: Engagement, at: datetime) -> dict[str, Any]:
    return _invoice_update(
        state,
        event.invoice_id,
        at,
        state=InvoiceState.ISSUED,
        issue_date=event.issue_date,
        due_date=event.due_date,
    )


@_apply.register
def _(event: ev.PaymentRecorded, state: Engagement, at: datetime) -> dict[str, Any]:
    invoice = state.invoices[event.invoice_id]
    paid = invoice.amount_paid + event.payment.amount
    settled = InvoiceState.PAID if paid.amount >= invoice.total.amount else InvoiceState.PARTIALLY_PAID
    return _invoice_update(
        state,
        event.invoice_id,
        at,
        amount_paid=paid,
        state=settled,
        payments=[*invoice.payments, event.payment],
    )


@_apply.register
def _(event: ev.InvoiceVoided, state: Engagement, at: datetime) -> dict[str, Any]:
    invoice = state.invoices[event.invoice_id]
    ids = billed_sources(invoice)
    released = {"status": ItemStatus.APPROVED, "invoice_id": ""}
    periods = {k: v for k, v in state.invoiced_periods.items() if v != invoice.invoice_id}
    recurring = {k: v for k, v in state.billed_recurring.items() if v != invoice.invoice_id}
    return {
        **_invoice_update(
            state, event.invoice_id, at, state=InvoiceState.VOID, credit_note=event.credit_note
        ),
        "invoiced_periods": periods,
        "billed_recurring": recurring,
        "time_entries": _set_status(state.time_entries, ids[LineSource.TIME_ENTRY], at, **released),
        "expenses": _set_status(state.expenses, ids[LineSource.EXPENSE], at, **released),
        "milestones": _set_status(state.milestones, ids[LineSource.MILESTONE], at, invoice_id=""),
    }


def billed_sources(invoice: Invoice) -> dict[LineSource, list[str]]:
    """The ids of the items an invoice bills, by source kind."""
    ids: dict[LineSource, list[str]] = {source: [] for source in LineSource}
    for line in invoice.lines:
        ids[line.source].append(line.source_id)
    return ids


def _invoice_update(engagement: Engagement, invoice_id: str, at: datetime, **fields: Any) -> dict[str, Any]:
    updated = engagement.invoices[invoice_id].model_copy(update={**fields, "update_time": at})
    return {"invoices": {**engagement.invoices, invoice_id: updated}}
