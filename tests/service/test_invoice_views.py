"""InvoiceView (AIP-157): BASIC replies carry every field of the invoice but its lines; UNSPECIFIED
and FULL carry the whole invoice; a replay answers in the view asked for; an unknown view is
INVALID_ARGUMENT before anything runs. Over both runtimes and both databases."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import date

import grpc

from actors.runtime import RayRuntime
from q2c.v1 import billing_pb2
from q2c_core.app.messages import Caller, CommandResult
from q2c_core.app.runtime import LocalRuntime
from q2c_core.edge.converters import convert
from tests.service.billing_flows import (
    Billable,
    active_on,
    approved_expense,
    approved_time,
    entry,
    expense_line,
    generate_request,
    payment,
    tm_line,
)
from tests.service.client import Api, error_info, field_paths, rich_error, rid

BASIC = billing_pb2.INVOICE_VIEW_BASIC
FULL = billing_pb2.INVOICE_VIEW_FULL


def without_lines(full: billing_pb2.Invoice) -> billing_pb2.Invoice:
    """What BASIC must be: the full invoice with its lines emptied."""
    basic = billing_pb2.Invoice()
    basic.CopyFrom(full)
    basic.ClearField("lines")
    return basic


async def get(
    api: Api, invoice_id: str, view: int = billing_pb2.INVOICE_VIEW_UNSPECIFIED
) -> billing_pb2.Invoice:
    reply: billing_pb2.Invoice = await api.billing.GetInvoice(
        billing_pb2.GetInvoiceRequest(invoice_id=invoice_id, view=view)
    )
    return reply


async def billable(api: Api) -> Billable:
    """An ACTIVE engagement with 3 approved time entries and an approved expense in January."""
    found = await active_on(api, lambda card: [tm_line(card), expense_line("0")])
    eid = found.engagement_id
    await approved_time(api, eid, *(entry(n, date(2026, 1, 4 + n)) for n in (1, 2, 3)))
    await approved_expense(api, eid, "X1", date(2026, 1, 9), "120.50")
    return found


async def test_basic_generate_issue_and_pay_return_the_invoice_without_its_lines(api: Api) -> None:
    eid = (await billable(api)).engagement_id
    request = generate_request(eid, "2026-01")
    request.view = BASIC
    generated = await api.engagements.GenerateInvoice(request)
    invoice_id = generated.invoice_id
    full = await get(api, invoice_id)
    assert len(full.lines) == 4 and not generated.lines
    assert generated == without_lines(full)
    assert (generated.state, generated.total) == (billing_pb2.INVOICE_STATE_DRAFT, full.total)

    issued = await api.billing.IssueInvoice(
        billing_pb2.IssueInvoiceRequest(request_id=rid(), invoice_id=invoice_id, view=BASIC)
    )
    assert issued.state == billing_pb2.INVOICE_STATE_ISSUED and issued.balance_due == full.total
    assert issued == without_lines(await get(api, invoice_id, FULL))

    pay = payment(invoice_id, "100.00")
    pay.view = BASIC
    paid = await api.billing.RecordPayment(pay)
    assert [p.amount.amount for p in paid.payments] == ["100.00"] and not paid.lines
    assert paid == without_lines(await get(api, invoice_id))
    assert paid == await get(api, invoice_id, BASIC)


async def test_basic_void_returns_the_void_invoice_without_its_lines(api: Api) -> None:
    eid = (await billable(api)).engagement_id
    draft = await api.engagements.GenerateInvoice(generate_request(eid, "2026-01"))
    voided = await api.billing.VoidInvoice(
        billing_pb2.VoidInvoiceRequest(request_id=rid(), invoice_id=draft.invoice_id, reason="x", view=BASIC)
    )
    assert voided.state == billing_pb2.INVOICE_STATE_VOID
    assert not voided.lines and len(draft.lines) == 4
    assert voided == without_lines(await get(api, draft.invoice_id))


async def test_unspecified_and_full_views_return_every_line(api: Api) -> None:
    eid = (await billable(api)).engagement_id
    unspecified = await api.engagements.GenerateInvoice(generate_request(eid, "2026-01"))
    assert len(unspecified.lines) == 4 and unspecified == await get(api, unspecified.invoice_id, FULL)
    issued = await api.billing.IssueInvoice(
        billing_pb2.IssueInvoiceRequest(request_id=rid(), invoice_id=unspecified.invoice_id, view=FULL)
    )
    assert [line.line_id for line in issued.lines] == [line.line_id for line in unspecified.lines]
    assert issued == await get(api, unspecified.invoice_id)


async def test_a_replay_answers_in_the_view_asked_for(api: Api) -> None:
    eid = (await billable(api)).engagement_id
    request = generate_request(eid, "2026-01")
    request.view = BASIC
    first = await api.engagements.GenerateInvoice(request)
    request.view = FULL  # the view is not part of the payload: the same request, replayed
    replayed = await api.engagements.GenerateInvoice(request)
    assert len(replayed.lines) == 4 and without_lines(replayed) == first

    pay = payment(first.invoice_id, "10.00")
    await api.billing.IssueInvoice(
        billing_pb2.IssueInvoiceRequest(request_id=rid(), invoice_id=first.invoice_id)
    )
    full = await api.billing.RecordPayment(pay)
    pay.view = BASIC
    assert await api.billing.RecordPayment(pay) == without_lines(full)
    assert len((await get(api, first.invoice_id)).payments) == 1  # replayed, not paid twice


async def test_an_unknown_view_is_invalid_argument_and_nothing_runs(api: Api) -> None:
    eid = (await billable(api)).engagement_id
    request = generate_request(eid, "2026-01")
    request.view = 7
    code, status = await rich_error(api.engagements.GenerateInvoice(request))
    assert (code, error_info(status).reason) == (grpc.StatusCode.INVALID_ARGUMENT, "VALIDATION_FAILED")
    assert field_paths(status) == ["view"]
    request.view = BASIC
    draft = await api.engagements.GenerateInvoice(request)  # the same request_id: it never ran

    bad_payment = payment(draft.invoice_id, "1.00")
    bad_payment.view = 5
    for call in (
        api.billing.RecordPayment(bad_payment),
        api.billing.IssueInvoice(
            billing_pb2.IssueInvoiceRequest(request_id=rid(), invoice_id=draft.invoice_id, view=9)
        ),
        api.billing.GetInvoice(billing_pb2.GetInvoiceRequest(invoice_id=draft.invoice_id, view=-1)),
        api.billing.VoidInvoice(
            billing_pb2.VoidInvoiceRequest(request_id=rid(), invoice_id=draft.invoice_id, reason="x", view=3)
        ),
    ):
        code, status = await rich_error(call)
        assert code == grpc.StatusCode.INVALID_ARGUMENT and field_paths(status) == ["view"]
    assert (await get(api, draft.invoice_id)).state == billing_pb2.INVOICE_STATE_DRAFT


async def test_a_basic_reply_leaves_the_host_without_lines_and_the_stored_reply_keeps_them(
    api: Api, runtime: LocalRuntime | RayRuntime
) -> None:
    eid = (await billable(api)).engagement_id
    draft = await api.engagements.GenerateInvoice(generate_request(eid, "2026-01"))
    caller = Caller(tenant_id=api.tenant_id, principal="alice")
    issue = convert.issue_invoice(
        billing_pb2.IssueInvoiceRequest(request_id=rid(), invoice_id=draft.invoice_id)
    )

    def run(*, lines: bool) -> Awaitable[CommandResult]:
        return runtime.run(caller, eid, issue.request_id, issue.command, slim=True, invoice_lines=lines)

    basic = await run(lines=False)  # on Ray: what the shard sent
    assert (
        basic.invoice is not None
        and basic.invoice.lines == []
        and basic.invoice.invoice_id == draft.invoice_id
    )
    replayed = await run(lines=True)  # the same request again, asking for the lines
    assert replayed.replayed and replayed.invoice is not None and len(replayed.invoice.lines) == 4
    assert replayed.invoice.model_copy(update={"lines": []}) == basic.invoice


async def test_list_invoices_in_basic_view_has_no_lines(api: Api) -> None:
    eid = (await billable(api)).engagement_id
    draft = await api.engagements.GenerateInvoice(generate_request(eid, "2026-01"))

    async def page(view: int) -> list[billing_pb2.Invoice]:
        reply = await api.billing.ListInvoices(billing_pb2.ListInvoicesRequest(engagement_id=eid, view=view))
        return list(reply.invoices)

    full, basic = await page(billing_pb2.INVOICE_VIEW_UNSPECIFIED), await page(BASIC)
    assert [i.invoice_id for i in full] == [draft.invoice_id] and len(full[0].lines) == 4
    assert basic == [without_lines(full[0])] and full == await page(FULL)
    code, status = await rich_error(
        api.billing.ListInvoices(billing_pb2.ListInvoicesRequest(engagement_id=eid, view=4))
    )
    assert code == grpc.StatusCode.INVALID_ARGUMENT and field_paths(status) == ["view"]
