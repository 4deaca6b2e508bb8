"""Pricing billable items onto a draft: time at rate-card rates under the cap, expenses with
their markup, accepted milestones (pure; the named rules are listed in `billing`)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import date
from decimal import Decimal

from q2c_core.domain.drafts import LINE_RULE, BillingDraft, Blocker, add_line
from q2c_core.domain.engagement import Engagement
from q2c_core.domain.entities import (
    Contract,
    ExpenseTerms,
    ItemStatus,
    MilestoneStatus,
    TimeAndMaterialsTerms,
    TimeEntry,
)
from q2c_core.domain.invoices import InvoiceState, LineSource
from q2c_core.domain.money import Money
from q2c_core.domain.periods import BillingPeriod
from q2c_core.domain.reference import RateCard


def terms_for(
    state: Engagement, day: date, line_id: str, kind: type, strict: bool = False
) -> tuple[Contract, object] | None:
    """The terms of `line_id` in force on `day` (unless strict, falling back to the latest
    revision that has it; strict: a line a change order left out has ended)."""
    contract = state.contract_on(day)
    if contract is not None:
        line = contract.line(line_id)
        if line is not None and isinstance(line.terms, kind):
            return contract, line.terms
    if not strict:
        for revision in reversed(state.contract_revisions):
            line = revision.line(line_id)
            if line is not None and isinstance(line.terms, kind):
                return revision, line.terms
    return None


def rate_on(revisions: list[RateCard], day: date) -> RateCard | None:
    """The newest rate-card revision effective on the day (the first listed of equals, as max()
    would pick; a loop: this runs for every priced time entry)."""
    newest: RateCard | None = None
    for card in revisions:
        if card.effective_on(day) and (newest is None or card.revision > newest.revision):
            newest = card
    return newest


def billed_time_by_line(state: Engagement) -> dict[str, Decimal]:
    """T&M amounts already on live (non-void) invoices, per billing line (for the cap)."""
    billed: dict[str, Decimal] = defaultdict(Decimal)
    for invoice in state.invoices.values():
        if invoice.state is not InvoiceState.VOID:
            for line in invoice.lines:
                if line.source is LineSource.TIME_ENTRY:
                    billed[line.billing_line_id] += line.amount.amount
    return billed


def time_lines(
    state: Engagement, period: BillingPeriod, rate_cards: Mapping[str, list[RateCard]], draft: BillingDraft
) -> None:
    """Approved hours up to the period's end, priced; over-cap hours are held, unpriced ones block."""
    billed = billed_time_by_line(state)
    unpriced: list[str] = []
    entries = _approved_entries(state, period)
    caps: dict[str, Money | None] = {}
    for entry in entries:
        priced = _price(state, entry, rate_cards)
        if priced is None:
            unpriced.append(entry.entry_id)
            continue
        contract, _, rate = priced
        rounded = rate.times_rounded(entry.hours, LINE_RULE)
        if entry.billing_line_id not in caps:
            caps[entry.billing_line_id] = _cap(state, period, entry.billing_line_id)
        cap = caps[entry.billing_line_id]
        amount = rounded.amount
        if cap is not None and not entry.cap_override and billed[entry.billing_line_id] + amount > cap.amount:
            draft.held_at_cap.append(entry.entry_id)
            continue
        billed[entry.billing_line_id] += amount
        add_line(
            draft,
            LineSource.TIME_ENTRY,
            entry.entry_id,
            entry.billing_line_id,
            contract,
            f"{entry.person} ({entry.role}) {entry.work_date.isoformat()}",
            entry.hours,
            rate,
            rounded,
            rounded=rounded,
        )
    if unpriced:
        draft.blockers.append(Blocker("UNPRICED_TIME", "no rate applies to these entries", tuple(unpriced)))


def _approved_entries(state: Engagement, period: BillingPeriod) -> list[TimeEntry]:
    return sorted(
        (
            e
            for e in state.time_entries.values()
            if e.status is ItemStatus.APPROVED and e.work_date <= period.end
        ),
        key=lambda e: (e.work_date, e.entry_id),
    )


def _price(
    state: Engagement, entry: TimeEntry, rate_cards: Mapping[str, list[RateCard]]
) -> tuple[Contract, TimeAndMaterialsTerms, Money] | None:
    found = terms_for(state, entry.work_date, entry.billing_line_id, TimeAndMaterialsTerms)
    if found is None:
        return None
    contract, terms = found
    assert isinstance(terms, TimeAndMaterialsTerms)
    card = rate_on(rate_cards.get(terms.rate_card_id, []), entry.work_date)
    rate = card.rates.get(entry.role) if card else None
    return (contract, terms, rate) if rate is not None else None


def _cap(state: Engagement, period: BillingPeriod, line_id: str) -> Money | None:
    found = terms_for(state, period.end, line_id, TimeAndMaterialsTerms)
    return found[1].not_to_exceed if found else None  # type: ignore[attr-defined]


def expense_lines(state: Engagement, period: BillingPeriod, draft: BillingDraft) -> None:
    """Approved expenses up to the period's end, with their line's markup."""
    expenses = sorted(
        (
            x
            for x in state.expenses.values()
            if x.status is ItemStatus.APPROVED and x.incurred_date <= period.end
        ),
        key=lambda x: (x.incurred_date, x.expense_id),
    )
    for expense in expenses:
        found = terms_for(state, expense.incurred_date, expense.billing_line_id, ExpenseTerms)
        if found is None:
            continue
        contract, terms = found
        assert isinstance(terms, ExpenseTerms)
        factor = 1 + terms.markup_percent / 100
        unit = expense.amount.times(factor)
        add_line(
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


def milestone_lines(state: Engagement, draft: BillingDraft) -> None:
    """Accepted milestones not yet on an invoice, at their fixed amounts."""
    for milestone in state.milestones.values():
        if milestone.status is MilestoneStatus.ACCEPTED and not milestone.invoice_id:
            contract = state.contract_on(milestone.update_time.date()) or state.contract
            assert contract is not None
            add_line(
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
