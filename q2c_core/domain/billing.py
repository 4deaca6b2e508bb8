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

from collections.abc import Iterator, Mapping
from decimal import Decimal

from q2c_core.domain.base import trusted
from q2c_core.domain.drafts import BillingDraft, Blocker
from q2c_core.domain.engagement import Engagement
from q2c_core.domain.entities import ItemStatus, MilestoneStatus
from q2c_core.domain.invoices import InvoiceState, TaxDetail
from q2c_core.domain.money import Money, RoundingRule
from q2c_core.domain.periods import BillingPeriod
from q2c_core.domain.pricing import expense_lines, milestone_lines, time_lines
from q2c_core.domain.recurring import retainer_lines, subscription_lines
from q2c_core.domain.reference import Customer, RateCard

__all__ = ["TAX_RULE", "BillingDraft", "Blocker", "draft_invoice"]

TAX_RULE = RoundingRule.TAX_ON_SUBTOTAL_HALF_UP


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
    time_lines(state, period, rate_cards, draft)
    expense_lines(state, period, draft)
    milestone_lines(state, draft)
    retainer_lines(state, period, draft)
    subscription_lines(state, period, draft)
    draft.tax = _tax(draft.subtotal, customer)
    draft.blockers.extend(_blockers(state, period, customer, draft))
    return draft


def _blockers(
    state: Engagement, period: BillingPeriod, customer: Customer | None, draft: BillingDraft
) -> Iterator[Blocker]:
    yield from _awaiting_review(state, period, draft)
    yield from _stopping(state, period, customer, draft)


def _awaiting_review(state: Engagement, period: BillingPeriod, draft: BillingDraft) -> Iterator[Blocker]:
    """Items someone still has to approve, accept or release from the cap (informational)."""
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


def _stopping(
    state: Engagement, period: BillingPeriod, customer: Customer | None, draft: BillingDraft
) -> Iterator[Blocker]:
    """What keeps the invoice from being generated at all."""
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
    # the profile was validated with the customer, the amount by Money's arithmetic
    return trusted(
        TaxDetail,
        {
            "jurisdiction": profile.jurisdiction,
            "rate": rate,
            "exempt": profile.exempt,
            "amount": subtotal.times_rounded(rate, TAX_RULE),
            "rounding_rule": TAX_RULE.value,
        },
    )
