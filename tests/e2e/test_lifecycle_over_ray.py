"""The engagement lifecycle through the real gRPC server and real Ray shard actors."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import date
from functools import partial
from typing import TypeVar

import grpc
import pytest
import ray
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from sqlalchemy import text

from q2c.v1 import audit_pb2, common_pb2, customer_pb2, engagement_pb2, exception_pb2
from tests.e2e.conftest import RayStack
from tests.e2e.flows import active, contract, customer, d, rate_card, rid, time_entry, usd, won

T = TypeVar("T")

pytestmark = pytest.mark.e2e
E = engagement_pb2


async def test_whole_lifecycle_from_draft_to_completed(
    ray_stack: RayStack, tenant: list, approver: list
) -> None:
    s, md = ray_stack, tenant
    eng = await active(s, md)
    assert eng.state == E.ENGAGEMENT_STATE_ACTIVE
    eid = eng.engagement_id
    await s.engagements.SubmitTimeEntries(
        E.SubmitTimeEntriesRequest(
            request_id=rid(),
            engagement_id=eid,
            entries=[time_entry("t1"), time_entry("t2", role="architect", person="ben")],
        ),
        metadata=md,
    )
    await s.engagements.ApproveTimeEntries(
        E.ApproveTimeEntriesRequest(request_id=rid(), engagement_id=eid, entry_ids=["t1", "t2"]),
        metadata=approver,
    )
    await s.engagements.SubmitExpenses(
        E.SubmitExpensesRequest(
            request_id=rid(),
            engagement_id=eid,
            expenses=[
                E.ExpenseInput(
                    expense_id="x1",
                    billing_line_id="ex",
                    category="travel",
                    incurred_date=d(date(2026, 2, 4)),
                    amount=usd("99.90"),
                )
            ],
        ),
        metadata=md,
    )
    await s.engagements.ApproveExpenses(
        E.ApproveExpensesRequest(request_id=rid(), engagement_id=eid, expense_ids=["x1"]), metadata=approver
    )
    await s.engagements.CompleteMilestone(
        E.CompleteMilestoneRequest(request_id=rid(), engagement_id=eid, milestone_id="m1"), metadata=approver
    )
    await s.engagements.AcceptMilestone(
        E.AcceptMilestoneRequest(request_id=rid(), engagement_id=eid, milestone_id="m1"), metadata=approver
    )
    done = await s.engagements.CompleteEngagement(
        E.CompleteEngagementRequest(request_id=rid(), engagement_id=eid), metadata=md
    )

    assert done.state == E.ENGAGEMENT_STATE_COMPLETED
    assert {t.entry_id: t.status for t in done.time_entries} == {
        "t1": E.TIME_ENTRY_STATUS_APPROVED,
        "t2": E.TIME_ENTRY_STATUS_APPROVED,
    }
    assert [x.status for x in done.expenses] == [E.EXPENSE_STATUS_APPROVED]
    assert [m.status for m in done.milestones] == [E.MILESTONE_STATUS_ACCEPTED]
    fetched = await s.engagements.GetEngagement(E.GetEngagementRequest(engagement_id=eid), metadata=md)
    assert fetched == done
    verdict = await s.audit.VerifyAuditLog(audit_pb2.VerifyAuditLogRequest(), metadata=md)
    assert verdict.ok and verdict.records_checked >= 13


async def test_close_won_without_tax_profile_holds_until_the_exception_is_resolved(
    ray_stack: RayStack, tenant: list
) -> None:
    s, md = ray_stack, tenant
    cust = await customer(s, md, tax=False)
    held = await won(s, md, cust.customer_id)
    assert held.state == E.ENGAGEMENT_STATE_ON_HOLD
    assert held.held_from_state == E.ENGAGEMENT_STATE_QUALIFIED
    queue = await s.exceptions.ListExceptions(
        exception_pb2.ListExceptionsRequest(
            engagement_id=held.engagement_id, state=exception_pb2.EXCEPTION_STATE_OPEN
        ),
        metadata=md,
    )
    assert [x.check for x in queue.exceptions] == ["TAX_PROFILE_PRESENT"]
    assert queue.exceptions[0].severity == exception_pb2.EXCEPTION_SEVERITY_BLOCKING

    await s.customers.UpdateCustomer(
        customer_pb2.UpdateCustomerRequest(
            request_id=rid(),
            customer=customer_pb2.Customer(
                customer_id=cust.customer_id,
                tax_profile=customer_pb2.TaxProfile(jurisdiction="US-CA", rate="0.07"),
            ),
            update_mask={"paths": ["tax_profile"]},
            etag=cust.etag,
        ),
        metadata=md,
    )
    resolved = await s.exceptions.ResolveException(
        exception_pb2.ResolveExceptionRequest(
            request_id=rid(), exception_id=queue.exceptions[0].exception_id, resolution_note="fixed in CRM"
        ),
        metadata=md,
    )
    assert resolved.state == exception_pb2.EXCEPTION_STATE_RESOLVED
    back = await s.engagements.GetEngagement(
        E.GetEngagementRequest(engagement_id=held.engagement_id), metadata=md
    )
    assert back.state == E.ENGAGEMENT_STATE_QUALIFIED
    retried = await s.engagements.CloseWonEngagement(
        E.CloseWonEngagementRequest(request_id=rid(), engagement_id=held.engagement_id), metadata=md
    )
    assert retried.state == E.ENGAGEMENT_STATE_WON


async def test_contract_whose_rate_card_is_not_effective_for_its_period_is_held(
    ray_stack: RayStack, tenant: list
) -> None:
    s, md = ray_stack, tenant
    cust = await customer(s, md)
    card = await rate_card(s, md, start=date(2026, 1, 1), end=date(2026, 6, 30))  # contract runs to December
    eng = await won(s, md, cust.customer_id)
    held = await s.engagements.ApproveContract(contract(eng.engagement_id, card.rate_card_id), metadata=md)
    assert held.state == E.ENGAGEMENT_STATE_ON_HOLD
    assert held.held_step == common_pb2.GATED_STEP_APPROVE_CONTRACT
    queue = await s.exceptions.ListExceptions(
        exception_pb2.ListExceptionsRequest(
            engagement_id=eng.engagement_id, state=exception_pb2.EXCEPTION_STATE_OPEN
        ),
        metadata=md,
    )
    assert [x.check for x in queue.exceptions] == ["RATE_CARD_EFFECTIVE"]
    assert not held.HasField("contract")


async def test_retried_request_id_returns_the_same_response_and_writes_nothing_new(
    ray_stack: RayStack, tenant: list
) -> None:
    s, md = ray_stack, tenant
    eng = await active(s, md)
    request = E.SubmitTimeEntriesRequest(
        request_id=rid(), engagement_id=eng.engagement_id, entries=[time_entry("t1")]
    )
    first = await s.engagements.SubmitTimeEntries(request, metadata=md)
    audit_before = await s.audit.ListAuditRecords(
        audit_pb2.ListAuditRecordsRequest(stream_id=eng.engagement_id, page_size=500), metadata=md
    )
    again = await s.engagements.SubmitTimeEntries(request, metadata=md)
    audit_after = await s.audit.ListAuditRecords(
        audit_pb2.ListAuditRecordsRequest(stream_id=eng.engagement_id, page_size=500), metadata=md
    )
    assert again == first
    assert len(audit_after.audit_records) == len(audit_before.audit_records)
    request.entries[0].hours = "7"
    with pytest.raises(grpc.aio.AioRpcError) as reused:
        await s.engagements.SubmitTimeEntries(request, metadata=md)
    assert reused.value.code() == grpc.StatusCode.ALREADY_EXISTS


async def _until_available(call: Callable[[], Awaitable[T]], seconds: float = 60.0) -> T:
    """`call()` again while it fails UNAVAILABLE (a restarting shard), up to `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return await call()
        except grpc.aio.AioRpcError as error:
            if error.code() != grpc.StatusCode.UNAVAILABLE or time.monotonic() > deadline:
                raise
        await asyncio.sleep(0.2)  # back off before the retry; the shard's restart is what we wait for


async def test_killing_shard_actors_between_commands_loses_nothing_acknowledged(
    ray_stack: RayStack, tenant: list, approver: list
) -> None:
    s, md = ray_stack, tenant
    engagements = [await active(s, md) for _ in range(4)]
    for n, eng in enumerate(engagements):
        await s.engagements.SubmitTimeEntries(
            E.SubmitTimeEntriesRequest(
                request_id=rid(), engagement_id=eng.engagement_id, entries=[time_entry(f"t{n}")]
            ),
            metadata=md,
        )
    pids_before = {stat["pid"] for stat in await s.runtime.shard_stats()}
    for lane in s.runtime.lanes:
        ray.kill(lane.handle, no_restart=False)  # Ray restarts them (max_restarts=-1)

    for n, eng in enumerate(engagements):
        # While Ray restarts a shard the gateway may answer UNAVAILABLE ("retry with the same
        # request_id"): the caller does exactly that, as the SDK does, until the call's deadline.
        request = E.ApproveTimeEntriesRequest(
            request_id=rid(), engagement_id=eng.engagement_id, entry_ids=[f"t{n}"]
        )
        after = await _until_available(partial(s.engagements.ApproveTimeEntries, request, metadata=approver))
        assert [t.status for t in after.time_entries] == [E.TIME_ENTRY_STATUS_APPROVED]
        assert after.version == eng.version + 2  # submitted + approved: nothing lost, nothing doubled
    pids_after = {stat["pid"] for stat in await s.runtime.shard_stats()}
    assert not pids_before & pids_after
    verdict = await s.audit.VerifyAuditLog(audit_pb2.VerifyAuditLogRequest(), metadata=md)
    assert verdict.ok


async def test_engagements_spread_over_every_shard(ray_stack: RayStack, tenant: list) -> None:
    s, md = ray_stack, tenant
    cust = await customer(s, md)
    ids = [
        (
            await s.engagements.CreateEngagement(
                E.CreateEngagementRequest(
                    request_id=rid(), customer_id=cust.customer_id, display_name=f"E{n}"
                ),
                metadata=md,
            )
        ).engagement_id
        for n in range(24)
    ]
    owners = {s.runtime.lane_for(i).index for i in ids}
    assert owners == {0, 1}


@pytest.mark.parametrize(
    ("make_request", "method", "code", "reason"),
    [
        (
            lambda eid: E.GetEngagementRequest(engagement_id="nope"),
            "GetEngagement",
            grpc.StatusCode.NOT_FOUND,
            "ENGAGEMENT_NOT_FOUND",
        ),
        (
            lambda eid: E.QualifyEngagementRequest(request_id=rid(), engagement_id=eid),
            "QualifyEngagement",
            grpc.StatusCode.FAILED_PRECONDITION,
            "INVALID_STATE",
        ),
        (
            lambda eid: E.SubmitTimeEntriesRequest(
                request_id=rid(), engagement_id=eid, entries=[time_entry("x", hours="-1")]
            ),
            "SubmitTimeEntries",
            grpc.StatusCode.INVALID_ARGUMENT,
            "VALIDATION_FAILED",
        ),
        (
            lambda eid: E.SubmitTimeEntriesRequest(
                request_id=rid(), engagement_id=eid, entries=[time_entry("x", role="astronaut")]
            ),
            "SubmitTimeEntries",
            grpc.StatusCode.INVALID_ARGUMENT,
            "VALIDATION_FAILED",
        ),
    ],
    ids=["unknown-id", "wrong-state", "negative-hours", "unknown-role"],
)
async def test_bad_input_through_ray_gets_a_clear_status(
    ray_stack: RayStack, tenant: list, make_request, method, code, reason
) -> None:
    s, md = ray_stack, tenant
    eng = await active(s, md)
    with pytest.raises(grpc.aio.AioRpcError) as failure:
        await getattr(s.engagements, method)(make_request(eng.engagement_id), metadata=md)
    assert failure.value.code() == code
    assert error_reasons(failure.value) == [reason]
    after = await s.engagements.GetEngagement(
        E.GetEngagementRequest(engagement_id=eng.engagement_id), metadata=md
    )
    assert after.version == eng.version  # rejected: nothing changed


def error_reasons(error: grpc.aio.AioRpcError) -> list[str]:
    """The ErrorInfo reasons in a failed call's rich status."""
    status = rpc_status.from_call(error)
    assert status is not None, "no google.rpc.Status details"
    reasons = []
    for detail in status.details:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            reasons.append(info.reason)
    return reasons


async def test_verify_audit_log_names_the_first_tampered_record(ray_stack: RayStack, tenant: list) -> None:
    s, md = ray_stack, tenant
    eng = await active(s, md)
    trail = await s.audit.ListAuditRecords(
        audit_pb2.ListAuditRecordsRequest(stream_id=eng.engagement_id), metadata=md
    )
    victim = trail.audit_records[2]
    with s.runtime.store.engine.begin() as conn:  # an insider edits history behind q2c's back
        conn.execute(
            text("UPDATE audit_records SET principal = 'mallory' WHERE record_id = :id"),
            {"id": victim.record_id},
        )
    verdict = await s.audit.VerifyAuditLog(
        audit_pb2.VerifyAuditLogRequest(stream_id=eng.engagement_id), metadata=md
    )
    assert not verdict.ok
    assert verdict.first_invalid_record.record_id == victim.record_id
    assert verdict.first_invalid_record.sequence == victim.sequence
    assert verdict.problem
