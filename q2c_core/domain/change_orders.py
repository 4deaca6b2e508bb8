"""Deciding change orders: `AmendContract` makes a new contract revision from a date (pure)."""

from __future__ import annotations

from q2c_core.domain import commands as cmd
from q2c_core.domain import events as ev
from q2c_core.domain.context import DecisionContext
from q2c_core.domain.engagement import Engagement
from q2c_core.domain.entities import (
    Contract,
    FixedFeeTerms,
    ItemStatus,
    MilestoneStatus,
    TimeAndMaterialsTerms,
)
from q2c_core.domain.errors import FieldViolation, PreconditionError, ValidationError
from q2c_core.domain.invoices import InvoiceState
from q2c_core.domain.items import validate_lines
from q2c_core.domain.limits import MAX_CONTRACT_REVISIONS, check_capacity
from q2c_core.domain.pricing import rate_on


def amend(state: Engagement, command: cmd.AmendContract, ctx: DecisionContext) -> list[ev.Event]:
    """A new contract revision from the effective date; invoiced periods are never re-termed."""
    current = state.contract
    assert current is not None
    check_capacity("contract_revisions", len(state.contract_revisions), 1, MAX_CONTRACT_REVISIONS)
    invoiced_to = max(
        (i.period.end for i in state.invoices.values() if i.state is not InvoiceState.VOID), default=None
    )
    if invoiced_to is not None and command.effective_date <= invoiced_to:
        raise PreconditionError(
            "EFFECTIVE_DATE_IN_INVOICED_PERIOD",
            f"effective date {command.effective_date} is not after the last invoiced day {invoiced_to}",
            {
                "effective_date": command.effective_date.isoformat(),
                "invoiced_through": invoiced_to.isoformat(),
            },
        )
    _check_amendment(state, current, command, ctx)
    contract = Contract(
        revision=len(state.contract_revisions) + 1,
        currency=current.currency,
        start_date=current.start_date,
        end_date=current.end_date,
        po_reference=current.po_reference
        if command.po_reference is None
        else command.po_reference.strip().upper(),
        billing_lines=command.billing_lines,
        approve_time=ctx.now,
        effective_from=command.effective_date,
    )
    return [ev.ContractAmended(contract=contract)]


def _check_amendment(
    state: Engagement, current: Contract, command: cmd.AmendContract, ctx: DecisionContext
) -> None:
    bad = _effective_date_violations(current, command)
    try:
        validate_lines(current.currency, command.billing_lines, ctx.rate_cards)
    except ValidationError as error:
        bad += error.field_violations
    bad += _locked_milestone_violations(state, command)
    bad += _unpriceable(state, command, ctx)
    if bad:
        raise ValidationError(bad)


def _effective_date_violations(current: Contract, command: cmd.AmendContract) -> list[FieldViolation]:
    """The change takes effect inside the contract period, after the latest revision's start."""
    bad: list[FieldViolation] = []
    if command.effective_date < current.start_date or (
        current.end_date and command.effective_date > current.end_date
    ):
        bad.append(FieldViolation(field="effective_date", description="must lie within the contract period"))
    elif command.effective_date <= current.effective:
        bad.append(
            FieldViolation(
                field="effective_date",
                description=f"must be after the latest revision's effective date {current.effective}",
            )
        )
    return bad


def _locked_milestone_violations(state: Engagement, command: cmd.AmendContract) -> list[FieldViolation]:
    """Accepted or billed milestones keep their line and amount under the new terms."""
    bad: list[FieldViolation] = []
    specs = {
        spec.milestone_id: (line.line_id, spec)
        for line in command.billing_lines
        if isinstance(line.terms, FixedFeeTerms)
        for spec in line.terms.milestones
    }
    for milestone in state.milestones.values():
        locked = milestone.status is MilestoneStatus.ACCEPTED or milestone.invoice_id
        line_id, spec = specs.get(milestone.milestone_id, ("", None))
        if locked and (
            spec is None or spec.amount != milestone.amount or line_id != milestone.billing_line_id
        ):
            bad.append(
                FieldViolation(
                    field="billing_lines",
                    description=f"accepted milestone {milestone.milestone_id} must be kept as is",
                )
            )
    return bad


def _unpriceable(state: Engagement, command: cmd.AmendContract, ctx: DecisionContext) -> list[FieldViolation]:
    """Unbilled hours dated on/after the change must still have a rate under the new terms."""
    lines = {line.line_id: line.terms for line in command.billing_lines}
    bad = []
    for entry in state.time_entries.values():
        if entry.work_date < command.effective_date or entry.status in (
            ItemStatus.BILLED,
            ItemStatus.REJECTED,
            ItemStatus.WRITTEN_OFF,
        ):
            continue
        terms = lines.get(entry.billing_line_id)
        card = (
            rate_on(ctx.rate_cards.get(terms.rate_card_id, []), entry.work_date)
            if isinstance(terms, TimeAndMaterialsTerms)
            else None
        )
        if card is None or entry.role not in card.rates:
            bad.append(
                FieldViolation(
                    field="billing_lines",
                    description=f"time entry {entry.entry_id} ({entry.role}, {entry.work_date}) has no rate",
                )
            )
    return bad
