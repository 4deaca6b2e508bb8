"""How billing events change an engagement: cap holds, invoices, postings, payments, voids (pure).

Each rule is filed in this module's RULES table under its event type; q2c_core.domain.evolve
merges the tables explicitly.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from q2c_core.domain import events as ev
from q2c_core.domain.base import replaced
from q2c_core.domain.engagement import Engagement, billed_sources, rule_table, set_status
from q2c_core.domain.entities import ItemStatus
from q2c_core.domain.invoices import InvoiceState, LineSource

RULES, rule = rule_table()
"""This module's evolve rules by event type (merged in q2c_core.domain.evolve)."""


@rule
def _(event: ev.TimeEntriesHeldAtCap, state: Engagement, at: datetime) -> dict[str, Any]:
    return {
        "time_entries": set_status(state.time_entries, event.entry_ids, at, status=ItemStatus.HELD_AT_CAP)
    }


@rule
def _(event: ev.TimeEntriesReleasedFromCap, state: Engagement, at: datetime) -> dict[str, Any]:
    entries = set_status(
        state.time_entries, event.entry_ids, at, status=ItemStatus.APPROVED, cap_override=True
    )
    return {"time_entries": entries}


@rule
def _(event: ev.TimeEntriesWrittenOff, state: Engagement, at: datetime) -> dict[str, Any]:
    return {
        "time_entries": set_status(state.time_entries, event.entry_ids, at, status=ItemStatus.WRITTEN_OFF)
    }


@rule
def _(event: ev.InvoiceGenerated, state: Engagement, at: datetime) -> dict[str, Any]:
    invoice = event.invoice
    ids = billed_sources(invoice)
    billed = {"status": ItemStatus.BILLED, "invoice_id": invoice.invoice_id}
    return {
        "invoices": {**state.invoices, invoice.invoice_id: invoice},
        "invoiced_periods": {**state.invoiced_periods, invoice.period.key: invoice.invoice_id},
        "billed_recurring": {
            **state.billed_recurring,
            **dict.fromkeys(event.recurring_keys, invoice.invoice_id),
        },
        "time_entries": set_status(state.time_entries, ids[LineSource.TIME_ENTRY], at, **billed),
        "expenses": set_status(state.expenses, ids[LineSource.EXPENSE], at, **billed),
        "milestones": set_status(
            state.milestones, ids[LineSource.MILESTONE], at, invoice_id=invoice.invoice_id
        ),
    }


@rule
def _(event: ev.InvoiceIssued, state: Engagement, at: datetime) -> dict[str, Any]:
    return _invoice_update(
        state,
        event.invoice_id,
        at,
        state=InvoiceState.ISSUED,
        issue_date=event.issue_date,
        due_date=event.due_date,
    )


@rule
def _(event: ev.InvoicePosted, state: Engagement, at: datetime) -> dict[str, Any]:
    invoice = state.invoices[event.invoice_id]
    posted = InvoiceState.POSTED if invoice.state is InvoiceState.ISSUED else invoice.state
    return _invoice_update(
        state,
        event.invoice_id,
        at,
        state=posted,
        erp_document_number=event.erp_document_number,
        post_time=event.post_time,
    )


@rule
def _(event: ev.PaymentRecorded, state: Engagement, at: datetime) -> dict[str, Any]:
    invoice = state.invoices[event.invoice_id]
    paid = invoice.amount_paid + event.payment.amount
    settled = InvoiceState.PAID if paid.amount >= invoice.total.amount else InvoiceState.PARTIALLY_PAID
    return _invoice_update(
        state,
        event.invoice_id,
        at,
        amount_paid=paid,
        state=settled,
        payments=[*invoice.payments, event.payment],
    )


@rule
def _(event: ev.InvoiceVoided, state: Engagement, at: datetime) -> dict[str, Any]:
    invoice = state.invoices[event.invoice_id]
    ids = billed_sources(invoice)
    released = {"status": ItemStatus.APPROVED, "invoice_id": ""}
    periods = {k: v for k, v in state.invoiced_periods.items() if v != invoice.invoice_id}
    recurring = {k: v for k, v in state.billed_recurring.items() if v != invoice.invoice_id}
    return {
        **_invoice_update(
            state, event.invoice_id, at, state=InvoiceState.VOID, credit_note=event.credit_note
        ),
        "invoiced_periods": periods,
        "billed_recurring": recurring,
        "time_entries": set_status(state.time_entries, ids[LineSource.TIME_ENTRY], at, **released),
        "expenses": set_status(state.expenses, ids[LineSource.EXPENSE], at, **released),
        "milestones": set_status(state.milestones, ids[LineSource.MILESTONE], at, invoice_id=""),
    }


def _invoice_update(engagement: Engagement, invoice_id: str, at: datetime, **fields: Any) -> dict[str, Any]:
    updated = replaced(engagement.invoices[invoice_id], {**fields, "update_time": at})
    return {"invoices": {**engagement.invoices, invoice_id: updated}}
