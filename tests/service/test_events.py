"""EventService.SubscribeEvents over a real server (LocalRuntime and Ray, SQLite and PostgreSQL):
replay from 0 in position order, resume exactly after a position, filters, follow, tenancy."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from itertools import pairwise
from typing import Any

import grpc
import pytest
from google.protobuf import json_format

from q2c.v1 import billing_pb2, customer_pb2, event_pb2, event_pb2_grpc, exception_pb2
from q2c.v1 import engagement_pb2 as pb
from tests.service import flows
from tests.service.billing_flows import entry, expense_line, fixed_fee_line, month, tm_line
from tests.service.client import CALL_TIMEOUT, Api, error_info, field_paths, gdate, rich_error, rid

LIFECYCLE_TYPES = [
    "EngagementCreated",
    "EngagementQualified",
    "BusinessExceptionRaised",  # TAX_PROFILE_PRESENT: blocking, the engagement goes on hold
    "EngagementPutOnHold",
    "BusinessExceptionResolved",
    "EngagementReleasedFromHold",
    "BusinessExceptionRaised",  # SERVICE_LINE_SET: auto-corrected from the customer
    "EngagementWon",
    "BusinessExceptionRaised",  # TM_CAP_SET: a REVIEW finding, no hold
    "ContractApproved",
    "BusinessExceptionRaised",  # START_DATE_SET: auto-corrected from the contract
    "EngagementActivated",
    "TimeEntriesSubmitted",
    "TimeEntriesApproved",
    "InvoiceGenerated",
    "InvoiceIssued",
    "PaymentRecorded",
]
"""The events of `_lifecycle`, in the order its calls produce them."""


@pytest.fixture(scope="module")
def event_stub(channel: grpc.aio.Channel) -> event_pb2_grpc.EventServiceStub:
    """The generated EventService stub on the module's channel."""
    return event_pb2_grpc.EventServiceStub(channel)


def _subscribe(stub: Any, api: Api, timeout: float = CALL_TIMEOUT, **fields: Any) -> Any:
    """A SubscribeEvents call as the api's tenant."""
    return stub.SubscribeEvents(
        event_pb2.SubscribeEventsRequest(**fields), metadata=api.metadata, timeout=timeout
    )


async def _replay(stub: Any, api: Api, **fields: Any) -> list[event_pb2.Event]:
    """Every event a follow=false subscription streams before it ends OK."""
    call = _subscribe(stub, api, **fields)
    received = [event async for event in call]
    assert await call.code() == grpc.StatusCode.OK
    return received


def _correlated(api: Api, correlation_id: str) -> Api:
    """The same tenant and principal, every call carrying x-correlation-id."""
    return Api(api.stubs, api.tenant_id, api.principal, extra=(("x-correlation-id", correlation_id),))


@dataclass(frozen=True)
class Lifecycle:
    """What `_lifecycle` did: the engagement and the invoice."""

    engagement_id: str
    invoice_id: str


