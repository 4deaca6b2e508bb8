"""The invoice lifecycle over gRPC: issue, pay, void and re-bill, change orders, closing, lists."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import grpc
from google.rpc import error_details_pb2

from q2c.v1 import audit_pb2, billing_pb2
from q2c.v1 import engagement_pb2 as pb
from tests.service import flows
from tests.service.billing_flows import (
    NO_TAX,
    accepted_milestone,
    active_on,
    amounts,
    approved_time,
    engagement,
    entry,
    fixed_fee_line,
    generate_request,
    invoice_for,
    issued,
    paid,
    payment,
    tm_line,
)
from tests.service.client import Api, error_info, gdate, money, rich_error, rid, unpack


async def _billed_time(api: Api, **customer_fields: object) -> tuple[str, billing_pb2.Invoice]:
    """A T&M engagement with a January DRAFT of two entries: 1200.00 + 600.00 (+ 8.875 % tax)."""
    billable = await active_on(api, lambda card: [tm_line(card)], **customer_fields)
    eid = billable.engagement_id
    await approved_time(api, eid, entry(1, date(2026, 1, 5)), entry(2, date(2026, 1, 6), hours="4"))
    return eid, await invoice_for(api, eid, "2026-01")


async def test_invoice_goes_from_draft_to_issued_partially_paid_and_paid(api: Api) -> None:
    _, draft = await _billed_time(api, payment_terms_days=45)
    assert draft.total == money("1959.75") and not draft.HasField("issue_date")

    sent = await issued(api, draft.invoice_id)
    today = datetime.now(UTC).date()
    assert sent.state == billing_pb2.INVOICE_STATE_ISSUED
    assert (sent.issue_date, sent.due_date) == (gdate(today), gdate(today + timedelta(days=45)))
    part = await paid(api, draft.invoice_id, "959.75")
    assert part.state == billing_pb2.INVOICE_STATE_PARTIALLY_PAID
    assert (part.amount_paid.amount, part.balance_due.amount) == ("959.75", "1000.00")
    assert part.etag != sent.etag
    full = await paid(api, draft.invoice_id, "1000")

    assert full.state == billing_pb2.INVOICE_STATE_PAID and full.balance_due == money("0.00")
    assert [(p.amount.amount, p.reference) for p in full.payments] == [
        ("959.75", "WIRE-1"),
        ("1000.00", "WIRE-1"),
    ]
    fetched = await api.billing.GetInvoice(billing_pb2.GetInvoiceRequest(invoice_id=draft.invoice_id))
    assert fetched == full


async def test_generate_invoice_retry_returns_the_same_invoice(api: Api) -> None:
    billable = await active_on(api, lambda card: [tm_line(card)])
    await approved_time(api, billable.engagement_id, entry(1, date(2026, 1, 5)))
    request = generate_request(billable.engagement_id, "2026-01")

    first = await api.engagements.GenerateInvoice(request)
    again = await api.engagements.GenerateInvoice(request)

    assert again == first


async def test_voiding_an_issued_invoice_credits_it_and_bills_its_items_again_once(api: Api) -> None:
    eid, draft = await _billed_time(api)
    await issued(api, draft.invoice_id)

    voided = await api.billing.VoidInvoice(
        billing_pb2.VoidInvoiceRequest(request_id=rid(), invoice_id=draft.invoice_id, reason="wrong PO")
    )

    assert voided.state == billing_pb2.INVOICE_STATE_VOID and voided.balance_due == money("0.00")
    assert (voided.credit_note.amount, voided.credit_note.reason) == (draft.total, "wrong PO")
    released = await engagement(api, eid)
    assert {(e.status, e.invoice_id) for e in released.time_entries} == {(pb.TIME_ENTRY_STATUS_APPROVED, "")}
    rebilled = await invoice_for(api, eid, "2026-01")
    assert rebilled.invoice_id != draft.invoice_id
    assert amounts(rebilled) == amounts(draft) and rebilled.total == draft.total
    assert list((await engagement(api, eid)).invoice_ids) == [draft.invoice_id, rebilled.invoice_id]
    _, status = await rich_error(api.engagements.GenerateInvoice(generate_request(eid, "2026-02")))
    assert error_info(status).reason == "NOTHING_TO_BILL"  # nothing is billed twice


async def test_voiding_a_draft_needs_no_credit_note(api: Api) -> None:
    _, draft = await _billed_time(api)
    voided = await api.billing.VoidInvoice(
        billing_pb2.VoidInvoiceRequest(request_id=rid(), invoice_id=draft.invoice_id, reason="redo")
    )
    assert voided.state == billing_pb2.INVOICE_STATE_VOID and not voided.HasField("credit_note")


async def test_change_order_mid_month_prices_each_entry_under_the_terms_of_its_day(api: Api) -> None:
    billable = await active_on(api, lambda card: [tm_line(card)])
    eid = billable.engagement_id
    senior = await _rate_card(api, engineer="180.00")
    await approved_time(api, eid, entry(1, date(2026, 1, 14)))

    amended = await api.engagements.AmendContract(
        pb.AmendContractRequest(
            request_id=rid(),
            engagement_id=eid,
            effective_date=gdate(date(2026, 1, 15)),
            billing_lines=[tm_line(senior)],
        )
    )

    assert [(c.revision, c.effective_from) for c in amended.contract_revisions] == [
        (1, gdate(date(2026, 1, 1))),
        (2, gdate(date(2026, 1, 15))),
    ]
    assert amended.contract.revision == 2 and amended.contract.po_reference == "PO-1"
    await approved_time(api, eid, entry(2, date(2026, 1, 15)))
    january = await invoice_for(api, eid, "2026-01")
    assert [(x.source_id, x.contract_revision, x.unit_price.amount) for x in january.lines] == [
        ("T1", 1, "150.00"),
        ("T2", 2, "180.00"),
    ]
    code, status = await rich_error(
        api.engagements.AmendContract(
            pb.AmendContractRequest(
                request_id=rid(),
                engagement_id=eid,
                effective_date=gdate(date(2026, 1, 20)),
                billing_lines=[tm_line(billable.rate_card_id)],
            )
        )
    )
    assert code == grpc.StatusCode.FAILED_PRECONDITION
    info = error_info(status)
    assert (info.reason, info.metadata["invoiced_through"]) == (
        "EFFECTIVE_DATE_IN_INVOICED_PERIOD",
        "2026-01-31",
    )


async def _rate_card(api: Api, **rates: str) -> str:
    card = await flows.new_rate_card(api, **rates)
    return card.rate_card_id


async def test_completed_engagement_closes_when_its_last_invoice_is_paid(api: Api) -> None:
    billable = await active_on(api, lambda card: [fixed_fee_line(M1="5000")], tax_profile=NO_TAX)
    eid = billable.engagement_id
    await accepted_milestone(api, eid, "M1")
    await api.engagements.CompleteEngagement(
        pb.CompleteEngagementRequest(request_id=rid(), engagement_id=eid)
    )
    invoice = await invoice_for(api, eid, "2026-01")
    await issued(api, invoice.invoice_id)
    assert (await engagement(api, eid)).state == pb.ENGAGEMENT_STATE_COMPLETED

    await paid(api, invoice.invoice_id, "5000.00")

    assert (await engagement(api, eid)).state == pb.ENGAGEMENT_STATE_CLOSED


async def test_list_invoices_filters_by_engagement_state_and_customer_and_pages(api: Api) -> None:
    eid, first = await _billed_time(api)
    await issued(api, first.invoice_id)
    await approved_time(api, eid, entry(3, date(2026, 2, 2)))
    second = await invoice_for(api, eid, "2026-02")
    _, other = await _billed_time(api)

    everything = await api.billing.ListInvoices(billing_pb2.ListInvoicesRequest())
    mine = await api.billing.ListInvoices(billing_pb2.ListInvoicesRequest(engagement_id=eid))
    drafts = await api.billing.ListInvoices(
        billing_pb2.ListInvoicesRequest(state=billing_pb2.INVOICE_STATE_DRAFT)
    )
    theirs = await api.billing.ListInvoices(billing_pb2.ListInvoicesRequest(customer_id=other.customer_id))
    page = await api.billing.ListInvoices(billing_pb2.ListInvoicesRequest(page_size=2))
    rest = await api.billing.ListInvoices(
        billing_pb2.ListInvoicesRequest(page_size=2, page_token=page.next_page_token)
    )

    ids = [first.invoice_id, second.invoice_id, other.invoice_id]
    assert [i.invoice_id for i in everything.invoices] == ids and not everything.next_page_token
    assert [i.invoice_id for i in mine.invoices] == ids[:2]
    assert [i.invoice_id for i in drafts.invoices] == ids[1:]
    assert [i.invoice_id for i in theirs.invoices] == [other.invoice_id]
    assert [i.invoice_id for i in [*page.invoices, *rest.invoices]] == ids and not rest.next_page_token


async def _last_audit(api: Api, stream_id: str) -> audit_pb2.AuditRecord:
    records = await api.audit.ListAuditRecords(audit_pb2.ListAuditRecordsRequest(stream_id=stream_id))
    return records.audit_records[-1]


async def test_rejected_payment_changes_nothing_and_is_audited(api: Api) -> None:
    eid, draft = await _billed_time(api)
    before = await issued(api, draft.invoice_id)

    code, status = await rich_error(api.billing.RecordPayment(payment(draft.invoice_id, "5000")))

    assert code == grpc.StatusCode.FAILED_PRECONDITION
    info = error_info(status)
    assert (info.reason, info.metadata["balance_due"]) == ("OVERPAYMENT", "1959.75")
    after = await api.billing.GetInvoice(billing_pb2.GetInvoiceRequest(invoice_id=draft.invoice_id))
    assert after == before
    record = await _last_audit(api, eid)
    assert (record.command_type, record.outcome, record.rejection_reason) == (
        "RecordPayment",
        audit_pb2.AUDIT_OUTCOME_REJECTED,
        "OVERPAYMENT",
    )


async def test_payment_in_another_currency_is_invalid_argument(api: Api) -> None:
    _, draft = await _billed_time(api)
    await issued(api, draft.invoice_id)
    code, status = await rich_error(api.billing.RecordPayment(payment(draft.invoice_id, "10", "EUR")))
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert [v.field for br in unpack(status, error_details_pb2.BadRequest) for v in br.field_violations] == [
        "amount.currency_code"
    ]


async def test_paid_invoice_cannot_be_voided(api: Api) -> None:
    _, draft = await _billed_time(api)
    await issued(api, draft.invoice_id)
    await paid(api, draft.invoice_id, draft.total.amount)
    code, status = await rich_error(
        api.billing.VoidInvoice(
            billing_pb2.VoidInvoiceRequest(request_id=rid(), invoice_id=draft.invoice_id, reason="x")
        )
    )
    assert code == grpc.StatusCode.FAILED_PRECONDITION
    info = error_info(status)
    assert (info.reason, info.metadata["state"], info.metadata["invoice_id"]) == (
        "INVALID_INVOICE_STATE",
        "PAID",
        draft.invoice_id,
    )
