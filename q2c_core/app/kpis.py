"""Business KPIs folded from a tenant's event stream (definitions: docs/operations.md, "Business KPIs").

`KpiProjection` is fed stored events in position order and returns the samples each event
completes: quote-to-activation, billing-cycle and cash-application durations, invoice
exceptions and bill-run attempts. It keeps only what is still open, by engagement: won and not
yet activated, approved work not yet on an issued invoice, issued invoices not yet settled, and
the contract revisions that price unbilled work. `q2c_core.app.kpi_report` summarises the
samples that ended in a period; a metrics exporter can feed the same projection and observe
each sample as it comes.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from q2c_core.app.records import StoredEvent
from q2c_core.domain import events as ev
from q2c_core.domain.base import replaced, trusted
from q2c_core.domain.drafts import LINE_RULE
from q2c_core.domain.engagement import Engagement
from q2c_core.domain.entities import ExpenseTerms, FixedFeeTerms, GatedStep, TimeAndMaterialsTerms
from q2c_core.domain.invoices import LineSource
from q2c_core.domain.money import Money, derived_money
from q2c_core.domain.pricing import rate_on, terms_for
from q2c_core.domain.reference import RateCard

log = logging.getLogger(__name__)

BILL_RUN_REQUEST_PREFIX = "billrun:"
"""A bill run sends each engagement's GenerateInvoice as `billrun:<run>:<engagement>`
(q2c_core.app.billing.runner.run_envelopes)."""


class Kpi(StrEnum):
    """The timed KPIs."""

    QUOTE_TO_ACTIVATION = "quote_to_activation"
    BILLING_CYCLE = "billing_cycle"
    CASH_APPLICATION = "cash_application"


@dataclass(frozen=True, slots=True)
class DurationSample:
    """One timed KPI that ended at `at`: the engagement, the engagement's item
    ("TIME_ENTRY:T1") or invoice timed, and how long it took."""

    kpi: Kpi
    engagement_id: str
    subject: str
    duration: timedelta
    at: datetime


@dataclass(frozen=True, slots=True)
class InvoiceExceptionSample:
    """A business exception raised at the INVOICE step ("" bill_run_id: not by a bill run)."""

    engagement_id: str
    exception_id: str
    check: str
    bill_run_id: str
    at: datetime


@dataclass(frozen=True, slots=True)
class BillRunAttempt:
    """A bill run's GenerateInvoice changed an engagement: an invoice, an exception or held hours."""

    bill_run_id: str
    engagement_id: str
    at: datetime


Sample = DurationSample | InvoiceExceptionSample | BillRunAttempt
ItemKey = tuple[LineSource, str]
"""An engagement's billable item, as invoice lines name it (source, source_id)."""


@dataclass(frozen=True, slots=True)
class _Work:
    """What an approved item bills: hours in a role, or an amount, on a line and a day."""

    line_id: str
    day: date
    hours: Decimal = Decimal(0)
    role: str = ""
    amount: Money | None = None


@dataclass(slots=True)
class _Item:
    work: _Work
    approved_at: datetime | None  # None once the invoice billing it was issued (sampled)
    invoice_id: str = ""  # the live invoice that bills it
    held: bool = False  # HELD_AT_CAP: not billable until released


@dataclass(slots=True)
class _Invoice:
    items: list[ItemKey]
    total: Decimal
    paid: Decimal = Decimal(0)
    issued_at: datetime | None = None


@dataclass(slots=True)
class _Open:
    """What is still open on one engagement."""

    won_at: datetime | None = None
    pricing: Engagement | None = None  # only its contract revisions are set
    submitted: dict[ItemKey, _Work] = field(default_factory=dict)
    items: dict[ItemKey, _Item] = field(default_factory=dict)
    invoices: dict[str, _Invoice] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _At:
    """The stored event being folded: its engagement, time and bill run ("" when none)."""

    engagement_id: str
    at: datetime
    bill_run_id: str


Handler = Callable[[_Open, Any, _At], list[Sample]]