async def _lifecycle(api: Api) -> Lifecycle:
    """Created .. held at close-won (no tax profile) .. resolved, won, contracted, active, time
    approved, invoiced, issued and paid in full."""
    qualified = await flows.qualified(api, tax_profile=None)
    eid = qualified.engagement_id
    held = await api.engagements.CloseWonEngagement(
        pb.CloseWonEngagementRequest(request_id=rid(), engagement_id=eid)
    )
    assert held.state == pb.ENGAGEMENT_STATE_ON_HOLD
    current = await api.customers.GetCustomer(customer_pb2.GetCustomerRequest(customer_id=held.customer_id))
    await api.customers.UpdateCustomer(
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
    await api.exceptions.ResolveException(
        exception_pb2.ResolveExceptionRequest(
            request_id=rid(), exception_id=held.open_exception_ids[0], resolution_note="tax profile added"
        )
    )
    await api.engagements.CloseWonEngagement(
        pb.CloseWonEngagementRequest(request_id=rid(), engagement_id=eid)
    )
    card = await flows.new_rate_card(api)
    lines = [tm_line(card.rate_card_id), fixed_fee_line(M1="5000"), expense_line("10")]
    await api.engagements.ApproveContract(
        pb.ApproveContractRequest(
            request_id=rid(),
            engagement_id=eid,
            currency_code="USD",
            start_date=gdate(date(2026, 1, 1)),
            end_date=gdate(date(2026, 12, 31)),
            po_reference="PO-1",
            billing_lines=lines,
        )
    )
    active = await api.engagements.ActivateEngagement(
        pb.ActivateEngagementRequest(request_id=rid(), engagement_id=eid, project_template_id="TPL-1")
    )
    assert active.state == pb.ENGAGEMENT_STATE_ACTIVE, active
    work = entry(1, date(2026, 1, 12))
    await api.engagements.SubmitTimeEntries(
        pb.SubmitTimeEntriesRequest(request_id=rid(), engagement_id=eid, entries=[work])
    )
    await api.engagements.ApproveTimeEntries(
        pb.ApproveTimeEntriesRequest(request_id=rid(), engagement_id=eid, entry_ids=["T1"])
    )
    invoice = await api.engagements.GenerateInvoice(
        pb.GenerateInvoiceRequest(request_id=rid(), engagement_id=eid, period=month("2026-01"))
    )
    issued = await api.billing.IssueInvoice(
        billing_pb2.IssueInvoiceRequest(request_id=rid(), invoice_id=invoice.invoice_id)
    )
    await api.billing.RecordPayment(
        billing_pb2.RecordPaymentRequest(
            request_id=rid(),
            invoice_id=invoice.invoice_id,
            amount=issued.total,
            received_date=gdate(date(2026, 2, 10)),
            reference="WIRE-1",
        )
    )
    return Lifecycle(eid, invoice.invoice_id)


async def test_replay_from_zero_sees_every_event_in_order(api: Api, event_stub: Any) -> None:
    flow = await _lifecycle(_correlated(api, "flow-42"))
    events = await _replay(event_stub, api, after_position=0)

    assert [e.event_type for e in events] == LIFECYCLE_TYPES
    positions = [e.position for e in events]
    assert positions[0] > 0 and all(a < b for a, b in pairwise(positions))
    assert [e.event_id for e in events] == [f"{flow.engagement_id}:{n}" for n in range(1, len(events) + 1)]
    assert {(e.engagement_id, e.tenant_id, e.correlation_id) for e in events} == {
        (flow.engagement_id, api.tenant_id, "flow-42")
    }
    assert {e.event_type for e in events if e.principal == api.approver} == {"TimeEntriesApproved"}
    assert {e.principal for e in events} == {api.principal, api.approver}
    assert all(e.request_id and e.occur_time.seconds > 0 for e in events)
    payloads = [json_format.MessageToDict(e.payload) for e in events]
    assert [p["type"] for p in payloads] == LIFECYCLE_TYPES
    assert payloads[0]["engagement_id"] == flow.engagement_id
    raised = [p["exception"]["check"] for p in payloads if p["type"] == "BusinessExceptionRaised"]
    assert raised == ["TAX_PROFILE_PRESENT", "SERVICE_LINE_SET", "TM_CAP_SET", "START_DATE_SET"]
    issued = payloads[LIFECYCLE_TYPES.index("InvoiceIssued")]
    assert issued["invoice_id"] == flow.invoice_id


async def test_resuming_after_a_position_yields_exactly_the_events_after_it(
    api: Api, event_stub: Any
) -> None:
    await _lifecycle(api)
    everything = await _replay(event_stub, api)
    for cut in (0, 5, len(everything) - 2):
        resumed = await _replay(event_stub, api, after_position=everything[cut].position)
        assert resumed == everything[cut + 1 :]
    assert await _replay(event_stub, api, after_position=everything[-1].position) == []
    between = everything[3].position + 1  # a position no event of the tenant has is fine too
    assert await _replay(event_stub, api, after_position=between) == [
        e for e in everything if e.position > between
    ]


async def test_event_type_and_engagement_filters(api: Api, event_stub: Any) -> None:
    flow = await _lifecycle(api)
    other = await flows.qualified(api)
    billing = await _replay(
        event_stub, api, event_types=["PaymentRecorded", "InvoiceIssued", "InvoiceIssued"]
    )
    assert [e.event_type for e in billing] == ["InvoiceIssued", "PaymentRecorded"]
    created = await _replay(event_stub, api, event_types=["EngagementCreated"])
    assert [e.engagement_id for e in created] == [flow.engagement_id, other.engagement_id]
    only_other = await _replay(event_stub, api, engagement_id=other.engagement_id)
    assert [e.event_type for e in only_other] == ["EngagementCreated", "EngagementQualified"]
    both = await _replay(
        event_stub, api, engagement_id=flow.engagement_id, event_types=["EngagementQualified"]
    )
    assert [(e.engagement_id, e.event_type) for e in both] == [(flow.engagement_id, "EngagementQualified")]
    assert await _replay(event_stub, api, engagement_id="no-such-engagement") == []


async def test_follow_streams_events_committed_after_subscribing(api: Api, event_stub: Any) -> None:
    first = await flows.new_engagement(api, (await flows.new_customer(api)).customer_id)
    call = _subscribe(event_stub, api, follow=True)
    seen = await call.read()
    assert (seen.engagement_id, seen.event_type) == (first.engagement_id, "EngagementCreated")
    second = await flows.new_engagement(api, first.customer_id)
    await api.engagements.QualifyEngagement(
        pb.QualifyEngagementRequest(request_id=rid(), engagement_id=second.engagement_id)
    )
    followed = [await call.read(), await call.read()]
    assert [(e.engagement_id, e.event_type) for e in followed] == [
        (second.engagement_id, "EngagementCreated"),
        (second.engagement_id, "EngagementQualified"),
    ]
    assert seen.position < followed[0].position < followed[1].position
    call.cancel()
    assert await call.code() == grpc.StatusCode.CANCELLED


async def test_follow_ends_with_the_deadline(api: Api, event_stub: Any) -> None:
    call = _subscribe(event_stub, api, timeout=0.5, follow=True)
    assert [event async for event in _until_error(call)] == []
    assert await call.code() == grpc.StatusCode.DEADLINE_EXCEEDED


async def _until_error(call: Any) -> Any:
    """The call's messages, stopping quietly when it fails."""
    try:
        async for event in call:
            yield event
    except grpc.aio.AioRpcError:
        return


async def test_a_subscriber_sees_only_its_own_tenant(api: Api, event_stub: Any, stubs: Any) -> None:
    mine = await flows.new_engagement(api, (await flows.new_customer(api)).customer_id)
    stranger = Api(stubs, tenant_id=f"{api.tenant_id}-other", principal="mallory")
    theirs = await flows.new_engagement(stranger, (await flows.new_customer(stranger)).customer_id)
    assert [e.engagement_id for e in await _replay(event_stub, api)] == [mine.engagement_id]
    seen = await _replay(event_stub, stranger)
    assert [(e.engagement_id, e.tenant_id) for e in seen] == [(theirs.engagement_id, stranger.tenant_id)]
    assert await _replay(event_stub, stranger, engagement_id=mine.engagement_id) == []


async def _drain(call: Any) -> None:
    async for _ in call:
        pass


async def test_invalid_subscription_is_invalid_argument_with_field_violations(
    api: Api, event_stub: Any
) -> None:
    call = _subscribe(
        event_stub, api, after_position=-1, event_types=["Nope", "InvoiceIssued", "invoiceissued"]
    )
    code, status = await rich_error(_drain(call))
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert error_info(status).reason == "VALIDATION_FAILED"
    assert field_paths(status) == ["after_position", "event_types[0]", "event_types[2]"]


async def test_money_in_payloads_stays_exact(api: Api, event_stub: Any) -> None:
    flow = await _lifecycle(api)
    paid = await _replay(event_stub, api, engagement_id=flow.engagement_id, event_types=["PaymentRecorded"])
    payment = json_format.MessageToDict(paid[0].payload)["payment"]
    assert payment["amount"] == {"amount": "1440.00", "currency": "USD"}  # 8 h x 150 + 20 % tax
