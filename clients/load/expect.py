"""What each engagement's invoice for the period must hold, priced from the plan alone.

An independent reading of docs/billing.md (it imports nothing from q2c_core): approved,
in-time hours x the rate of the card in force on the work date, half up to the minor unit per
line, entries over the not-to-exceed cap (in force on the period's last day) held in
(work_date, entry_id) order; approved expenses x (1 + markup / 100); accepted milestones;
the period's retainer month pro-rated by calendar days from activation; one whole subscription
period; tax on the subtotal, half up, 0 when exempt.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from clients.load.plan import CustomerPlan, EngagementPlan, RateCardPlan, TimeEntryPlan
from clients.load.profile import CURRENCY_PLACES


def half_up(value: Decimal, currency: str) -> Decimal:
    """ROUND_HALF_UP_PER_LINE / TAX_ON_SUBTOTAL_HALF_UP: half up to the currency's minor unit."""
    return value.quantize(Decimal(1).scaleb(-CURRENCY_PLACES[currency]), rounding=ROUND_HALF_UP)


def to_minor(value: Decimal, currency: str) -> int:
    """An amount in the currency's minor units (exact: it was rounded to them)."""
    return int(half_up(value, currency).scaleb(CURRENCY_PLACES[currency]))


@dataclass
class ExpectedInvoice:
    """The invoice the bill run must produce for one engagement (no lines: no invoice)."""

    engagement: str
    currency: str
    lines: dict[str, Decimal] = field(default_factory=dict)
    """source id (entry, expense, milestone id, `ret`, `sub`) -> rounded line amount."""
    held: list[str] = field(default_factory=list)
    tax_rate: Decimal = Decimal(0)

    @property
    def subtotal(self) -> Decimal:
        """Sum of the rounded lines."""
        return sum(self.lines.values(), Decimal(0))

    @property
    def tax(self) -> Decimal:
        """Tax on the subtotal, rounded once."""
        return half_up(self.subtotal * self.tax_rate, self.currency)

    @property
    def total(self) -> Decimal:
        """Subtotal plus tax."""
        return self.subtotal + self.tax

    @property
    def exists(self) -> bool:
        """True when the run must create an invoice (something to bill)."""
        return bool(self.lines)


def _rate(plan: EngagementPlan, entry: TimeEntryPlan, cards: Mapping[str, RateCardPlan]) -> Decimal:
    change = plan.change_order
    card = change.rate_card if change and entry.work_date >= change.effective else plan.rate_card
    return cards[card].rates[entry.role]


def _cap(plan: EngagementPlan, period_end: date) -> Decimal | None:
    change = plan.change_order
    return change.cap if change and change.effective <= period_end else plan.cap


def _time(
    plan: EngagementPlan, cards: Mapping[str, RateCardPlan], period_end: date, out: ExpectedInvoice
) -> None:
    cap = _cap(plan, period_end)
    billed = Decimal(0)
    entries = sorted(
        (e for e in plan.time_entries if e.approved and not e.late and e.work_date <= period_end),
        key=lambda e: (e.work_date, e.entry_id),
    )
    for entry in entries:
        amount = half_up(entry.hours * _rate(plan, entry, cards), plan.currency)
        if cap is not None and billed + amount > cap:
            out.held.append(entry.entry_id)
            continue
        billed += amount
        out.lines[entry.entry_id] = amount


def _retainer(plan: EngagementPlan, period_start: date, period_end: date) -> Decimal:
    assert plan.retainer is not None
    first = max(plan.start_date, period_start)
    days_in_month = calendar.monthrange(period_start.year, period_start.month)[1]
    days = (period_end - first).days + 1
    if days == days_in_month:
        return half_up(plan.retainer, plan.currency)
    return half_up(plan.retainer * days / days_in_month, plan.currency)


def expected_invoice(
    plan: EngagementPlan,
    customer: CustomerPlan,
    cards: Mapping[str, RateCardPlan],
    period: tuple[date, date],
) -> ExpectedInvoice:
    """The engagement's invoice for the period, as the plan says it must be."""
    period_start, period_end = period
    out = ExpectedInvoice(
        plan.key, plan.currency, tax_rate=Decimal(0) if customer.exempt else customer.tax_rate
    )
    _time(plan, cards, period_end, out)
    if plan.markup is not None:
        factor = 1 + plan.markup / 100
        for expense in plan.expenses:
            if expense.approved and expense.incurred_date <= period_end:
                out.lines[expense.expense_id] = half_up(expense.amount * factor, plan.currency)
    for milestone in plan.milestones:
        if milestone.accepted:
            out.lines[milestone.milestone_id] = half_up(milestone.amount, plan.currency)
    if plan.retainer is not None:
        out.lines["ret"] = _retainer(plan, period_start, period_end)
    if plan.subscription is not None:
        out.lines["sub"] = half_up(plan.subscription, plan.currency)
    return out
