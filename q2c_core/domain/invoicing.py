"""Deciding billing commands: generate, issue, post, pay, void, and cap resolutions (pure)."""

from __future__ import annotations

from datetime import datetime, timedelta

from q2c_core.domain import commands as cmd
from q2c_core.domain import events as ev
from q2c_core.domain.base import trusted
from q2c_core.domain.billing import draft_invoice
from q2c_core.domain.context import DecisionContext
from q2c_core.domain.drafts import BillingDraft, Blocker
from q2c_core.domain.engagement import Engagement
from q2c_core.domain.entities import (
    BusinessException,
    EngagementState,
    ExceptionState,
    GatedStep,
    ItemStatus,
    Milestone,
    MilestoneStatus,
    Severity,
)
from q2c_core.domain.errors import NotFoundError, PreconditionError, ValidationError
from q2c_core.domain.evolve import fold
from q2c_core.domain.invoices import OPEN_ISSUED, CreditNote, Invoice, InvoiceState, Payment
from q2c_core.domain.limits import MAX_INVOICES_PER_ENGAGEMENT, check_capacity
from q2c_core.domain.money import Money
from q2c_core.domain.recurring import unbilled_recurring
from q2c_core.domain.routing import route

CAP_CHECK = "NOT_TO_EXCEED_CAP"
PARKING = ("MISSING_PO_REFERENCE", "MISSING_TAX_PROFILE", "UNPRICED_TIME")
"""Bill-run skips that need someone to act raise a REVIEW exception named after the reason."""


def _exception(
    state: Engagement, ctx: DecisionContext, n: int, check: str, message: str, item_ids: list[str]
) -> ev.BusinessExceptionRaised:
    queue, due = route(check, GatedStep.INVOICE, Severity.REVIEW, ctx.now)
    return ev.BusinessExceptionRaised(
        exception=BusinessException(
            exception_id=f"{ctx.engagement_id}.x{state.version + 1}.{n}",
            engagement_id=ctx.engagement_id,
            customer_id=state.customer_id,
            step=GatedStep.INVOICE,
            check=check,
            severity=Severity.REVIEW,
            message=message,
            item_ids=item_ids,
            raise_time=ctx.now,
            owner_queue=queue,
            sla_due_time=due,
        )
    )


def generate(state: Engagement, command: cmd.GenerateInvoice, ctx: DecisionContext) -> list[ev.Event]:
    """A draft invoice of everything billable; over-cap hours are held for an approver."""
    draft = draft_invoice(state, command.period, ctx.rate_cards, ctx.customer)
    events = _cap_holds(state, draft, ctx)
    stops = [b for b in draft.blockers if b.stops]
    if not stops:
        check_capacity("invoices", len(state.invoices), 1, MAX_INVOICES_PER_ENGAGEMENT)
        invoice = _invoice(state, command, draft, ctx)
        return [*events, ev.InvoiceGenerated(invoice=invoice, recurring_keys=draft.recurring_keys)]
    if any(b.kind == "PERIOD_ALREADY_INVOICED" for b in stops):
        raise _not_ready(stops)  # checked first: nothing is held or parked for an invoiced period
    parked = [b for b in stops if b.kind in PARKING]
    if command.bill_run_id and parked and not _already_parked(state, command, parked[0].kind):
        message = f"bill run {command.bill_run_id} skipped {command.period.key}: {parked[0].message}"
        return [*events, _exception(state, ctx, 0, parked[0].kind, message, [command.period.key])]
    if events and [b.kind for b in stops] == ["NOTHING_TO_BILL"]:
        return events  # every billable hour is over the cap: the holds stand, nothing else to bill
    raise _not_ready(stops)


def _cap_holds(state: Engagement, draft: BillingDraft, ctx: DecisionContext) -> list[ev.Event]:
    """Hold over-cap hours; one open cap exception per billing line covers all its held hours."""
    if not draft.held_at_cap:
        return []
    lines = sorted({state.time_entries[i].billing_line_id for i in draft.held_at_cap})
    open_lines = {x.item_ids[0] for x in state.open_exceptions() if x.check == CAP_CHECK and x.item_ids}
    raised = [
        _exception(
            state, ctx, n, CAP_CHECK, f"approved hours on line {line} exceed its not-to-exceed cap", [line]
        )
        for n, line in enumerate(lines, start=1)
        if line not in open_lines
    ]
    return [ev.TimeEntriesHeldAtCap(entry_ids=draft.held_at_cap), *raised]


