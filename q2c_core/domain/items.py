"""Deciding delivery commands: time entries, expenses, milestones, and contract validation."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal

from q2c_core.domain import commands as cmd
from q2c_core.domain import events as ev
from q2c_core.domain.base import trusted
from q2c_core.domain.context import DecisionContext
from q2c_core.domain.duties import refuse_self_approval
from q2c_core.domain.engagement import Engagement
from q2c_core.domain.entities import (
    BillingLine,
    BillingModel,
    Contract,
    Expense,
    ExpenseTerms,
    FixedFeeTerms,
    ItemStatus,
    MilestoneStatus,
    RetainerTerms,
    SubscriptionTerms,
    TimeAndMaterialsTerms,
    TimeEntry,
)
from q2c_core.domain.errors import FieldViolation, NotFoundError, PreconditionError, ValidationError
from q2c_core.domain.limits import (
    MAX_EXPENSES_PER_ENGAGEMENT,
    MAX_TIME_ENTRIES_PER_ENGAGEMENT,
    check_capacity,
)
from q2c_core.domain.money import Money
from q2c_core.domain.policies import BILLING_MODEL_FIELDS
from q2c_core.domain.pricing import rate_on
from q2c_core.domain.reference import RateCard


class _Violations:
    """Collects field violations so one reply names every bad field at once."""

    def __init__(self) -> None:
        self.items: list[FieldViolation] = []

    def add(self, field: str, description: str) -> None:
        self.items.append(FieldViolation(field=field, description=description))

    def raise_if_any(self) -> None:
        if self.items:
            raise ValidationError(self.items)


def _contract(state: Engagement) -> Contract:
    if state.contract is None:
        raise PreconditionError("CONTRACT_MISSING", "the engagement has no approved contract")
    return state.contract


def _line_check(contract: Contract, line_id: str, model: BillingModel, path: str, bad: _Violations) -> bool:
    line = contract.line(line_id)
    if line is None:
        bad.add(path, f"no billing line {line_id!r} in the contract")
    elif line.terms.model is not model:
        bad.add(path, f"billing line {line_id!r} is {line.terms.model.value}, not {model.value}")
    else:
        return True
    return False


def submit_time(state: Engagement, command: cmd.SubmitTimeEntries, ctx: DecisionContext) -> list[ev.Event]:
    """Validate the batch (lines, roles, dates, 24 h a day, new ids) and record it, with its submitter."""
    contract = _contract(state)
    check_capacity(
        "time_entries", len(state.time_entries), len(command.entries), MAX_TIME_ENTRIES_PER_ENGAGEMENT
    )
    bad = _Violations()
    seen: set[str] = set()
    day_totals: dict[tuple[str, date], Decimal] = defaultdict(Decimal)
    for existing in state.time_entries.values():
        if existing.status is not ItemStatus.REJECTED:
            day_totals[(existing.person, existing.work_date)] += existing.hours
    for i, entry in enumerate(command.entries):
        path = f"entries[{i}]"
        if entry.entry_id in state.time_entries or entry.entry_id in seen:
            bad.add(f"{path}.entry_id", f"time entry {entry.entry_id!r} was already submitted")
        seen.add(entry.entry_id)
        if state.start_date and entry.work_date < state.start_date:
            bad.add(f"{path}.work_date", "work_date is before the engagement started")
        if contract.end_date and entry.work_date > contract.end_date:
            bad.add(f"{path}.work_date", "work_date is after the contract ends")
        day_totals[(entry.person, entry.work_date)] += entry.hours
        if day_totals[(entry.person, entry.work_date)] > cmd.MAX_HOURS_PER_DAY:
            bad.add(f"{path}.hours", f"{entry.person} would have more than 24 hours on {entry.work_date}")
        terms = state.contract_on(entry.work_date) or contract  # change orders re-term later work
        if _line_check(
            terms, entry.billing_line_id, BillingModel.TIME_AND_MATERIALS, f"{path}.billing_line_id", bad
        ):
            _check_role(terms, entry, ctx.rate_cards, path, bad)
    bad.raise_if_any()
    # the inputs were validated with the command, under stricter bounds than TimeEntry's
    stamp = {"submitted_by": ctx.principal, "submit_time": ctx.now, "update_time": ctx.now}
    entries = [trusted(TimeEntry, {**entry.__dict__, **stamp}) for entry in command.entries]
    return [ev.TimeEntriesSubmitted(entries=entries)]


def _check_role(
    contract: Contract,
    entry: cmd.TimeEntryInput,
    rate_cards: Mapping[str, list[RateCard]],
    path: str,
    bad: _Violations,
) -> None:
    line = contract.line(entry.billing_line_id)
    assert line is not None and isinstance(line.terms, TimeAndMaterialsTerms)
    card = rate_on(rate_cards.get(line.terms.rate_card_id, []), entry.work_date)  # the newest effective
    if card is None:
        bad.add(
            f"{path}.work_date", f"rate card {line.terms.rate_card_id} is not effective on {entry.work_date}"
        )
    elif entry.role not in card.rates:
        bad.add(f"{path}.role", f"unknown role {entry.role!r} for rate card {card.rate_card_id}")


def _pending(ids: list[str], known: Mapping[str, TimeEntry | Expense], resource: str, path: str) -> None:
    bad = _Violations()
    if len(set(ids)) != len(ids):
        bad.add(path, "ids must be unique")
    bad.raise_if_any()
    for item_id in ids:
        item = known.get(item_id)
        if item is None:
            raise NotFoundError(resource, item_id)
        status = item.status
        if status is not ItemStatus.SUBMITTED:
            raise PreconditionError(
                "ITEM_NOT_SUBMITTED",
                f"{resource} {item_id} is {status.value}, only SUBMITTED items can be reviewed",
                {"id": item_id, "status": status.value},
            )


def approve_time(state: Engagement, command: cmd.ApproveTimeEntries, ctx: DecisionContext) -> list[ev.Event]:
    """Approve submitted entries (each becomes billable exactly once), none of them the caller's own."""
    _pending(command.entry_ids, state.time_entries, "time_entry", "entry_ids")
    refuse_self_approval(command.entry_ids, state.time_entries, "time_entry", ctx)
    return [ev.TimeEntriesApproved(entry_ids=command.entry_ids)]


