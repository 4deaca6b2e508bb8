"""Billing rows of the error table over the wire: codes, reasons, metadata and rich details."""

from __future__ import annotations

from datetime import date

import grpc
import pytest
from google.rpc import error_details_pb2

from q2c.v1 import audit_pb2, billing_pb2, common_pb2, customer_pb2
from q2c.v1 import engagement_pb2 as pb
from tests.service.billing_flows import (
    Billable,
    active_on,
    approved_time,
    engagement,
    entry,
    fixed_fee_line,
    generate_request,
    invoice_for,
    issued,
    tm_line,
)
from tests.service.client import Api, error_info, field_paths, gdate, rich_error, rid, unpack


async def _with_time(api: Api, **fields: object) -> Billable:
    billable = await active_on(api, lambda card: [tm_line(card)], **fields)
    await approved_time(api, billable.engagement_id, entry(1, date(2026, 1, 5)))
    return billable


async def test_second_invoice_for_the_same_period_is_period_already_invoiced(api: Api) -> None:
    billable = await _with_time(api)
    first = await invoice_for(api, billable.engagement_id, "2026-01")
    code, status = await rich_error(
        api.engagements.GenerateInvoice(generate_request(billable.engagement_id, "2026-01"))
    )
    assert code == grpc.StatusCode.FAILED_PRECONDITION
    info = error_info(status)
    assert (info.reason, info.metadata["invoice_id"]) == ("PERIOD_ALREADY_INVOICED", first.invoice_id)


async def test_engagement_with_nothing_billable_is_nothing_to_bill(api: Api) -> None:
    billable = await active_on(api, lambda card: [tm_line(card)])
    code, status = await rich_error(
        api.engagements.GenerateInvoice(generate_request(billable.engagement_id, "2026-01"))
    )
    assert code == grpc.StatusCode.FAILED_PRECONDITION
    assert error_info(status).reason == "NOTHING_TO_BILL"
    assert not (await engagement(api, billable.engagement_id)).invoice_ids


@pytest.mark.parametrize(
    ("period", "path"),
    [
        (common_pb2.BillingPeriod(month="2026-13"), "period.month"),
        (
            common_pb2.BillingPeriod(month="2026-01", start_date=gdate(date(2026, 1, 1))),
            "period.month",
        ),
        (
            common_pb2.BillingPeriod(start_date=gdate(date(2026, 1, 31)), end_date=gdate(date(2026, 1, 1))),
            "period.end_date",
        ),
    ],
)
async def test_invalid_period_is_invalid_argument_on_the_period_field_and_audited(
    api: Api, period: common_pb2.BillingPeriod, path: str
) -> None:
    billable = await _with_time(api)
    eid = billable.engagement_id
    code, status = await rich_error(
        api.engagements.GenerateInvoice(
            pb.GenerateInvoiceRequest(request_id=rid(), engagement_id=eid, period=period)
        )
    )
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert error_info(status).reason == "VALIDATION_FAILED"
    assert field_paths(status) == [path]
    records = await api.audit.ListAuditRecords(audit_pb2.ListAuditRecordsRequest(stream_id=eid))
    last = records.audit_records[-1]
    assert (last.command_type, last.outcome) == ("GenerateInvoice", audit_pb2.AUDIT_OUTCOME_REJECTED)


async def test_missing_po_reference_is_not_ready_with_one_violation_per_blocker(api: Api) -> None:
    billable = await _with_time(api, po_reference="")
    current = await api.customers.GetCustomer(
        customer_pb2.GetCustomerRequest(customer_id=billable.customer_id)
    )
    await api.customers.UpdateCustomer(
        customer_pb2.UpdateCustomerRequest(
            request_id=rid(),
            etag=current.etag,
            update_mask={"paths": ["po_required"]},
            customer=customer_pb2.Customer(customer_id=billable.customer_id, po_required=True),
        )
    )
    eid = billable.engagement_id

    code, status = await rich_error(api.engagements.GenerateInvoice(generate_request(eid, "2026-01")))

    assert code == grpc.StatusCode.FAILED_PRECONDITION
    info = error_info(status)
    assert (info.reason, info.metadata["blockers"]) == ("NOT_READY", "MISSING_PO_REFERENCE")
    [failure] = unpack(status, error_details_pb2.PreconditionFailure)
    assert [(v.type, v.subject) for v in failure.violations] == [
        ("MISSING_PO_REFERENCE", f"engagements/{eid}")
    ]
    assert failure.violations[0].description
    readiness = await api.engagements.GetInvoiceReadiness(
        pb.GetInvoiceReadinessRequest(engagement_id=eid, period=generate_request(eid, "2026-01").period)
    )
    assert not readiness.ready
    assert [b.kind for b in readiness.blockers] == [pb.READINESS_BLOCKER_KIND_MISSING_PO_REFERENCE]


