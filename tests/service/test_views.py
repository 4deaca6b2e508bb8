"""EngagementView (AIP-157): BASIC replies carry the engagement's own fields and none of its
collections; UNSPECIFIED and FULL carry the whole engagement; a replay answers in the view asked
for. Over both runtimes (on Ray a BASIC reply crosses from the shard without the engagement)."""

from __future__ import annotations

import pickle
from datetime import date, timedelta

import grpc

from actors.runtime import RayRuntime
from q2c.v1 import audit_pb2, common_pb2
from q2c.v1 import engagement_pb2 as pb
from q2c_core.app.messages import Caller, CommandEnvelope
from q2c_core.app.runtime import LocalRuntime
from q2c_core.edge.converters import convert
from tests.service import flows
from tests.service.client import (
    Api,
    contract_request,
    error_info,
    field_paths,
    gdate,
    rich_error,
    rid,
    time_entry,
)

BASIC = pb.ENGAGEMENT_VIEW_BASIC
FULL = pb.ENGAGEMENT_VIEW_FULL
COLLECTIONS = ("time_entries", "expenses", "milestones", "contract_revisions", "staffing_plan", "invoice_ids")


def without_collections(full: pb.Engagement) -> pb.Engagement:
    """What BASIC must be: the full engagement with every collection emptied."""
    basic = pb.Engagement()
    basic.CopyFrom(full)
    for name in COLLECTIONS:
        basic.ClearField(name)  # type: ignore[arg-type]
    basic.contract.ClearField("billing_lines")
    if not full.HasField("contract"):
        basic.ClearField("contract")
    return basic


async def get(api: Api, engagement_id: str, view: int = pb.ENGAGEMENT_VIEW_UNSPECIFIED) -> pb.Engagement:
    reply: pb.Engagement = await api.engagements.GetEngagement(
        pb.GetEngagementRequest(engagement_id=engagement_id, view=view)
    )
    return reply


async def _audit_count(api: Api, stream_id: str) -> int:
    page = await api.audit.ListAuditRecords(audit_pb2.ListAuditRecordsRequest(stream_id=stream_id))
    return len(page.audit_records)


async def test_basic_submit_returns_the_summary_and_no_time_entries(api: Api) -> None:
    engagement, _ = await flows.active(api)
    eid = engagement.engagement_id
    request = pb.SubmitTimeEntriesRequest(
        request_id=rid(), engagement_id=eid, entries=[time_entry(1), time_entry(2)], view=BASIC
    )
    basic = await api.engagements.SubmitTimeEntries(request)

    assert (basic.engagement_id, basic.state, basic.version) == (
        eid,
        pb.ENGAGEMENT_STATE_ACTIVE,
        engagement.version + 1,
    )
    assert basic.etag == f'"v{basic.version}"' and basic.update_time.seconds > 0
    assert (basic.customer_id, basic.display_name, basic.project_template_id) == (
        engagement.customer_id,
        "Platform build",
        "TPL-1",
    )
    assert (basic.contract.revision, basic.contract.currency_code, basic.contract.po_reference) == (
        1,
        "USD",
        "PO-1",
    )
    assert not basic.contract.billing_lines
    assert all(not getattr(basic, name) for name in COLLECTIONS)
    full = await get(api, eid)
    assert [e.entry_id for e in full.time_entries] == ["T1", "T2"]
    assert basic == without_collections(full)


async def test_unspecified_and_full_views_return_the_whole_engagement(api: Api) -> None:
    engagement, _ = await flows.active(api)
    eid = engagement.engagement_id
    unspecified = await api.engagements.SubmitTimeEntries(
        pb.SubmitTimeEntriesRequest(request_id=rid(), engagement_id=eid, entries=[time_entry(1)])
    )
    assert [e.entry_id for e in unspecified.time_entries] == ["T1"]
    assert unspecified == await get(api, eid) == await get(api, eid, FULL)
    full = await api.engagements.ApproveTimeEntries(
        pb.ApproveTimeEntriesRequest(request_id=rid(), engagement_id=eid, entry_ids=["T1"], view=FULL)
    )
    assert [e.status for e in full.time_entries] == [pb.TIME_ENTRY_STATUS_APPROVED]
    assert [m.milestone_id for m in full.milestones] == ["M1", "M2"]
    assert full == await get(api, eid)


async def test_get_in_basic_view_is_the_full_engagement_without_collections(api: Api) -> None:
    engagement, _ = await flows.active(api)
    eid = engagement.engagement_id
    basic = await get(api, eid, BASIC)
    assert basic == without_collections(await get(api, eid))
    assert basic.start_date == gdate(date(2025, 2, 1)) and basic.contract.effective_from == gdate(
        date(2025, 2, 1)
    )


async def test_basic_replay_returns_the_same_summary_and_full_replay_the_engagement(api: Api) -> None:
    engagement, _ = await flows.active(api)
    eid = engagement.engagement_id
    request = pb.SubmitTimeEntriesRequest(
        request_id=rid(), engagement_id=eid, entries=[time_entry(1)], view=BASIC
    )
    first = await api.engagements.SubmitTimeEntries(request)
    full_then = await get(api, eid)
    records = await _audit_count(api, eid)

    assert await api.engagements.SubmitTimeEntries(request) == first
    request.view = FULL  # the view is not part of the payload: the same request, replayed
    assert await api.engagements.SubmitTimeEntries(request) == full_then
    request.view = pb.ENGAGEMENT_VIEW_UNSPECIFIED
    assert await api.engagements.SubmitTimeEntries(request) == full_then
    assert await _audit_count(api, eid) == records

    later = await api.engagements.ApproveTimeEntries(
        pb.ApproveTimeEntriesRequest(request_id=rid(), engagement_id=eid, entry_ids=["T1"], view=BASIC)
    )
    assert later.version == first.version + 1
    request.view = BASIC  # still the summary as the original command left it
    assert await api.engagements.SubmitTimeEntries(request) == first