def reject_time(state: Engagement, command: cmd.RejectTimeEntries, ctx: DecisionContext) -> list[ev.Event]:
    """Reject submitted entries with a reason; submitters may reject their own (it withdraws work)."""
    _pending(command.entry_ids, state.time_entries, "time_entry", "entry_ids")
    return [ev.TimeEntriesRejected(entry_ids=command.entry_ids, reason=command.reason)]


def submit_expenses(state: Engagement, command: cmd.SubmitExpenses, ctx: DecisionContext) -> list[ev.Event]:
    """Validate the batch (pass-through line, contract currency, new ids); record it with its submitter."""
    contract = _contract(state)
    check_capacity("expenses", len(state.expenses), len(command.expenses), MAX_EXPENSES_PER_ENGAGEMENT)
    bad = _Violations()
    seen: set[str] = set()
    for i, expense in enumerate(command.expenses):
        path = f"expenses[{i}]"
        if expense.expense_id in state.expenses or expense.expense_id in seen:
            bad.add(f"{path}.expense_id", f"expense {expense.expense_id!r} was already submitted")
        seen.add(expense.expense_id)
        if expense.amount.currency != contract.currency:
            bad.add(
                f"{path}.amount.currency_code",
                f"expenses must be in the contract currency {contract.currency}",
            )
        _line_check(
            state.contract_on(expense.incurred_date) or contract,
            expense.billing_line_id,
            BillingModel.PASS_THROUGH_EXPENSES,
            f"{path}.billing_line_id",
            bad,
        )
    bad.raise_if_any()
    stamp = {"submitted_by": ctx.principal, "submit_time": ctx.now, "update_time": ctx.now}
    expenses = [trusted(Expense, {**e.__dict__, **stamp}) for e in command.expenses]
    return [ev.ExpensesSubmitted(expenses=expenses)]


def approve_expenses(state: Engagement, command: cmd.ApproveExpenses, ctx: DecisionContext) -> list[ev.Event]:
    """Approve submitted expenses, none of them the caller's own."""
    _pending(command.expense_ids, state.expenses, "expense", "expense_ids")
    refuse_self_approval(command.expense_ids, state.expenses, "expense", ctx)
    return [ev.ExpensesApproved(expense_ids=command.expense_ids)]


