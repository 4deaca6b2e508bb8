"""`decide`: the engagement's command handler; pure, given the state, command and context."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from q2c_core.domain import change_orders, invoicing, items, reconciliation
from q2c_core.domain import commands as cmd
from q2c_core.domain import events as ev
from q2c_core.domain.context import DecisionContext
from q2c_core.domain.engagement import Engagement
from q2c_core.domain.entities import (
    BusinessException,
    Contract,
    EngagementState,
    ExceptionState,
    Severity,
    TimeAndMaterialsTerms,
)
from q2c_core.domain.errors import InvalidStateError, NotFoundError, PreconditionError, ValidationError
from q2c_core.domain.lifecycle import Rejected, outcome
from q2c_core.domain.policies import Finding, GateResult, check_activation, check_close_won, check_contract
from q2c_core.domain.reference import Customer
from q2c_core.domain.routing import route


@dataclass(frozen=True, slots=True)
class ReferenceNeeds:
    """The reference data a command needs loaded before it can be decided."""

    customer_id: str | None
    rate_card_ids: frozenset[str]


NOTHING = ReferenceNeeds(None, frozenset())


def reference_needs(state: Engagement | None, command: cmd.Command) -> ReferenceNeeds:
    """Which customer and rate cards `decide` will read for this command."""
    needs = _NEEDS.get(type(command))  # by type, as decide dispatches: one lookup, not a chain
    return needs(state, command) if needs is not None else NOTHING


def _customer(state: Engagement | None) -> str | None:
    return state.customer_id if state else None


def _needs_of_create(state: Engagement | None, command: Any) -> ReferenceNeeds:
    return ReferenceNeeds(command.customer_id, frozenset())


def _needs_customer(state: Engagement | None, command: Any) -> ReferenceNeeds:
    return ReferenceNeeds(_customer(state), frozenset())


def _needs_of_contract(state: Engagement | None, command: Any) -> ReferenceNeeds:
    return ReferenceNeeds(_customer(state), _tm_rate_cards(command.billing_lines))


def _needs_of_time(state: Engagement | None, command: Any) -> ReferenceNeeds:
    return ReferenceNeeds(None, _contract_rate_cards(state)) if state else NOTHING


def _needs_of_invoice(state: Engagement | None, command: Any) -> ReferenceNeeds:
    return ReferenceNeeds(state.customer_id, _contract_rate_cards(state)) if state else NOTHING


def _needs_of_amendment(state: Engagement | None, command: Any) -> ReferenceNeeds:
    if not state:
        return NOTHING
    return ReferenceNeeds(None, _tm_rate_cards(command.billing_lines) | _contract_rate_cards(state))


_NEEDS: dict[type, Callable[[Engagement | None, Any], ReferenceNeeds]] = {
    cmd.CreateEngagement: _needs_of_create,
    cmd.CloseWonEngagement: _needs_customer,
    cmd.ApproveContract: _needs_of_contract,
    cmd.SubmitTimeEntries: _needs_of_time,
    cmd.GenerateInvoice: _needs_of_invoice,
    cmd.IssueInvoice: _needs_customer,
    cmd.AmendContract: _needs_of_amendment,
}


def _contract_rate_cards(state: Engagement) -> frozenset[str]:
    """Rate cards of every contract revision's T&M lines."""
    revisions = state.contract_revisions or ([state.contract] if state.contract else [])
    return frozenset().union(*(_tm_rate_cards(c.billing_lines) for c in revisions))


def _tm_rate_cards(lines: list[Any]) -> frozenset[str]:
    return frozenset(
        line.terms.rate_card_id for line in lines if isinstance(line.terms, TimeAndMaterialsTerms)
    )


def decide(state: Engagement | None, command: cmd.Command, ctx: DecisionContext) -> list[ev.Event]:
    """The events that accepting `command` records, or a domain error saying why not."""
    if state is None:
        if isinstance(command, cmd.CreateEngagement):
            return _create(command, ctx)
        raise NotFoundError("engagement", ctx.engagement_id)
    verdict = outcome(state.state, command.kind)
    if isinstance(verdict, Rejected):
        raise InvalidStateError(command.kind, state.state.value, verdict.detail)
    handler = _HANDLERS[type(command)]
    return handler(state, command, ctx)