async def test_basic_replay_of_a_full_reply_summarizes_it(api: Api) -> None:
    cust = await flows.new_customer(api)
    request = pb.CreateEngagementRequest(request_id=rid(), customer_id=cust.customer_id, display_name="X")
    full = await api.engagements.CreateEngagement(request)
    request.view = BASIC
    basic = await api.engagements.CreateEngagement(request)
    assert basic == without_collections(full)
    assert (basic.state, basic.version, basic.customer_id) == (pb.ENGAGEMENT_STATE_DRAFT, 1, cust.customer_id)


async def test_basic_on_hold_reply_names_the_exceptions_the_step_raised(api: Api) -> None:
    engagement = await flows.qualified(api, tax_profile=None)
    eid = engagement.engagement_id
    held = await api.engagements.CloseWonEngagement(
        pb.CloseWonEngagementRequest(request_id=rid(), engagement_id=eid, view=BASIC)
    )
    assert held.state == pb.ENGAGEMENT_STATE_ON_HOLD
    assert (held.held_from_state, held.held_step) == (
        pb.ENGAGEMENT_STATE_QUALIFIED,
        common_pb2.GATED_STEP_CLOSE_WON,
    )
    full = await get(api, eid)
    assert len(held.open_exception_ids) == 1 and held.open_exception_ids == full.open_exception_ids


async def test_basic_change_order_reply_carries_the_new_revision(api: Api) -> None:
    engagement, card = await flows.active(api)
    eid = engagement.engagement_id
    lines = contract_request(eid, card.rate_card_id).billing_lines
    amended = await api.engagements.AmendContract(
        pb.AmendContractRequest(
            request_id=rid(),
            engagement_id=eid,
            effective_date=gdate(date(2025, 3, 1)),
            billing_lines=lines,
            view=BASIC,
        )
    )
    assert (amended.contract.revision, amended.contract.effective_from) == (2, gdate(date(2025, 3, 1)))
    assert not amended.contract_revisions and not amended.contract.billing_lines
    assert amended == without_collections(await get(api, eid))


async def test_a_rejected_command_fails_alike_in_every_view(api: Api) -> None:
    engagement = await flows.qualified(api)
    eid = engagement.engagement_id
    for view in (BASIC, FULL):
        code, status = await rich_error(
            api.engagements.SubmitTimeEntries(
                pb.SubmitTimeEntriesRequest(
                    request_id=rid(), engagement_id=eid, entries=[time_entry(1)], view=view
                )
            )
        )
        assert (code, error_info(status).reason) == (grpc.StatusCode.FAILED_PRECONDITION, "INVALID_STATE")
        assert error_info(status).metadata["engagement_id"] == eid


async def test_an_unknown_view_is_invalid_argument(api: Api) -> None:
    engagement = await flows.qualified(api)
    eid = engagement.engagement_id
    code, status = await rich_error(
        api.engagements.CloseWonEngagement(
            pb.CloseWonEngagementRequest(request_id=rid(), engagement_id=eid, view=7)
        )
    )
    assert (code, error_info(status).reason) == (grpc.StatusCode.INVALID_ARGUMENT, "VALIDATION_FAILED")
    assert field_paths(status) == ["view"]
    code, status = await rich_error(
        api.engagements.GetEngagement(pb.GetEngagementRequest(engagement_id=eid, view=7))
    )
    assert code == grpc.StatusCode.INVALID_ARGUMENT and field_paths(status) == ["view"]
    assert (await get(api, eid)).state == pb.ENGAGEMENT_STATE_QUALIFIED  # nothing ran


async def test_a_slim_reply_comes_back_from_the_host_without_the_engagement(
    api: Api, runtime: LocalRuntime | RayRuntime
) -> None:
    engagement, _ = await flows.active(api)
    eid = engagement.engagement_id
    caller = Caller(tenant_id=api.tenant_id, principal="alice")

    def envelope(days: range, *, slim: bool) -> CommandEnvelope:
        entries = [time_entry(n, day=date(2025, 3, 1) + timedelta(days=n)) for n in days]
        command = convert.submit_time(pb.SubmitTimeEntriesRequest(engagement_id=eid, entries=entries)).command
        return CommandEnvelope(
            caller=caller, engagement_id=eid, request_id=rid(), command=command, slim_reply=slim
        )

    full = await runtime.execute(envelope(range(50), slim=False))
    slim = await runtime.execute(envelope(range(50, 100), slim=True))  # on Ray: what the shard sent

    assert full.ok and slim.ok and slim.engagement is None and full.engagement is not None
    assert slim.summary is not None and slim.summary.version == slim.version == full.version + 1
    assert slim.summary.contract is not None and slim.summary.contract.currency == "USD"
    assert len(pickle.dumps(slim)) * 10 < len(pickle.dumps(full))
