"""The SDK against the real gateway: the happy path, and a reply lost after commit.

The SDK is synchronous and the gateway runs on the test's event loop, so every SDK flow runs in
a worker thread (`asyncio.to_thread`).
"""

from __future__ import annotations

import asyncio

import pytest

from q2c.v1 import audit_pb2, billing_pb2
from q2c.v1 import engagement_pb2 as pb
from q2c_sdk import (
    InvalidStateError,
    OverpaymentError,
    PeriodAlreadyInvoicedError,
    Q2cClient,
    RequestIdReusedError,
    UnavailableError,
    date,
    money,
    month,
)
from tests.sdk import flows
from tests.sdk.conftest import RealServer

SUBMIT_TIME = "/q2c.v1.EngagementService/SubmitTimeEntries"


def _bill_and_collect(q2c: Q2cClient, approver: Q2cClient) -> None:
    engagement = flows.active_engagement(q2c)
    eid = engagement.engagement_id
    q2c.submit_time_entries(pb.SubmitTimeEntriesRequest(engagement_id=eid, entries=flows.time_entries("T1")))
    approver.approve_time_entries(pb.ApproveTimeEntriesRequest(engagement_id=eid, entry_ids=["T1"]))
    q2c.complete_milestone(pb.CompleteMilestoneRequest(engagement_id=eid, milestone_id="M1"))
    approver.accept_milestone(pb.AcceptMilestoneRequest(engagement_id=eid, milestone_id="M1"))
    readiness = q2c.get_invoice_readiness(
        pb.GetInvoiceReadinessRequest(engagement_id=eid, period=month("2025-03"))
    )
    assert readiness.ready, readiness

    draft = q2c.generate_invoice(pb.GenerateInvoiceRequest(engagement_id=eid, period=month("2025-03")))
    assert draft.state == billing_pb2.INVOICE_STATE_DRAFT
    assert (draft.subtotal.amount, draft.total.currency_code) == ("6200.00", "USD")
    assert draft.total.amount == readiness.total.amount
    with pytest.raises(PeriodAlreadyInvoicedError) as again:
        q2c.generate_invoice(pb.GenerateInvoiceRequest(engagement_id=eid, period=month("2025-03")))
    assert again.value.invoice_id == draft.invoice_id

    issued = q2c.issue_invoice(billing_pb2.IssueInvoiceRequest(invoice_id=draft.invoice_id))
    assert issued.state == billing_pb2.INVOICE_STATE_ISSUED
    with pytest.raises(OverpaymentError) as over:
        q2c.record_payment(_payment(draft.invoice_id, "99999.00"))
    assert over.value.balance_due == issued.balance_due.amount
    paid = q2c.record_payment(_payment(draft.invoice_id, issued.balance_due.amount))
    assert paid.state == billing_pb2.INVOICE_STATE_PAID
    assert paid.balance_due.amount in ("0", "0.00")

    run = q2c.start_bill_run(billing_pb2.StartBillRunRequest(period=month("2025-03")))
    states = [
        update.state
        for update in q2c.watch_bill_run(billing_pb2.WatchBillRunRequest(bill_run_id=run.bill_run_id))
    ]
    assert states[-1] == billing_pb2.BILL_RUN_STATE_SUCCEEDED
    final = q2c.get_bill_run(billing_pb2.GetBillRunRequest(bill_run_id=run.bill_run_id))
    assert (final.invoices_created, final.engagements_already_invoiced) == (0, 1)
    assert q2c.verify_audit_log(audit_pb2.VerifyAuditLogRequest(stream_id=eid)).ok


def _payment(invoice_id: str, amount: str) -> billing_pb2.RecordPaymentRequest:
    return billing_pb2.RecordPaymentRequest(
        invoice_id=invoice_id, amount=money(amount, "USD"), received_date=date(flows.CONTRACT_END)
    )


async def test_happy_path_from_customer_to_paid_invoice(client: Q2cClient, approver: Q2cClient) -> None:
    await asyncio.to_thread(_bill_and_collect, client, approver)


def _submit_with_lost_reply(q2c: Q2cClient, server: RealServer) -> tuple[pb.Engagement, pb.Engagement]:
    engagement = flows.active_engagement(q2c)
    server.faults.arm(SUBMIT_TIME)
    request = pb.SubmitTimeEntriesRequest(
        engagement_id=engagement.engagement_id, entries=flows.time_entries("T1", "T2")
    )
    return engagement, q2c.submit_time_entries(request, correlation_id="lost-reply-1")


