"""The engagement lifecycle end to end over gRPC, including holds and idempotent retries."""

from __future__ import annotations

from datetime import date

import grpc

from q2c.v1 import audit_pb2, common_pb2, customer_pb2, exception_pb2
from q2c.v1 import engagement_pb2 as pb
from tests.service import flows
from tests.service.client import (
    Api,
    contract_request,
    error_info,
    gdate,
    money,
    rich_error,
    rid,
    time_entry,
)


async def test_engagement_runs_from_draft_to_completed(api: Api) -> None:
    engagement, _ = await flows.active(api)
    eid = engagement.engagement_id
    assert engagement.start_date == gdate(date(2025, 2, 1))  # auto-corrected from the contract
    assert [m.milestone_id for m in engagement.milestones] == ["M1", "M2"]

    submitted = await api.engagements.SubmitTimeEntries(
        pb.SubmitTimeEntriesRequest(
            request_id=rid(), engagement_id=eid, entries=[time_entry(1, "7.5"), time_entry(2, "0.25")]
        )
    )
    assert [(e.entry_id, e.hours) for e in submitted.time_entries] == [("T1", "7.5"), ("T2", "0.25")]
    approved = await api.engagements.ApproveTimeEntries(
        pb.ApproveTimeEntriesRequest(request_id=rid(), engagement_id=eid, entry_ids=["T1", "T2"])
    )
    assert {e.status for e in approved.time_entries} == {pb.TIME_ENTRY_STATUS_APPROVED}

    expense = pb.ExpenseInput(
        expense_id="X1",
        billing_line_id="EXP-1",
        category="TRAVEL",
        incurred_date=gdate(date(2025, 3, 4)),
        amount=money("120.50"),
    )
    await api.engagements.SubmitExpenses(
        pb.SubmitExpensesRequest(request_id=rid(), engagement_id=eid, expenses=[expense])
    )
    with_expense = await api.engagements.ApproveExpenses(
        pb.ApproveExpensesRequest(request_id=rid(), engagement_id=eid, expense_ids=["X1"])
    )
    assert with_expense.expenses[0].amount == money("120.50")
    assert with_expense.expenses[0].status == pb.EXPENSE_STATUS_APPROVED

    await api.engagements.CompleteMilestone(
        pb.CompleteMilestoneRequest(request_id=rid(), engagement_id=eid, milestone_id="M1")
    )
    accepted = await api.engagements.AcceptMilestone(
        pb.AcceptMilestoneRequest(request_id=rid(), engagement_id=eid, milestone_id="M1")
    )
    assert accepted.milestones[0].status == pb.MILESTONE_STATUS_ACCEPTED

    done = await api.engagements.CompleteEngagement(
        pb.CompleteEngagementRequest(request_id=rid(), engagement_id=eid, comment="delivered")
    )
    assert done.state == pb.ENGAGEMENT_STATE_COMPLETED
    fetched = await api.engagements.GetEngagement(pb.GetEngagementRequest(engagement_id=eid))
    assert fetched == done
    listed = await api.engagements.ListEngagements(
        pb.ListEngagementsRequest(state=pb.ENGAGEMENT_STATE_COMPLETED)
    )
    assert [e.engagement_id for e in listed.engagements] == [eid]
    assert not listed.engagements[0].time_entries  # summary view


async def _open_blocking(api: Api, eid: str) -> list[exception_pb2.BusinessException]:
    listed = await api.exceptions.ListExceptions(
        exception_pb2.ListExceptionsRequest(
            engagement_id=eid,
            state=exception_pb2.EXCEPTION_STATE_OPEN,
            severity=exception_pb2.EXCEPTION_SEVERITY_BLOCKING,
        )
    )
    return list(listed.exceptions)


