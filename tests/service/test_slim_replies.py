"""IssueInvoice, RecordPayment, VoidInvoice and ResolveException run as slim replies: the host
sends back the invoice (or exception) the command changed, not the engagement tree. A replay,
even after later commands, answers what the original did. Over both runtimes (on Ray the
result crosses from the shard without the engagement)."""

from __future__ import annotations

import pickle
from datetime import date

from actors.runtime import RayRuntime
from q2c.v1 import billing_pb2, exception_pb2
from q2c.v1 import engagement_pb2 as pb
from q2c_core.app.messages import Caller, CommandEnvelope
from q2c_core.app.runtime import LocalRuntime
from q2c_core.edge.converters import convert
from tests.service import flows
from tests.service.billing_flows import active_on, approved_time, entry, invoice_for, payment, tm_line
from tests.service.client import Api, rid


async def draft(api: Api, period: str = "2026-01") -> tuple[str, billing_pb2.Invoice]:
    """A billable engagement and its DRAFT invoice for `period` (2026-01 or 2026-02)."""
    billable = await active_on(api, lambda card: [tm_line(card)])
    eid = billable.engagement_id
    await approved_time(api, eid, entry(1, date(2026, 1, 5)), entry(2, date(2026, 2, 3)))
    return eid, await invoice_for(api, eid, period)


async def test_issue_invoice_replay_returns_the_invoice_as_issued(api: Api) -> None:
    _, invoice = await draft(api)
    request = billing_pb2.IssueInvoiceRequest(request_id=rid(), invoice_id=invoice.invoice_id)
    issued = await api.billing.IssueInvoice(request)
    assert issued.state == billing_pb2.INVOICE_STATE_ISSUED
    assert issued == await api.billing.GetInvoice(
        billing_pb2.GetInvoiceRequest(invoice_id=invoice.invoice_id)
    )

    assert await api.billing.IssueInvoice(request) == issued
    await api.billing.RecordPayment(payment(invoice.invoice_id, "100.00"))  # the invoice moves on
    assert await api.billing.IssueInvoice(request) == issued  # the replay answers as it was then


async def test_record_payment_replay_returns_the_invoice_as_paid(api: Api) -> None:
    _, invoice = await draft(api)
    await api.billing.IssueInvoice(
        billing_pb2.IssueInvoiceRequest(request_id=rid(), invoice_id=invoice.invoice_id)
    )
    request = payment(invoice.invoice_id, "100.00")
    paid = await api.billing.RecordPayment(request)
    assert len(paid.payments) == 1 and paid.balance_due != invoice.balance_due
    assert paid == await api.billing.GetInvoice(billing_pb2.GetInvoiceRequest(invoice_id=invoice.invoice_id))

    assert await api.billing.RecordPayment(request) == paid
    await api.billing.RecordPayment(payment(invoice.invoice_id, "50.00"))
    assert await api.billing.RecordPayment(request) == paid
    again = await api.billing.GetInvoice(billing_pb2.GetInvoiceRequest(invoice_id=invoice.invoice_id))
    assert len(again.payments) == 2  # the replays recorded nothing


async def test_void_invoice_replay_returns_the_voided_invoice(api: Api) -> None:
    eid, invoice = await draft(api)
    request = billing_pb2.VoidInvoiceRequest(request_id=rid(), invoice_id=invoice.invoice_id, reason="redo")
    voided = await api.billing.VoidInvoice(request)
    assert voided.state == billing_pb2.INVOICE_STATE_VOID
    assert voided == await api.billing.GetInvoice(
        billing_pb2.GetInvoiceRequest(invoice_id=invoice.invoice_id)
    )

    await invoice_for(api, eid, "2026-02")  # a later command on the engagement
    assert await api.billing.VoidInvoice(request) == voided


async def test_resolve_exception_replay_returns_the_exception_as_resolved(api: Api) -> None:
    engagement = await flows.qualified(api, tax_profile=None)
    eid = engagement.engagement_id
    held = await api.engagements.CloseWonEngagement(
        pb.CloseWonEngagementRequest(request_id=rid(), engagement_id=eid)
    )
    assert held.state == pb.ENGAGEMENT_STATE_ON_HOLD
    [exception_id] = held.open_exception_ids
    request = exception_pb2.ResolveExceptionRequest(
        request_id=rid(), exception_id=exception_id, resolution_note="tax profile added"
    )
    resolved = await api.exceptions.ResolveException(request)
    assert resolved.state == exception_pb2.EXCEPTION_STATE_RESOLVED and resolved.resolved_by == "alice"
    stored = await api.exceptions.GetException(exception_pb2.GetExceptionRequest(exception_id=exception_id))

    replayed = await api.exceptions.ResolveException(request)
    await api.engagements.CloseWonEngagement(
        pb.CloseWonEngagementRequest(request_id=rid(), engagement_id=eid)
    )
    later = await api.exceptions.ResolveException(request)
    for reply in (resolved, stored, replayed, later):
        reply.ClearField("age")  # computed as of the call
    assert resolved == stored == replayed == later


async def test_the_host_sends_the_changed_invoice_not_the_engagement(
    api: Api, runtime: LocalRuntime | RayRuntime
) -> None:
    eid, invoice = await draft(api)
    caller = Caller(tenant_id=api.tenant_id, principal="alice")
    request = billing_pb2.IssueInvoiceRequest(request_id=rid(), invoice_id=invoice.invoice_id)
    command = convert.issue_invoice(request).command

    def envelope(*, slim: bool) -> CommandEnvelope:
        return CommandEnvelope(
            caller=caller, engagement_id=eid, request_id=request.request_id, command=command, slim_reply=slim
        )

    slim = await runtime.execute(envelope(slim=True))  # on Ray: what the shard sent
    full = await runtime.execute(envelope(slim=False))  # the replay, with the engagement rebuilt

    assert slim.ok and slim.engagement is None and slim.invoice is not None and slim.exception is None
    assert full.replayed and full.engagement is not None
    assert slim.invoice == full.engagement.invoices[invoice.invoice_id] == full.invoice
    assert len(pickle.dumps(slim)) * 2 < len(pickle.dumps(full))  # even on a small engagement