def _not_ready(stops: list[Blocker]) -> PreconditionError:
    """PERIOD_ALREADY_INVOICED, then NOT_READY (stopping blockers), then NOTHING_TO_BILL."""
    kinds = [b.kind for b in stops]
    already = next((b for b in stops if b.kind == "PERIOD_ALREADY_INVOICED"), None)
    if already is not None:
        return PreconditionError(already.kind, already.message, {"invoice_id": already.item_ids[0]})
    ready_blockers = [k for k in kinds if k != "NOTHING_TO_BILL"]
    if ready_blockers:
        return PreconditionError(
            "NOT_READY",
            f"cannot invoice: {', '.join(ready_blockers)}",
            {"blockers": ",".join(ready_blockers)},
        )
    return PreconditionError("NOTHING_TO_BILL", stops[0].message, {})


def _already_parked(state: Engagement, command: cmd.GenerateInvoice, kind: str) -> bool:
    return any(x.check == kind and x.item_ids == [command.period.key] for x in state.open_exceptions())


def _invoice(
    state: Engagement, command: cmd.GenerateInvoice, draft: BillingDraft, ctx: DecisionContext
) -> Invoice:
    assert draft.tax is not None and state.contract is not None
    subtotal = draft.subtotal
    # every part is validated already (the command, the contract) or Money arithmetic's result
    return trusted(
        Invoice,
        {
            "invoice_id": f"{ctx.engagement_id}.inv.{len(state.invoices) + 1}",
            "engagement_id": ctx.engagement_id,
            "customer_id": state.customer_id,
            "period": command.period,
            "currency": draft.currency,
            "lines": draft.lines,
            "subtotal": subtotal,
            "tax": draft.tax,
            "total": subtotal + draft.tax.amount,  # draft.total, without summing the lines again
            "amount_paid": Money.zero(draft.currency),
            "bill_run_id": command.bill_run_id,
            "po_reference": state.contract.po_reference,
            "create_time": ctx.now,
            "update_time": ctx.now,
        },
    )


def _invoice_in(
    state: Engagement, invoice_id: str, allowed: tuple[InvoiceState, ...], action: str
) -> Invoice:
    invoice = state.invoices.get(invoice_id)
    if invoice is None:
        raise NotFoundError("invoice", invoice_id)
    if invoice.state not in allowed:
        raise PreconditionError(
            "INVALID_INVOICE_STATE",
            f"cannot {action} invoice {invoice_id}: it is {invoice.state.value}",
            {"invoice_id": invoice_id, "state": invoice.state.value},
        )
    return invoice


def issue(state: Engagement, command: cmd.IssueInvoice, ctx: DecisionContext) -> list[ev.Event]:
    """DRAFT -> ISSUED, due after the customer's payment terms."""
    invoice = _invoice_in(state, command.invoice_id, (InvoiceState.DRAFT,), "issue")
    if not invoice.lines or invoice.total.amount <= 0:
        raise PreconditionError(
            "EMPTY_INVOICE",
            f"invoice {invoice.invoice_id} has nothing to bill",
            {"invoice_id": invoice.invoice_id},
        )
    terms = ctx.customer.payment_terms_days if ctx.customer else 30
    today = ctx.now.date()
    return [
        ev.InvoiceIssued(
            invoice_id=invoice.invoice_id, issue_date=today, due_date=today + timedelta(days=terms)
        )
    ]


def post(state: Engagement, command: cmd.RecordInvoicePosting, ctx: DecisionContext) -> list[ev.Event]:
    """The ERP's acknowledgement of an issued invoice, in any later state; a repeat changes nothing."""
    issued = tuple(x for x in InvoiceState if x is not InvoiceState.DRAFT)
    invoice = _invoice_in(state, command.invoice_id, issued, "post")
    number = command.erp_document_number
    if invoice.erp_document_number == number:
        return []  # the ERP acknowledged it again: already recorded
    if invoice.erp_document_number:
        raise PreconditionError(
            "INVOICE_ALREADY_POSTED",
            f"invoice {invoice.invoice_id} is already posted as {invoice.erp_document_number}",
            {"invoice_id": invoice.invoice_id, "erp_document_number": invoice.erp_document_number},
        )
    return [ev.InvoicePosted(invoice_id=invoice.invoice_id, erp_document_number=number, post_time=ctx.now)]


