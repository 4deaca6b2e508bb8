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
    GatedStep,
    Milestone,
    Severity,
    StaffingAssignment,
    TimeEntry,
)
from q2c_core.domain.invoices import Invoice, LineSource


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
    changes = apply_event(event, state, at)
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


def set_status(items: dict[str, Any], ids: list[str], at: datetime, **fields: Any) -> dict[str, Any]:
    """Copies of the items with these ids, the fields set and `update_time` at `at`."""
    updated = dict(items)
    for item_id in ids:
        updated[item_id] = updated[item_id].model_copy(update={**fields, "update_time": at})
    return updated


@singledispatch
def apply_event(event: Any, state: Engagement, at: datetime) -> dict[str, Any]:
    """The state fields one event changes (a rule per event type, registered by the rule modules)."""
    raise TypeError(f"no evolve rule for {type(event).__name__}")


def billed_sources(invoice: Invoice) -> dict[LineSource, list[str]]:
    """The ids of the items an invoice bills, by source kind."""
    ids: dict[LineSource, list[str]] = {source: [] for source in LineSource}
    for line in invoice.lines:
        ids[line.source].append(line.source_id)
    return ids


# The rule modules register on `apply_event` as they are imported. Importing them last, once
# everything they take from here is defined, puts every rule in place wherever `evolve` is.
from q2c_core.domain import evolve_billing, evolve_lifecycle  # noqa: E402, F401