def _require_customer(ctx: DecisionContext, customer_id: str) -> Customer:
    if ctx.customer is None:
        raise NotFoundError("customer", customer_id)
    return ctx.customer


def _create(command: cmd.CreateEngagement, ctx: DecisionContext) -> list[ev.Event]:
    _require_customer(ctx, command.customer_id)
    return [
        ev.EngagementCreated(
            engagement_id=ctx.engagement_id,
            customer_id=command.customer_id,
            display_name=command.display_name,
            opportunity_ref=command.opportunity_ref,
            expected_start_date=command.expected_start_date,
            service_line=command.service_line,
        )
    ]


def _gate(state: Engagement, gate: GateResult, ctx: DecisionContext, passed: ev.Event) -> list[ev.Event]:
    """Blocking findings put the engagement on hold; otherwise record the rest and pass."""
    blocking = gate.blocking
    chosen = blocking if blocking else gate.findings
    raised: list[ev.Event] = [
        ev.BusinessExceptionRaised(exception=_raised(state, gate, ctx, n, finding))
        for n, finding in enumerate(chosen, start=1)
    ]
    if blocking:
        return [*raised, ev.EngagementPutOnHold(step=gate.step, held_from=state.state)]
    return [*raised, passed]


def _raised(
    state: Engagement, gate: GateResult, ctx: DecisionContext, n: int, finding: Finding
) -> BusinessException:
    """The exception a finding raises, routed to its owner queue with its SLA."""
    corrected = finding.severity is Severity.AUTO_CORRECTED
    queue, due = route(finding.check, gate.step, finding.severity, ctx.now)
    return BusinessException(
        exception_id=f"{ctx.engagement_id}.x{state.version + 1}.{n}",
        engagement_id=ctx.engagement_id,
        customer_id=state.customer_id,
        step=gate.step,
        check=finding.check,
        severity=finding.severity,
        state=ExceptionState.RESOLVED if corrected else ExceptionState.OPEN,
        message=finding.message,
        correction=finding.correction,
        resolution_note="auto-corrected" if corrected else "",
        resolved_by="q2c" if corrected else "",
        raise_time=ctx.now,
        resolve_time=ctx.now if corrected else None,
        owner_queue=queue,
        sla_due_time=due,
    )


def _qualify(state: Engagement, command: cmd.QualifyEngagement, ctx: DecisionContext) -> list[ev.Event]:
    return [ev.EngagementQualified()]


def _close_won(state: Engagement, command: cmd.CloseWonEngagement, ctx: DecisionContext) -> list[ev.Event]:
    customer = _require_customer(ctx, state.customer_id)
    gate = check_close_won(customer, state.service_line)
    service_line = str(gate.corrected.get("service_line", ""))
    return _gate(state, gate, ctx, ev.EngagementWon(service_line=service_line))


def _approve_contract(
    state: Engagement, command: cmd.ApproveContract, ctx: DecisionContext
) -> list[ev.Event]:
    customer = _require_customer(ctx, state.customer_id)
    items.validate_contract(command, ctx.rate_cards)
    tm_lines = [line.terms for line in command.billing_lines if isinstance(line.terms, TimeAndMaterialsTerms)]
    gate = check_contract(
        customer,
        command.currency,
        command.start_date,
        command.end_date,
        command.po_reference,
        tm_lines,
        dict(ctx.rate_cards),
    )
    contract = Contract(
        revision=1,
        currency=command.currency,
        start_date=command.start_date,
        end_date=command.end_date,
        po_reference=str(gate.corrected["po_reference"]),
        billing_lines=command.billing_lines,
        approve_time=ctx.now,
    )
    return _gate(state, gate, ctx, ev.ContractApproved(contract=contract))