def pay(state: Engagement, command: cmd.RecordPayment, ctx: DecisionContext) -> list[ev.Event]:
    """Record a payment in the invoice currency, never above the open balance."""
    invoice = _invoice_in(
        state, command.invoice_id, (*OPEN_ISSUED, InvoiceState.PARTIALLY_PAID), "record a payment on"
    )
    if command.amount.currency != invoice.currency:
        raise ValidationError.one("amount.currency_code", f"must be the invoice currency {invoice.currency}")
    if command.amount.amount > invoice.balance_due.amount:
        raise PreconditionError(
            "OVERPAYMENT",
            f"payment {command.amount} exceeds the open balance {invoice.balance_due}",
            {"invoice_id": invoice.invoice_id, "balance_due": str(invoice.balance_due.amount)},
        )
    payment = Payment(
        payment_id=f"{invoice.invoice_id}.pay.{len(invoice.payments) + 1}",
        amount=command.amount,
        received_date=command.received_date,
        reference=command.reference,
        record_time=ctx.now,
    )
    return with_closing(state, [ev.PaymentRecorded(invoice_id=invoice.invoice_id, payment=payment)], ctx.now)


def void(state: Engagement, command: cmd.VoidInvoice, ctx: DecisionContext) -> list[ev.Event]:
    """Void an unpaid invoice; an issued one gets a credit note. Its items can be billed again."""
    invoice = _invoice_in(state, command.invoice_id, (InvoiceState.DRAFT, *OPEN_ISSUED), "void")
    note = None
    if invoice.state in OPEN_ISSUED:
        note = CreditNote(
            credit_note_id=f"{invoice.invoice_id}.cn",
            amount=invoice.total,
            reason=command.reason,
            create_time=ctx.now,
        )
    voided = ev.InvoiceVoided(invoice_id=invoice.invoice_id, reason=command.reason, credit_note=note)
    return with_closing(state, [voided], ctx.now)


def closable(state: Engagement) -> bool:
    """COMPLETED, invoiced at least once, every invoice PAID or VOID, and nothing left to bill."""
    if state.state is not EngagementState.COMPLETED or not state.invoices:
        return False
    if not all(invoice.settled for invoice in state.invoices.values()):
        return False
    pending = (ItemStatus.SUBMITTED, ItemStatus.APPROVED, ItemStatus.HELD_AT_CAP)
    return (
        not any(e.status in pending for e in state.time_entries.values())
        and not any(x.status in pending for x in state.expenses.values())
        and not any(_unbilled_milestone(m) for m in state.milestones.values())
        and not unbilled_recurring(state)
    )


def _unbilled_milestone(milestone: Milestone) -> bool:
    if milestone.status is MilestoneStatus.COMPLETED:
        return True
    return milestone.status is MilestoneStatus.ACCEPTED and not milestone.invoice_id


def with_closing(state: Engagement, events: list[ev.Event], now: datetime) -> list[ev.Event]:
    """Append EngagementClosed when these events settle the last open item."""
    after = fold(((event, now) for event in events), state)
    return [*events, ev.EngagementClosed()] if after is not None and closable(after) else events


def resolve_cap(
    state: Engagement, exception: BusinessException, resolution: cmd.Resolution
) -> list[ev.Event]:
    """RELEASE or WRITE_OFF every hour of the exception's line held at the cap right now."""
    is_cap = exception.check == CAP_CHECK
    if is_cap == (resolution is cmd.Resolution.RESOLVE):
        needed = "RELEASE or WRITE_OFF" if is_cap else "no RELEASE / WRITE_OFF (plain resolution)"
        raise ValidationError.one("resolution", f"exception {exception.check} takes {needed}")
    if not is_cap:
        return []
    line = exception.item_ids[0] if exception.item_ids else ""
    held = [
        e.entry_id
        for e in state.time_entries.values()
        if e.status is ItemStatus.HELD_AT_CAP and e.billing_line_id == line
    ]
    if not held:
        return []
    if resolution is cmd.Resolution.RELEASE:
        return [ev.TimeEntriesReleasedFromCap(entry_ids=held)]
    return [ev.TimeEntriesWrittenOff(entry_ids=held)]


def exception_open(state: Engagement, exception_id: str) -> BusinessException:
    """The exception, which must exist and be open."""
    exception = state.exceptions.get(exception_id)
    if exception is None:
        raise NotFoundError("exception", exception_id)
    if exception.state is not ExceptionState.OPEN:
        raise PreconditionError(
            "EXCEPTION_ALREADY_RESOLVED",
            f"exception {exception_id} is already resolved",
            {"exception_id": exception_id},
        )
    return exception
