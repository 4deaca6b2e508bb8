"""Deciding ERP reconciliation findings: one open REVIEW exception per invoice and mismatch (pure).

The exception's `item_ids` are `[invoice_id, mismatch, reconciliation_id]`, and its message
names all three: the wire shows the message, the domain dedupes on the ids.
"""

from __future__ import annotations

from q2c_core.domain import commands as cmd
from q2c_core.domain import events as ev
from q2c_core.domain.context import DecisionContext
from q2c_core.domain.engagement import Engagement
from q2c_core.domain.entities import BusinessException, GatedStep, Severity
from q2c_core.domain.errors import NotFoundError
from q2c_core.domain.invoices import ReconciliationMismatch
from q2c_core.domain.routing import route

RECONCILIATION_CHECK = "ERP_RECONCILIATION"
"""The check name of every reconciliation exception (routed to FINANCE_OPS)."""


def raise_mismatch(
    state: Engagement, command: cmd.RaiseReconciliationMismatch, ctx: DecisionContext
) -> list[ev.Event]:
    """A REVIEW exception for finance, unless one for this invoice and mismatch is still open."""
    known = command.invoice_id in state.invoices
    if not known and command.mismatch is not ReconciliationMismatch.UNKNOWN_IN_Q2C:
        raise NotFoundError("invoice", command.invoice_id)
    if _already_open(state, command):
        return []  # finance is already on it; a later reconciliation run found it again
    queue, due = route(RECONCILIATION_CHECK, GatedStep.INVOICE, Severity.REVIEW, ctx.now)
    message = (
        f"ERP reconciliation {command.reconciliation_id}: {command.mismatch.value} "
        f"for invoice {command.invoice_id}: {command.detail}"
    )
    exception = BusinessException(
        exception_id=f"{ctx.engagement_id}.x{state.version + 1}.1",
        engagement_id=ctx.engagement_id,
        customer_id=state.customer_id,
        step=GatedStep.INVOICE,
        check=RECONCILIATION_CHECK,
        severity=Severity.REVIEW,
        message=message,
        item_ids=[command.invoice_id, command.mismatch.value, command.reconciliation_id],
        raise_time=ctx.now,
        owner_queue=queue,
        sla_due_time=due,
    )
    return [ev.BusinessExceptionRaised(exception=exception)]


def _already_open(state: Engagement, command: cmd.RaiseReconciliationMismatch) -> bool:
    key = [command.invoice_id, command.mismatch.value]
    return any(x.check == RECONCILIATION_CHECK and x.item_ids[:2] == key for x in state.open_exceptions())