@dataclass(frozen=True, slots=True)
class Unbilled:
    """Approved, billable work on no live invoice: amounts by currency, and items with no price."""

    amounts: list[Money]
    unpriced_items: int


class KpiProjection:
    """Folds stored events (in position order) into KPI samples, keeping only open timers."""

    def __init__(self) -> None:
        self._open: dict[str, _Open] = {}
        self._last_command: tuple[str, str | None] | None = None
        self.unreadable = 0
        """Events that did not decode (logged and left out)."""

    def apply(self, stored: StoredEvent) -> list[Sample]:
        """The samples this event completes (none for events the KPIs do not follow)."""
        handler = _HANDLERS.get(stored.event_type)
        if handler is None:
            return []
        try:
            event = ev.event_from_payload(stored.payload)
        except Exception as error:  # one bad row must not hide a tenant's KPIs
            self.unreadable += 1
            log.error("KPIs leave out event %s: %s", stored.event_id, type(error).__name__)
            return []
        at = _At(stored.stream_id, stored.occurred_at, bill_run_of(stored))
        samples = self._attempt(stored, at)
        closing = isinstance(event, ev.EngagementCancelled | ev.EngagementClosed)
        state = self._open.pop(at.engagement_id, None) if closing else self._opened(at.engagement_id)
        return samples + handler(state or _Open(), event, at)

    @property
    def open_engagements(self) -> int:
        """Engagements the projection still holds something open for (closed and cancelled ones
        are forgotten)."""
        return len(self._open)

    def _opened(self, engagement_id: str) -> _Open:
        return self._open.setdefault(engagement_id, _Open())

    def _attempt(self, stored: StoredEvent, at: _At) -> list[Sample]:
        """One BillRunAttempt per bill-run command that wrote events (its first event)."""
        command = (stored.stream_id, stored.request_id)
        first = command != self._last_command
        self._last_command = command
        return [BillRunAttempt(at.bill_run_id, at.engagement_id, at.at)] if at.bill_run_id and first else []

    def rate_card_ids(self) -> set[str]:
        """The rate cards that price the open engagements' time."""
        return {
            line.terms.rate_card_id
            for state in self._open.values()
            if state.pricing is not None
            for contract in state.pricing.contract_revisions
            for line in contract.billing_lines
            if isinstance(line.terms, TimeAndMaterialsTerms)
        }

    def unbilled(self, rate_cards: Mapping[str, list[RateCard]]) -> Unbilled:
        """Approved work on no live invoice (not held at a cap), priced as an invoice line would be."""
        totals: dict[str, Decimal] = defaultdict(Decimal)
        unpriced = 0
        for state in self._open.values():
            for (source, _), item in state.items.items():
                if item.invoice_id or item.held:
                    continue
                value = _value(state.pricing, source, item.work, rate_cards)
                if value is None:
                    unpriced += 1
                else:
                    totals[value.currency] += value.amount
        return Unbilled([derived_money(c, totals[c]) for c in sorted(totals)], unpriced)


def bill_run_of(stored: StoredEvent) -> str:
    """The bill run whose command wrote this event ("" when none)."""
    request_id, suffix = stored.request_id or "", f":{stored.stream_id}"
    if request_id.startswith(BILL_RUN_REQUEST_PREFIX) and request_id.endswith(suffix):
        return request_id[len(BILL_RUN_REQUEST_PREFIX) : -len(suffix)]
    return ""


def _value(
    pricing: Engagement | None, source: LineSource, work: _Work, rate_cards: Mapping[str, list[RateCard]]
) -> Money | None:
    """What the item would bill before tax, rounded per line (None: no rate or terms apply)."""
    if source is LineSource.MILESTONE:
        return work.amount.rounded(LINE_RULE) if work.amount else None
    if pricing is None:
        return None
    if source is LineSource.EXPENSE:
        found = terms_for(pricing, work.day, work.line_id, ExpenseTerms)
        if found is None or work.amount is None or not isinstance(found[1], ExpenseTerms):
            return None
        return work.amount.times(1 + found[1].markup_percent / 100).rounded(LINE_RULE)
    found = terms_for(pricing, work.day, work.line_id, TimeAndMaterialsTerms)
    if found is None or not isinstance(found[1], TimeAndMaterialsTerms):
        return None
    card = rate_on(rate_cards.get(found[1].rate_card_id, []), work.day)
    rate = card.rates.get(work.role) if card else None
    return rate.times_rounded(work.hours, LINE_RULE) if rate else None