async def test_unknown_invoice_ids_are_invoice_not_found(api: Api) -> None:
    billable = await active_on(api, lambda card: [fixed_fee_line(M1="10")])
    for invoice_id in ("nope", f"{billable.engagement_id}.inv.7", "no-such-engagement.inv.1"):
        code, status = await rich_error(
            api.billing.IssueInvoice(billing_pb2.IssueInvoiceRequest(request_id=rid(), invoice_id=invoice_id))
        )
        assert (code, error_info(status).reason) == (grpc.StatusCode.NOT_FOUND, "INVOICE_NOT_FOUND"), (
            invoice_id
        )
    code, status = await rich_error(api.billing.GetInvoice(billing_pb2.GetInvoiceRequest(invoice_id="nope")))
    assert (code, error_info(status).reason) == (grpc.StatusCode.NOT_FOUND, "INVOICE_NOT_FOUND")


async def test_issuing_an_issued_invoice_is_invalid_invoice_state(api: Api) -> None:
    billable = await _with_time(api)
    invoice = await invoice_for(api, billable.engagement_id, "2026-01")
    await issued(api, invoice.invoice_id)
    code, status = await rich_error(
        api.billing.IssueInvoice(
            billing_pb2.IssueInvoiceRequest(request_id=rid(), invoice_id=invoice.invoice_id)
        )
    )
    assert code == grpc.StatusCode.FAILED_PRECONDITION
    assert (error_info(status).reason, error_info(status).metadata["state"]) == (
        "INVALID_INVOICE_STATE",
        "ISSUED",
    )


async def test_negative_page_size_is_invalid_argument(api: Api) -> None:
    code, status = await rich_error(api.billing.ListInvoices(billing_pb2.ListInvoicesRequest(page_size=-1)))
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert field_paths(status) == ["page_size"]


async def test_unknown_bill_run_is_not_found_for_get_and_watch(api: Api) -> None:
    code, status = await rich_error(api.billing.GetBillRun(billing_pb2.GetBillRunRequest(bill_run_id="nope")))
    assert (code, error_info(status).reason) == (grpc.StatusCode.NOT_FOUND, "BILL_RUN_NOT_FOUND")

    async def watch() -> None:
        async for _ in api.billing.WatchBillRun(billing_pb2.WatchBillRunRequest(bill_run_id="nope")):
            raise AssertionError("an unknown bill run streamed a message")

    code, status = await rich_error(watch())
    assert (code, error_info(status).reason) == (grpc.StatusCode.NOT_FOUND, "BILL_RUN_NOT_FOUND")


async def test_invoice_mutation_refused_at_the_gateway_is_audited_on_its_engagement(api: Api) -> None:
    billable = await _with_time(api)
    invoice = await invoice_for(api, billable.engagement_id, "2026-01")
    code, status = await rich_error(
        api.billing.VoidInvoice(
            billing_pb2.VoidInvoiceRequest(request_id=rid(), invoice_id=invoice.invoice_id)
        )
    )
    assert (code, field_paths(status)) == (grpc.StatusCode.INVALID_ARGUMENT, ["reason"])
    records = await api.audit.ListAuditRecords(
        audit_pb2.ListAuditRecordsRequest(stream_id=billable.engagement_id)
    )
    last = records.audit_records[-1]
    assert (last.command_type, last.outcome, last.rejection_reason) == (
        "VoidInvoice",
        audit_pb2.AUDIT_OUTCOME_REJECTED,
        "VALIDATION_FAILED",
    )
    unchanged = await api.billing.GetInvoice(billing_pb2.GetInvoiceRequest(invoice_id=invoice.invoice_id))
    assert unchanged == invoice
