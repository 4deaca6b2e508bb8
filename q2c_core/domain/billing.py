"""The billing core: what an engagement can bill for a period, line by line (pure).

Named rules (documented in the .proto too):
- ROUND_HALF_UP_PER_LINE: each line amount is rounded half up to the currency's minor unit.
- TAX_ON_SUBTOTAL_HALF_UP: tax = subtotal x rate, rounded half up once, on the invoice.
- PRORATE_BY_CALENDAR_DAYS: a retainer month the engagement was active for only part of is
  billed at amount x active days / days in the month (then rounded per line).
- SUBSCRIPTION_IN_ADVANCE: each subscription period is billed whole, in the period it starts.
- EXPENSE_MARKUP: cost x (1 + markup_percent / 100), rounded per line.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from q2c_core.domain.engagement import Engagement
from q2c_core.domain.entities import (
    Contract,
    ExpenseTerms,
    ItemStatus,
    MilestoneStatus,
    PeriodUnit,
    RetainerTerms,
    SubscriptionTerms,
    TimeAndMaterialsTerms,
    TimeEntry,
)
from q2c_core.domain.invoices import InvoiceLine, InvoiceState, LineSource, TaxDetail
from q2c_core.domain.money import Money, RoundingRule
from q2c_core.domain.periods import BillingPeriod, add_months, month_end, months_between
from q2c_core.domain.reference import Customer, RateCard

LINE_RULE = RoundingRule.ROUND_HALF_UP_PER_LINE
TAX_RULE = RoundingRule.TAX_ON_SUBTOTAL_HALF_UP
PRORATE_RULE = "PRORATE_BY_CALENDAR_DAYS"
PERIOD_MONTHS = {PeriodUnit.MONTH: 1, PeriodUnit.QUARTER: 3, PeriodUnit.YEAR: 12}
STOPPING = frozenset(
    {
        "MISSING_PO_REFERENCE",
        "OPEN_BLOCKING_EXCEPTIONS",
        "PERIOD_ALREADY_INVOICED",
        "NOTHING_TO_BILL",
        "MISSING_TAX_PROFILE",
        "UNPRICED_TIME",
    }
)


@dataclass(frozen=True, slots=True)
class Blocker:
    """Why something is not billed: informational, or stopping the invoice altogether."""

    kind: str
    message: str
    item_ids: tuple[str, ...] = ()

    @property
    def stops(self) -> bool:
        """True when no invoice can be generated while this stands."""
        return self.kind in STOPPING


@dataclass(slots=True)
class BillingDraft:
    """What an invoice for the period would hold, and what stands in the way."""

    currency: str
    lines: list[InvoiceLine] = field(default_factory=list)
    held_at_cap: list[str] = field(default_factory=list)
    recurring_keys: list[str] = field(default_factory=list)
    blockers: list[Blocker] = field(default_factory=list)
    tax: TaxDetail | None = None

    @property
    def subtotal(self) -> Money:
        """Sum of the rounded line amounts."""
        total = sum((line.amount.amount for line in self.lines), Decimal(0))
        return Money(currency=self.currency, amount=total)

    @property
    def total(self) -> Money:
        """Subtotal plus tax."""
        return self.subtotal + (self.tax.amount if self.tax else Money.zero(self.currency))

    @property
    def ready(self) -> bool:
        """True when an invoice can be generated now."""
        return not any(b.stops for b in self.blockers)


def draft_invoice(
    state: Engagement,
    period: BillingPeriod,
    rate_cards: Mapping[str, list[RateCard]],
    customer: Customer | None,
) -> BillingDraft:
    """Everything billable for the period (not yet billed), priced, with tax and blockers."""
    contract = state.contract
    draft = BillingDraft(currency=contract.currency if contract else "USD")
    if contract is None:
        draft.blockers.append(Blocker("NOTHING_TO_BILL", "the engagement has no contract"))
        return draft
    _time_lines(state, period, rate_cards, draft)
    _expense_lines(state, period, draft)
    _milestone_lines(state, draft)
    _retainer_lines(state, period, draft)
    _subscription_lines(state, period, draft)
    draft.tax = _tax(draft.subtotal, customer)
    draft.blockers.extend(_blockers(state, period, customer, draft))
    return draft


def _blockers(
    state: Engagement, period: BillingPeriod, customer: Customer | None, draft: BillingDraft
) -> Iterator[Blocker]:
    submitted = [
        e.entry_id
        for e in state.time_entries.values()
        if e.status is ItemStatus.SUBMITTED and e.work_date <= period.end
    ]
    if submitted:
        yield Blocker("UNAPPROVED_TIME", f"{len(submitted)} time entries await approval", tuple(submitted))
    pending = [
        x.expense_id
        for x in state.expenses.values()
        if x.status is ItemStatus.SUBMITTED and x.incurred_date <= period.end
    ]
    if pending:
        yield Blocker("UNAPPROVED_EXPENSES", f"{len(pending)} expenses await approval", tuple(pending))
    unaccepted = [m.milestone_id for m in state.milestones.values() if m.status is MilestoneStatus.COMPLETED]
    if unaccepted:
        yield Blocker(
            "UNACCEPTED_MILESTONES", f"{len(unaccepted)} milestones await acceptance", tuple(unaccepted)
        )
    held = [e.entry_id for e in state.time_entries.values() if e.status is ItemStatus.HELD_AT_CAP]
    if held or draft.held_at_cap:
        ids = tuple(held + draft.held_at_cap)
        yield Blocker("CAP_REACHED", f"{len(ids)} time entries are over the not-to-exceed cap", ids)
    if customer is not None and customer.po_required and state.contract and not state.contract.po_reference:
        yield Blocker("MISSING_PO_REFERENCE", "the customer requires a PO reference on the contract")
    if customer is None or customer.tax_profile is None:
        yield Blocker("MISSING_TAX_PROFILE", "the customer has no tax profile")
    blocking = [x.exception_id for x in state.open_blocking()]
    if blocking:
        yield Blocker("OPEN_BLOCKING_EXCEPTIONS", "blocking exceptions are open", tuple(blocking))
    overlapping = _overlapping_invoice(state, period)
    if overlapping is not None:
        yield Blocker("PERIOD_ALREADY_INVOICED", f"invoice {overlapping} covers {period.key}", (overlapping,))
    elif not draft.lines:
        yield Blocker("NOTHING_TO_BILL", f"nothing billable up to {period.end.isoformat()}")


def _overlapping_invoice(state: Engagement, period: BillingPeriod) -> str | None:
    """A live invoice whose period overlaps this one (invoiced periods never overlap)."""
    for invoice in state.invoices.values():
        if (
            invoice.state is not InvoiceState.VOID
            and invoice.period.start <= period.end
            and period.start <= invoice.period.end
        ):
            return invoice.invoice_id
    return None


def _tax(subtotal: Money, customer: Customer | None) -> TaxDetail | None:
    profile = customer.tax_profile if customer else None
    if profile is None:
        return None
    rate = Decimal(0) if profile.exempt else profile.rate
    return TaxDetail(
        jurisdiction=profile.jurisdiction,
        rate=rate,
        exempt=profile.exempt,
        amount=subtotal.times(rate).rounded(TAX_RULE),
        rounding_rule=TAX_RULE.value,
    )


def _add_line(
    draft: BillingDraft,
    source: LineSource,
    source_id: str,
    line_id: str,
    contract: Contract,
    description: str,
    quantity: Decimal,
    unit_price: Money,
    raw: Money,
    rule: str = LINE_RULE.value,
    service_period: BillingPeriod | None = None,
) -> None:
    """Append a priced line, numbered in order (L1, L2, ...)."""
    draft.lines.append(
        InvoiceLine(
            line_id=f"L{len(draft.lines) + 1}",
            source=source,
            source_id=source_id,
            billing_line_id=line_id,
            contract_revision=contract.revision,
            description=description,
            quantity=quantity,
            unit_price=unit_price,
            amount=raw.rounded(LINE_RULE),
            rounding_rule=rule,
            service_period=service_period,
        )
    )


def _terms_for(
    state: Engagement, day: date, line_id: str, kind: type, strict: bool = False
) -> tuple[Contract, object] | None:
    """The terms of `line_id` in force on `day` (unless strict, falling back to the latest
    revision that has it; strict: a line a change order left out has ended)."""
    contract = state.contract_on(day)
    fallback = [] if strict else list(reversed(state.contract_revisions))
    candidates = ([contract] if contract else []) + fallback
    for revision in candidates:
        line = revision.line(line_id)
        if line is not None and isinstance(line.terms, kind):
            return revision, line.terms
    return None


def rate_on(revisions: list[RateCard], day: date) -> RateCard | None:
    """The newest rate-card revision effective on the day."""
    effective = [card for card in revisions if card.effective_on(day)]
    return max(effective, key=lambda card: card.revision) if effective else None


def billed_time_by_line(state: Engagement) -> dict[str, Decimal]:
    """T&M amounts already on live (non-void) invoices, per billing line (for the cap)."""
    billed: dict[str, Decimal] = defaultdict(Decimal)
    for invoice in state.invoices.values():
        if invoice.state is not InvoiceState.VOID:
            for line in invoice.lines:
                if line.source is LineSource.TIME_ENTRY:
                    billed[line.billing_line_id] += line.amount.amount
    return billed


def _time_lines(
    state: Engagement, period: BillingPeriod, rate_cards: Mapping[str, list[RateCard]], draft: BillingDraft
) -> None:
    billed = billed_time_by_line(state)
    unpriced: list[str] = []
    entries = sorted(
        (
            e
            for e in state.time_entries.values()
            if e.status is ItemStatus.APPROVED and e.work_date <= period.end
        ),
        key=lambda e: (e.work_date, e.entry_id),
    )
    caps: dict[str, Money | None] = {}
    for entry in entries:
        priced = _price(state, entry, rate_cards)
        if priced is None:
            unpriced.append(entry.entry_id)
            continue
        contract, _, rate = priced
        raw = rate.times(entry.hours)
        if entry.billing_line_id not in caps:
            caps[entry.billing_line_id] = _cap(state, period, entry.billing_line_id)
        cap = caps[entry.billing_line_id]
        amount = raw.rounded(LINE_RULE).amount
        if cap is not None and not entry.cap_override and billed[entry.billing_line_id] + amount > cap.amount:
            draft.held_at_cap.append(entry.entry_id)
            continue
        billed[entry.billing_line_id] += amount
        _add_line(
            draft,
            LineSource.TIME_ENTRY,
            entry.entry_id,
            entry.billing_line_id,
            contract,
            f"{entry.person} ({entry.role}) {entry.work_date.isoformat()}",
            entry.hours,
            rate,
            raw,
        )
    if unpriced:
        draft.blockers.append(Blocker("UNPRICED_TIME", "no rate applies to these entries", tuple(unpriced)))


def _price(
    state: Engagement, entry: TimeEntry, rate_cards: Mapping[str, list[RateCard]]
) -> tuple[Contract, TimeAndMaterialsTerms, Money] | None:
    found = _terms_for(state, entry.work_date, entry.billing_line_id, TimeAndMaterialsTerms)
    if found is None:
        return None
    contract, terms = found
    assert isinstance(terms, TimeAndMaterialsTerms)
    card = rate_on(rate_cards.get(terms.rate_card_id, []), entry.work_date)
    rate = card.rates.get(entry.role) if card else None
    return (contract, terms, rate) if rate is not None else None


def _cap(state: Engagement, period: BillingPeriod, line_id: str) -> Money | None:
    found = _terms_for(state, period.end, line_id, TimeAndMaterialsTerms)
    return found[1].not_to_exceed if found else None  # type: ignore[attr-defined]


def _expense_lines(state: Engagement, period: BillingPeriod, draft: BillingDraft) -> None:
    expenses = sorted(
        (
            x
            for x in state.expenses.values()
            if x.status is ItemStatus.APPROVED and x.incurred_date <= period.end
        ),
        key=lambda x: (x.incurred_date, x.expense_id),
    )
    for expense in expenses:
        found = _terms_for(state, expense.incurred_date, expense.billing_line_id, ExpenseTerms)
        if found is None:
            continue
        contract, terms = found
        assert isinstance(terms, ExpenseTerms)
        factor = 1 + terms.markup_percent / 100
        unit = expense.amount.times(factor)
        _add_line(
            draft,
            LineSource.EXPENSE,
            expense.expense_id,
            expense.billing_line_id,
            contract,
            f"{expense.category} {expense.incurred_date.isoformat()} (+{terms.markup_percent}%)",
            Decimal(1),
            unit,
            unit,
        )


def _milestone_lines(state: Engagement, draft: BillingDraft) -> None:
    for milestone in state.milestones.values():
        if milestone.status is MilestoneStatus.ACCEPTED and not milestone.invoice_id:
            contract = state.contract_on(milestone.update_time.date()) or state.contract
            assert contract is not None
            _add_line(
                draft,
                LineSource.MILESTONE,
                milestone.milestone_id,
                milestone.billing_line_id,
                contract,
                milestone.display_name,
                Decimal(1),
                milestone.amount,
                milestone.amount,
            )


def _active_until(state: Engagement) -> date | None:
    ends = [d for d in (state.completed_on, state.contract.end_date if state.contract else None) if d]
    return min(ends) if ends else None


def _recurring_line_ids(state: Engagement, kind: type) -> list[str]:
    seen: dict[str, None] = {}
    for revision in state.contract_revisions or ([state.contract] if state.contract else []):
        for line in revision.billing_lines:
            if isinstance(line.terms, kind):
                seen.setdefault(line.line_id)
    return list(seen)


def _retainer_lines(state: Engagement, period: BillingPeriod, draft: BillingDraft) -> None:
    """Each month the engagement was active, billed in arrears once the month (or the work) ends."""
    if state.start_date is None:
        return
    until = _active_until(state)
    last = min(period.end, until) if until else period.end
    for line_id in _recurring_line_ids(state, RetainerTerms):
        for first_day in months_between(state.start_date, last):
            start, end = max(first_day, state.start_date), month_end(first_day)
            end = min(end, until) if until else end
            key = f"{line_id}:{first_day.strftime('%Y-%m')}"
            found = _terms_for(state, start, line_id, RetainerTerms, strict=True)
            if end > period.end or start > end or key in state.billed_recurring or found is None:
                continue
            contract, terms = found
            assert isinstance(terms, RetainerTerms)
            quantity, unit, raw = _prorated(
                terms.amount_per_month, (end - start).days + 1, month_end(start).day
            )
            _add_line(
                draft,
                LineSource.RETAINER,
                key,
                line_id,
                contract,
                f"retainer {first_day:%Y-%m} ({(end - start).days + 1}/{month_end(start).day} days)",
                quantity,
                unit,
                raw,
                rule=LINE_RULE.value if quantity == 1 else PRORATE_RULE,
                service_period=BillingPeriod(start=start, end=end),
            )
            draft.recurring_keys.append(key)


def _prorated(monthly: Money, days: int, days_in_month: int) -> tuple[Decimal, Money, Money]:
    """PRORATE_BY_CALENDAR_DAYS: (quantity, unit price, unrounded amount)."""
    if days == days_in_month:
        return Decimal(1), monthly, monthly
    fraction = Decimal(days) / Decimal(days_in_month)
    raw = Money(currency=monthly.currency, amount=monthly.amount * days / days_in_month)
    return fraction.quantize(Decimal("0.000001")), monthly, raw  # quantity is for display only


def _subscription_lines(state: Engagement, period: BillingPeriod, draft: BillingDraft) -> None:
    """Each subscription period from activation, billed whole in the period it starts."""
    if state.start_date is None:
        return
    until = _active_until(state)
    for line_id in _recurring_line_ids(state, SubscriptionTerms):
        for start, months in _subscription_starts(state, line_id, min(period.end, until or period.end)):
            key = f"{line_id}:{start.isoformat()}"
            found = _terms_for(state, start, line_id, SubscriptionTerms, strict=True)
            if found is None or key in state.billed_recurring:
                continue
            contract, terms = found
            assert isinstance(terms, SubscriptionTerms)
            service = BillingPeriod(start=start, end=add_months(start, months) - timedelta(days=1))
            _add_line(
                draft,
                LineSource.SUBSCRIPTION,
                key,
                line_id,
                contract,
                f"subscription {service.start.isoformat()}..{service.end.isoformat()}",
                Decimal(1),
                terms.amount_per_period,
                terms.amount_per_period,
                rule=LINE_RULE.value,
                service_period=service,
            )
            draft.recurring_keys.append(key)


def _subscription_starts(state: Engagement, line_id: str, last: date) -> Iterator[tuple[date, int]]:
    assert state.start_date is not None
    found = _terms_for(state, last, line_id, SubscriptionTerms)
    months = PERIOD_MONTHS[found[1].period] if found else 1  # type: ignore[attr-defined]
    step = 0
    while (start := add_months(state.start_date, step * months)) <= last:
        yield start, months
        step += 1


def unbilled_recurring(state: Engagement) -> list[str]:
    """Retainer months and subscription periods of a completed engagement not yet billed."""
    if state.completed_on is None or state.contract is None:
        return []
    draft = BillingDraft(currency=state.contract.currency)
    last_day = BillingPeriod(start=state.completed_on, end=state.completed_on)
    _retainer_lines(state, last_day, draft)
    _subscription_lines(state, last_day, draft)
    return draft.recurring_keys
