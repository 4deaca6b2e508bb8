"""Recurring charges onto a draft: retainer months in arrears (prorated by calendar days) and
subscription periods in advance (pure; the named rules are listed in `billing`)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal

from q2c_core.domain.drafts import LINE_RULE, BillingDraft, add_line
from q2c_core.domain.engagement import Engagement
from q2c_core.domain.entities import PeriodUnit, RetainerTerms, SubscriptionTerms
from q2c_core.domain.invoices import LineSource
from q2c_core.domain.money import Money
from q2c_core.domain.periods import BillingPeriod, add_months, month_end, months_between
from q2c_core.domain.pricing import terms_for

PRORATE_RULE = "PRORATE_BY_CALENDAR_DAYS"
PERIOD_MONTHS = {PeriodUnit.MONTH: 1, PeriodUnit.QUARTER: 3, PeriodUnit.YEAR: 12}


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


def retainer_lines(state: Engagement, period: BillingPeriod, draft: BillingDraft) -> None:
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
            found = terms_for(state, start, line_id, RetainerTerms, strict=True)
            if end > period.end or start > end or key in state.billed_recurring or found is None:
                continue
            contract, terms = found
            assert isinstance(terms, RetainerTerms)
            quantity, unit, raw = _prorated(
                terms.amount_per_month, (end - start).days + 1, month_end(start).day
            )
            add_line(
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


def subscription_lines(state: Engagement, period: BillingPeriod, draft: BillingDraft) -> None:
    """Each subscription period from activation, billed whole in the period it starts."""
    if state.start_date is None:
        return
    until = _active_until(state)
    for line_id in _recurring_line_ids(state, SubscriptionTerms):
        for start, months in _subscription_starts(state, line_id, min(period.end, until or period.end)):
            key = f"{line_id}:{start.isoformat()}"
            found = terms_for(state, start, line_id, SubscriptionTerms, strict=True)
            if found is None or key in state.billed_recurring:
                continue
            contract, terms = found
            assert isinstance(terms, SubscriptionTerms)
            service = BillingPeriod(start=start, end=add_months(start, months) - timedelta(days=1))
            add_line(
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
    found = terms_for(state, last, line_id, SubscriptionTerms)
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
    retainer_lines(state, last_day, draft)
    subscription_lines(state, last_day, draft)
    return draft.recurring_keys