async def test_close_won_without_tax_profile_holds_until_profile_added_and_resolved(api: Api) -> None:
    engagement = await flows.qualified(api, tax_profile=None)
    eid = engagement.engagement_id
    held = await api.engagements.CloseWonEngagement(
        pb.CloseWonEngagementRequest(request_id=rid(), engagement_id=eid)
    )
    assert held.state == pb.ENGAGEMENT_STATE_ON_HOLD
    assert held.held_from_state == pb.ENGAGEMENT_STATE_QUALIFIED
    blocking = await _open_blocking(api, eid)
    assert [x.check for x in blocking] == ["TAX_PROFILE_PRESENT"]
    assert list(held.open_exception_ids) == [blocking[0].exception_id]

    current = await api.customers.GetCustomer(customer_pb2.GetCustomerRequest(customer_id=held.customer_id))
    updated = await api.customers.UpdateCustomer(
        customer_pb2.UpdateCustomerRequest(
            request_id=rid(),
            etag=current.etag,
            update_mask={"paths": ["tax_profile"]},
            customer=customer_pb2.Customer(
                customer_id=current.customer_id,
                tax_profile=customer_pb2.TaxProfile(jurisdiction="GB", rate="0.2"),
            ),
        )
    )
    assert updated.tax_profile.rate == "0.2" and updated.etag != current.etag

    resolved = await api.exceptions.ResolveException(
        exception_pb2.ResolveExceptionRequest(
            request_id=rid(), exception_id=blocking[0].exception_id, resolution_note="tax profile added"
        )
    )
    assert resolved.state == exception_pb2.EXCEPTION_STATE_RESOLVED
    assert resolved.resolved_by == "alice"
    released = await api.engagements.GetEngagement(pb.GetEngagementRequest(engagement_id=eid))
    assert released.state == pb.ENGAGEMENT_STATE_QUALIFIED

    retried = await api.engagements.CloseWonEngagement(
        pb.CloseWonEngagementRequest(request_id=rid(), engagement_id=eid)
    )
    assert retried.state == pb.ENGAGEMENT_STATE_WON


async def test_contract_with_rate_card_not_effective_for_the_period_holds(api: Api) -> None:
    card = await flows.new_rate_card(api, start=date(2025, 6, 1))
    engagement = await flows.won(api)
    eid = engagement.engagement_id
    held = await api.engagements.ApproveContract(contract_request(eid, card.rate_card_id))
    assert held.state == pb.ENGAGEMENT_STATE_ON_HOLD
    assert held.held_step == common_pb2.GATED_STEP_APPROVE_CONTRACT
    blocking = await _open_blocking(api, eid)
    assert [x.check for x in blocking] == ["RATE_CARD_EFFECTIVE"]

    await api.exceptions.ResolveException(
        exception_pb2.ResolveExceptionRequest(
            request_id=rid(), exception_id=blocking[0].exception_id, resolution_note="contract re-dated"
        )
    )
    contracted = await api.engagements.ApproveContract(
        contract_request(eid, card.rate_card_id, start_date=gdate(date(2025, 6, 1)))
    )
    assert contracted.state == pb.ENGAGEMENT_STATE_CONTRACTED


async def _audit_count(api: Api, stream_id: str) -> int:
    page = await api.audit.ListAuditRecords(audit_pb2.ListAuditRecordsRequest(stream_id=stream_id))
    return len(page.audit_records)


async def test_same_request_id_and_payload_replays_the_original_response(api: Api) -> None:
    engagement = await flows.qualified(api)
    eid = engagement.engagement_id
    request = pb.CloseWonEngagementRequest(request_id=rid(), engagement_id=eid, comment="signed")
    first = await api.engagements.CloseWonEngagement(request)
    records = await _audit_count(api, eid)
    again = await api.engagements.CloseWonEngagement(request)
    assert again == first
    assert await _audit_count(api, eid) == records
    current = await api.engagements.GetEngagement(pb.GetEngagementRequest(engagement_id=eid))
    assert current.version == first.version


async def test_same_request_id_with_another_payload_is_already_exists(api: Api) -> None:
    engagement = await flows.qualified(api)
    request_id = rid()
    await api.engagements.CloseWonEngagement(
        pb.CloseWonEngagementRequest(
            request_id=request_id, engagement_id=engagement.engagement_id, comment="one"
        )
    )
    code, status = await rich_error(
        api.engagements.CloseWonEngagement(
            pb.CloseWonEngagementRequest(
                request_id=request_id, engagement_id=engagement.engagement_id, comment="two"
            )
        )
    )
    assert code == grpc.StatusCode.ALREADY_EXISTS
    assert error_info(status).reason == "REQUEST_ID_REUSED"
    assert error_info(status).metadata["request_id"] == request_id


async def test_create_engagement_retry_returns_the_same_engagement(api: Api) -> None:
    cust = await flows.new_customer(api)
    request = pb.CreateEngagementRequest(request_id=rid(), customer_id=cust.customer_id, display_name="X")
    first = await api.engagements.CreateEngagement(request)
    second = await api.engagements.CreateEngagement(request)
    assert second == first