def reject_expenses(state: Engagement, command: cmd.RejectExpenses, ctx: DecisionContext) -> list[ev.Event]:
    """Reject submitted expenses with a reason; submitters may reject their own (it withdraws work)."""
    _pending(command.expense_ids, state.expenses, "expense", "expense_ids")
    return [ev.ExpensesRejected(expense_ids=command.expense_ids, reason=command.reason)]


def _milestone_in(
    state: Engagement, milestone_id: str, allowed: Iterable[MilestoneStatus], action: str
) -> None:
    milestone = state.milestones.get(milestone_id)
    if milestone is None:
        raise NotFoundError("milestone", milestone_id)
    allowed = tuple(allowed)
    if milestone.status not in allowed:
        raise PreconditionError(
            "MILESTONE_INVALID_STATUS",
            f"cannot {action} milestone {milestone_id}: it is {milestone.status.value}",
            {"milestone_id": milestone_id, "status": milestone.status.value},
        )


def complete_milestone(
    state: Engagement, command: cmd.CompleteMilestone, ctx: DecisionContext
) -> list[ev.Event]:
    """Delivery completes a planned (or reworked) milestone."""
    _milestone_in(
        state, command.milestone_id, (MilestoneStatus.PLANNED, MilestoneStatus.REJECTED), "complete"
    )
    return [ev.MilestoneCompleted(milestone_id=command.milestone_id)]


def accept_milestone(state: Engagement, command: cmd.AcceptMilestone, ctx: DecisionContext) -> list[ev.Event]:
    """The customer accepts a completed milestone."""
    _milestone_in(state, command.milestone_id, (MilestoneStatus.COMPLETED,), "accept")
    return [ev.MilestoneAccepted(milestone_id=command.milestone_id)]


def reject_milestone(state: Engagement, command: cmd.RejectMilestone, ctx: DecisionContext) -> list[ev.Event]:
    """The customer rejects a completed milestone."""
    _milestone_in(state, command.milestone_id, (MilestoneStatus.COMPLETED,), "reject")
    return [ev.MilestoneRejected(milestone_id=command.milestone_id, reason=command.reason)]


def _money_fields(terms: object) -> list[tuple[str, Money]]:
    if isinstance(terms, TimeAndMaterialsTerms):
        return [("not_to_exceed", terms.not_to_exceed)] if terms.not_to_exceed else []
    if isinstance(terms, FixedFeeTerms):
        return [(f"milestones[{i}].amount", m.amount) for i, m in enumerate(terms.milestones)]
    if isinstance(terms, RetainerTerms):
        return [("amount_per_month", terms.amount_per_month)]
    if isinstance(terms, SubscriptionTerms):
        return [("amount_per_period", terms.amount_per_period)]
    assert isinstance(terms, ExpenseTerms)
    return []


def validate_contract(command: cmd.ApproveContract, rate_cards: Mapping[str, list[RateCard]]) -> None:
    """Structural checks: positive amounts in the contract currency, known rate cards, unique ids."""
    validate_lines(command.currency, command.billing_lines, rate_cards)


def validate_lines(currency: str, lines: list[BillingLine], rate_cards: Mapping[str, list[RateCard]]) -> None:
    """Every line's amounts positive and in `currency`, rate cards known, milestone ids unique."""
    bad = _Violations()
    milestone_ids: set[str] = set()
    for i, line in enumerate(lines):
        path = f"billing_lines[{i}].{BILLING_MODEL_FIELDS[line.terms.model]}"
        for name, money in _money_fields(line.terms):
            if money.currency != currency:
                bad.add(f"{path}.{name}.currency_code", f"must be the contract currency {currency}")
            if money.amount <= 0:
                bad.add(f"{path}.{name}.amount", "must be positive")
        if isinstance(line.terms, TimeAndMaterialsTerms) and not rate_cards.get(line.terms.rate_card_id):
            bad.add(f"{path}.rate_card_id", f"rate card {line.terms.rate_card_id!r} not found")
        if isinstance(line.terms, FixedFeeTerms):
            for j, spec in enumerate(line.terms.milestones):
                if spec.milestone_id in milestone_ids:
                    bad.add(f"{path}.milestones[{j}].milestone_id", "milestone ids must be unique")
                milestone_ids.add(spec.milestone_id)
    bad.raise_if_any()
