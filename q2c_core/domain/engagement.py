"""The engagement aggregate's state and `evolve`: how each event changes it (pure)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any, get_type_hints

from q2c_core.domain import events as ev
from q2c_core.domain.base import Frozen, replaced, trusted
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
        if len(revisions) < 2:  # no change order: the one revision, whatever the day
            return revisions[0] if revisions else None
        applicable = [c for c in revisions if c.effective <= day]
        return applicable[-1] if applicable else revisions[0]


def created(event: ev.EngagementCreated, at: datetime) -> Engagement:
    """The engagement an EngagementCreated event starts (its fields were validated with it)."""
    return trusted(
        Engagement,
        {
            "engagement_id": event.engagement_id,
            "customer_id": event.customer_id,
            "display_name": event.display_name,
            "opportunity_ref": event.opportunity_ref,
            "service_line": event.service_line,
            "expected_start_date": event.expected_start_date,
            "version": 1,
            "create_time": at,
            "update_time": at,
        },
    )


def set_status(items: dict[str, Any], ids: list[str], at: datetime, **fields: Any) -> dict[str, Any]:
    """Copies of the items with these ids, the fields set and `update_time` at `at`."""
    updated = dict(items)
    changes = {**fields, "update_time": at}
    for item_id in ids:
        updated[item_id] = replaced(updated[item_id], changes)
    return updated


Rule = Callable[[Any, Engagement, datetime], dict[str, Any]]
"""An evolve rule: the state fields one event changes."""


def rule_table() -> tuple[dict[type[Any], Rule], Callable[[Rule], Rule]]:
    """An empty rule table and the decorator that files a rule under its event's type.

    Rule modules build their tables explicitly (`RULES, rule = rule_table()`); evolve.py merges
    them. No rule is registered by the side effect of an import.
    """
    table: dict[type[Any], Rule] = {}

    def rule(function: Rule) -> Rule:
        event_type = get_type_hints(function)["event"]
        if event_type in table:
            raise ValueError(f"two evolve rules for {event_type.__name__}")
        table[event_type] = function
        return function

    return table, rule


def billed_sources(invoice: Invoice) -> dict[LineSource, list[str]]:
    """The ids of the items an invoice bills, by source kind."""
    ids: dict[LineSource, list[str]] = {source: [] for source in LineSource}
    for line in invoice.lines:
        ids[line.source].append(line.source_id)
    return ids