# -- how each followed event changes what is open ----------------------------------------


def _won(state: _Open, event: ev.EngagementWon, at: _At) -> list[Sample]:
    state.won_at = at.at
    return []


def _activated(state: _Open, event: ev.EngagementActivated, at: _At) -> list[Sample]:
    won, state.won_at = state.won_at, None
    if won is None:
        return []
    return [DurationSample(Kpi.QUOTE_TO_ACTIVATION, at.engagement_id, at.engagement_id, at.at - won, at.at)]


def _contract(state: _Open, event: ev.ContractApproved | ev.ContractAmended, at: _At) -> list[Sample]:
    if state.pricing is None or isinstance(event, ev.ContractApproved):
        fields = {"engagement_id": at.engagement_id, "customer_id": "", "display_name": ""}
        state.pricing = trusted(Engagement, {**fields, "create_time": at.at, "update_time": at.at})
        revisions = [event.contract]
    else:
        revisions = [*state.pricing.contract_revisions, event.contract]
    state.pricing = replaced(state.pricing, {"contract": event.contract, "contract_revisions": revisions})
    return []


def _submitted(state: _Open, event: ev.TimeEntriesSubmitted | ev.ExpensesSubmitted, at: _At) -> list[Sample]:
    if isinstance(event, ev.TimeEntriesSubmitted):
        for e in event.entries:
            work = _Work(e.billing_line_id, e.work_date, hours=e.hours, role=e.role)
            state.submitted[(LineSource.TIME_ENTRY, e.entry_id)] = work
    else:
        for x in event.expenses:
            state.submitted[(LineSource.EXPENSE, x.expense_id)] = _Work(
                x.billing_line_id, x.incurred_date, amount=x.amount
            )
    return []


def _reviewed(
    state: _Open,
    event: ev.TimeEntriesApproved | ev.TimeEntriesRejected | ev.ExpensesApproved | ev.ExpensesRejected,
    at: _At,
) -> list[Sample]:
    """Approved work starts its billing-cycle timer; rejected work leaves."""
    if isinstance(event, ev.TimeEntriesApproved | ev.TimeEntriesRejected):
        source, ids = LineSource.TIME_ENTRY, event.entry_ids
    else:
        source, ids = LineSource.EXPENSE, event.expense_ids
    approved = isinstance(event, ev.TimeEntriesApproved | ev.ExpensesApproved)
    for item_id in ids:
        work = state.submitted.pop((source, item_id), None)
        if approved and work is not None:
            state.items[(source, item_id)] = _Item(work, at.at)
    return []


def _accepted(state: _Open, event: ev.MilestoneAccepted, at: _At) -> list[Sample]:
    amount = _milestone_amount(state.pricing, event.milestone_id)
    if amount is not None:
        work = _Work("", at.at.date(), amount=amount)
        state.items[(LineSource.MILESTONE, event.milestone_id)] = _Item(work, at.at)
    return []


def _milestone_amount(pricing: Engagement | None, milestone_id: str) -> Money | None:
    """The amount of the latest contract revision's spec (an open milestone follows its spec)."""
    for contract in reversed(pricing.contract_revisions if pricing else []):
        for line in contract.billing_lines:
            if isinstance(line.terms, FixedFeeTerms):
                for spec in line.terms.milestones:
                    if spec.milestone_id == milestone_id:
                        return spec.amount
    return None


def _capped(state: _Open, event: Any, at: _At) -> list[Sample]:
    """Held at the cap: not billable; released: billable again; written off: never billed."""
    for entry_id in event.entry_ids:
        key = (LineSource.TIME_ENTRY, entry_id)
        if isinstance(event, ev.TimeEntriesWrittenOff):
            state.items.pop(key, None)
        elif key in state.items:
            state.items[key].held = isinstance(event, ev.TimeEntriesHeldAtCap)
    return []