async def test_retry_after_a_reply_lost_after_commit_applies_the_entries_once(
    client: Q2cClient, real_server: RealServer
) -> None:
    before, after = await asyncio.to_thread(_submit_with_lost_reply, client, real_server)
    [dropped] = real_server.faults.dropped
    eid = before.engagement_id

    assert [entry.entry_id for entry in after.time_entries] == ["T1", "T2"]
    assert after.version == before.version + 1
    fresh = await asyncio.to_thread(client.get_engagement, pb.GetEngagementRequest(engagement_id=eid))
    assert [entry.entry_id for entry in fresh.time_entries] == ["T1", "T2"]
    assert fresh.version == before.version + 1
    page = await asyncio.to_thread(
        client.list_audit_records, audit_pb2.ListAuditRecordsRequest(stream_id=eid)
    )
    submits = [r for r in page.audit_records if r.command_type == "SubmitTimeEntries"]
    assert [(r.outcome, r.request_id) for r in submits] == [
        (audit_pb2.AUDIT_OUTCOME_ACCEPTED, dropped.request_id)
    ]
    assert submits[0].correlation_id == "lost-reply-1"


def _submit_basic_with_lost_reply(q2c: Q2cClient, server: RealServer) -> tuple[pb.Engagement, pb.Engagement]:
    engagement = flows.active_engagement(q2c)
    server.faults.arm(SUBMIT_TIME)
    request = pb.SubmitTimeEntriesRequest(
        engagement_id=engagement.engagement_id,
        entries=flows.time_entries("T1", "T2"),
        view=pb.ENGAGEMENT_VIEW_BASIC,
    )
    return engagement, q2c.submit_time_entries(request)


async def test_a_basic_retry_after_a_lost_reply_gets_the_summary_of_the_one_submission(
    client: Q2cClient, real_server: RealServer
) -> None:
    before, after = await asyncio.to_thread(_submit_basic_with_lost_reply, client, real_server)
    dropped = real_server.faults.dropped[-1]  # the module's server drops for every test
    eid = before.engagement_id

    assert (after.engagement_id, after.version, after.state) == (eid, before.version + 1, before.state)
    assert not after.time_entries and not after.milestones and not after.contract.billing_lines
    basic = pb.GetEngagementRequest(engagement_id=eid, view=pb.ENGAGEMENT_VIEW_BASIC)
    assert after == await asyncio.to_thread(client.get_engagement, basic)
    fresh = await asyncio.to_thread(client.get_engagement, pb.GetEngagementRequest(engagement_id=eid))
    assert [entry.entry_id for entry in fresh.time_entries] == ["T1", "T2"]
    page = await asyncio.to_thread(
        client.list_audit_records, audit_pb2.ListAuditRecordsRequest(stream_id=eid)
    )
    submits = [r for r in page.audit_records if r.command_type == "SubmitTimeEntries"]
    assert [(r.outcome, r.request_id) for r in submits] == [
        (audit_pb2.AUDIT_OUTCOME_ACCEPTED, dropped.request_id)
    ]


def _lost_reply_without_request_id(q2c: Q2cClient, server: RealServer) -> tuple[str, UnavailableError]:
    engagement = flows.active_engagement(q2c)
    server.faults.arm(SUBMIT_TIME)
    request = pb.SubmitTimeEntriesRequest(
        engagement_id=engagement.engagement_id, entries=flows.time_entries("T1")
    )
    with pytest.raises(UnavailableError) as raised:
        q2c.submit_time_entries(request, request_id=None)
    return engagement.engagement_id, raised.value


async def test_a_mutation_without_request_id_is_not_retried_after_a_lost_reply(
    client: Q2cClient, real_server: RealServer
) -> None:
    eid, error = await asyncio.to_thread(_lost_reply_without_request_id, client, real_server)
    assert error.request_id == "" and error.correlation_id
    page = await asyncio.to_thread(
        client.list_audit_records, audit_pb2.ListAuditRecordsRequest(stream_id=eid)
    )
    assert [r.request_id for r in page.audit_records if r.command_type == "SubmitTimeEntries"] == [""]


def _typed_errors(q2c: Q2cClient) -> None:
    engagement = flows.active_engagement(q2c)
    eid = engagement.engagement_id
    with pytest.raises(InvalidStateError) as wrong_state:
        q2c.qualify_engagement(pb.QualifyEngagementRequest(engagement_id=eid))
    assert wrong_state.value.reason == "INVALID_STATE" and wrong_state.value.correlation_id
    first = pb.QualifyEngagementRequest(engagement_id=eid, comment="a")
    with pytest.raises(InvalidStateError):
        q2c.qualify_engagement(first, request_id="fixed-1")
    with pytest.raises(RequestIdReusedError):
        q2c.qualify_engagement(
            pb.QualifyEngagementRequest(engagement_id=eid, comment="b"), request_id="fixed-1"
        )


async def test_server_errors_arrive_as_typed_exceptions(client: Q2cClient) -> None:
    await asyncio.to_thread(_typed_errors, client)