def _activate(state: Engagement, command: cmd.ActivateEngagement, ctx: DecisionContext) -> list[ev.Event]:
    contract = state.contract
    if contract is None:  # the lifecycle only allows activation once contracted
        raise PreconditionError("CONTRACT_MISSING", "the engagement has no approved contract")
    gate = check_activation(
        command.start_date,
        contract.start_date,
        contract.end_date,
        command.project_template_id,
        len(command.staffing_plan),
    )
    activated = ev.EngagementActivated(
        start_date=gate.corrected["start_date"],
        project_template_id=command.project_template_id,
        staffing_plan=command.staffing_plan,
    )
    return _gate(state, gate, ctx, activated)


def _complete(state: Engagement, command: cmd.CompleteEngagement, ctx: DecisionContext) -> list[ev.Event]:
    return invoicing.with_closing(state, [ev.EngagementCompleted()], ctx.now)


def _cancel(state: Engagement, command: cmd.CancelEngagement, ctx: DecisionContext) -> list[ev.Event]:
    return [ev.EngagementCancelled(reason=command.reason)]


def _resolve(state: Engagement, command: cmd.ResolveException, ctx: DecisionContext) -> list[ev.Event]:
    exception = invoicing.exception_open(state, command.exception_id)
    effects = invoicing.resolve_cap(state, exception, command.resolution)
    result: list[ev.Event] = [
        ev.BusinessExceptionResolved(
            exception_id=command.exception_id,
            resolution_note=command.resolution_note,
            resolved_by=ctx.principal,
        )
    ]
    still_blocking = [x for x in state.open_blocking() if x.exception_id != command.exception_id]
    if state.state is EngagementState.ON_HOLD and not still_blocking and state.held_from:
        result.append(ev.EngagementReleasedFromHold(returned_to=state.held_from))
    return invoicing.with_closing(state, [*result, *effects], ctx.now)


Handler = Callable[[Engagement, Any, DecisionContext], list[ev.Event]]


def _closing(handler: Handler) -> Handler:
    """Rejecting the last pending item of a settled COMPLETED engagement closes it too."""

    def decide_then_close(state: Engagement, command: Any, ctx: DecisionContext) -> list[ev.Event]:
        return invoicing.with_closing(state, handler(state, command, ctx), ctx.now)

    return decide_then_close


def _addressed(handler: Handler) -> Handler:
    """Commands that name their engagement must name the one they are sent to."""

    def decide_if_addressed(state: Engagement, command: Any, ctx: DecisionContext) -> list[ev.Event]:
        if command.engagement_id != ctx.engagement_id:
            message = f"names engagement {command.engagement_id!r}, not {ctx.engagement_id!r}"
            raise ValidationError.one("engagement_id", message)
        return handler(state, command, ctx)

    return decide_if_addressed


_HANDLERS: dict[type, Handler] = {
    cmd.QualifyEngagement: _qualify,
    cmd.CloseWonEngagement: _close_won,
    cmd.ApproveContract: _approve_contract,
    cmd.ActivateEngagement: _activate,
    cmd.SubmitTimeEntries: items.submit_time,
    cmd.ApproveTimeEntries: items.approve_time,
    cmd.RejectTimeEntries: _closing(items.reject_time),
    cmd.SubmitExpenses: items.submit_expenses,
    cmd.ApproveExpenses: items.approve_expenses,
    cmd.RejectExpenses: _closing(items.reject_expenses),
    cmd.CompleteMilestone: items.complete_milestone,
    cmd.AcceptMilestone: items.accept_milestone,
    cmd.RejectMilestone: _closing(items.reject_milestone),
    cmd.CompleteEngagement: _complete,
    cmd.CancelEngagement: _cancel,
    cmd.ResolveException: _resolve,
    cmd.GenerateInvoice: invoicing.generate,
    cmd.IssueInvoice: invoicing.issue,
    cmd.RecordPayment: invoicing.pay,
    cmd.VoidInvoice: invoicing.void,
    cmd.AmendContract: change_orders.amend,
    cmd.RecordInvoicePosting: _addressed(invoicing.post),
    cmd.RaiseReconciliationMismatch: _addressed(reconciliation.raise_mismatch),
}