def _generated(state: _Open, event: ev.InvoiceGenerated, at: _At) -> list[Sample]:
    invoice = event.invoice
    keys = [
        (line.source, line.source_id)
        for line in invoice.lines
        if (line.source, line.source_id) in state.items
    ]
    for key in keys:
        state.items[key].invoice_id = invoice.invoice_id
    state.invoices[invoice.invoice_id] = _Invoice(keys, invoice.total.amount)
    return []


def _issued(state: _Open, event: ev.InvoiceIssued, at: _At) -> list[Sample]:
    """Each item the invoice bills ends its billing cycle (the first time it is issued)."""
    invoice = state.invoices.get(event.invoice_id)
    if invoice is None:
        return []
    invoice.issued_at = at.at
    samples: list[Sample] = []
    for key in invoice.items:
        item = state.items[key]
        if item.approved_at is not None:
            subject = f"{key[0].value}:{key[1]}"
            duration = at.at - item.approved_at
            samples.append(DurationSample(Kpi.BILLING_CYCLE, at.engagement_id, subject, duration, at.at))
            item.approved_at = None
    return samples


def _paid(state: _Open, event: ev.PaymentRecorded, at: _At) -> list[Sample]:
    """Cash application ends with the payment that settles the invoice in full."""
    invoice = state.invoices.get(event.invoice_id)
    if invoice is None:
        return []
    invoice.paid += event.payment.amount.amount
    if invoice.paid < invoice.total:
        return []
    _forget(state, event.invoice_id)
    if invoice.issued_at is None:
        return []
    duration = at.at - invoice.issued_at
    return [DurationSample(Kpi.CASH_APPLICATION, at.engagement_id, event.invoice_id, duration, at.at)]


def _voided(state: _Open, event: ev.InvoiceVoided, at: _At) -> list[Sample]:
    """The invoice's items are unbilled again (their billing cycle goes on unless it was issued)."""
    invoice = state.invoices.pop(event.invoice_id, None)
    for key in invoice.items if invoice else []:
        state.items[key].invoice_id = ""
    return []


def _forget(state: _Open, invoice_id: str) -> None:
    """A settled invoice and the items it billed are done."""
    for key in state.invoices.pop(invoice_id).items:
        state.items.pop(key, None)


def _raised(state: _Open, event: ev.BusinessExceptionRaised, at: _At) -> list[Sample]:
    x = event.exception
    if x.step is not GatedStep.INVOICE:
        return []
    return [InvoiceExceptionSample(at.engagement_id, x.exception_id, x.check, at.bill_run_id, at.at)]


def _ended(state: _Open, event: Any, at: _At) -> list[Sample]:
    """Closed (all settled) or cancelled (nothing more is billed or paid): open timers are dropped."""
    return []


_HANDLERS: dict[str, Handler] = {
    "EngagementWon": _won,
    "EngagementActivated": _activated,
    "ContractApproved": _contract,
    "ContractAmended": _contract,
    "TimeEntriesSubmitted": _submitted,
    "ExpensesSubmitted": _submitted,
    "TimeEntriesApproved": _reviewed,
    "TimeEntriesRejected": _reviewed,
    "ExpensesApproved": _reviewed,
    "ExpensesRejected": _reviewed,
    "MilestoneAccepted": _accepted,
    "TimeEntriesHeldAtCap": _capped,
    "TimeEntriesReleasedFromCap": _capped,
    "TimeEntriesWrittenOff": _capped,
    "InvoiceGenerated": _generated,
    "InvoiceIssued": _issued,
    "PaymentRecorded": _paid,
    "InvoiceVoided": _voided,
    "BusinessExceptionRaised": _raised,
    "EngagementCancelled": _ended,
    "EngagementClosed": _ended,
}
KPI_EVENT_TYPES: tuple[str, ...] = tuple(sorted(_HANDLERS))
"""The event types the KPIs follow (the others are not read)."""
