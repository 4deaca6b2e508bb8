"""Gateway plumbing on the shared server: correlation ids, reflection, health, audit verification."""

from __future__ import annotations

import asyncio
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from q2c.v1 import audit_pb2, engagement_pb2_grpc, event_pb2, event_pb2_grpc
from q2c.v1 import engagement_pb2 as pb
from q2c_core.edge.app import SERVICE_NAMES
from tests.service import flows
from tests.service.client import Api, rid


async def test_correlation_id_is_echoed_and_recorded_in_the_audit_log(api: Api) -> None:
    customer = await flows.new_customer(api)
    call = api.engagements.CreateEngagement(
        pb.CreateEngagementRequest(request_id=rid(), customer_id=customer.customer_id, display_name="C"),
        metadata=(("x-correlation-id", "flow-42"),),
    )
    engagement = await call
    # a unary reply echoes it in its trailing metadata (sent with the reply, in one batch)
    assert ("x-correlation-id", "flow-42") in tuple(await call.trailing_metadata())
    page = await api.audit.ListAuditRecords(
        audit_pb2.ListAuditRecordsRequest(stream_id=engagement.engagement_id)
    )
    [record] = page.audit_records
    assert (record.correlation_id, record.principal, record.tenant_id) == ("flow-42", "alice", api.tenant_id)


async def test_a_refused_call_echoes_its_correlation_id_in_the_trailing_metadata(api: Api) -> None:
    anonymous = (("x-correlation-id", "no-token-7"),)
    call = api.stubs.engagements.GetEngagement(
        pb.GetEngagementRequest(engagement_id="e-1"), metadata=anonymous, timeout=10
    )
    try:
        await call
    except grpc.aio.AioRpcError as refused:
        assert refused.code() == grpc.StatusCode.UNAUTHENTICATED
        assert ("x-correlation-id", "no-token-7") in tuple(refused.trailing_metadata() or ())
    else:
        raise AssertionError("a call without credentials was served")


async def test_server_generates_a_correlation_id_when_none_is_sent(api: Api) -> None:
    call = api.engagements.ListEngagements(pb.ListEngagementsRequest())
    await call
    generated = dict(await call.trailing_metadata())["x-correlation-id"]
    assert len(generated) == 32


async def test_a_stream_echoes_its_correlation_id_before_its_first_message(
    api: Api, channel: grpc.aio.Channel
) -> None:
    stub = event_pb2_grpc.EventServiceStub(channel)
    call = stub.SubscribeEvents(
        event_pb2.SubscribeEventsRequest(follow=True),
        metadata=(*api.metadata, ("x-correlation-id", "stream-9")),
        timeout=10,
    )
    try:  # no event will come: the echo must not wait for one
        assert ("x-correlation-id", "stream-9") in tuple(await call.initial_metadata())
    finally:
        call.cancel()


async def test_audit_log_verifies(api: Api) -> None:
    engagement, _ = await flows.active(api)
    one = await api.audit.VerifyAuditLog(audit_pb2.VerifyAuditLogRequest(stream_id=engagement.engagement_id))
    assert one.ok and one.records_checked >= 5 and not one.HasField("first_invalid_record")
    everything = await api.audit.VerifyAuditLog(audit_pb2.VerifyAuditLogRequest())
    assert everything.ok and everything.records_checked > one.records_checked


async def test_health_reports_every_q2c_service_serving(channel: grpc.aio.Channel) -> None:
    stub = health_pb2_grpc.HealthStub(channel)
    for name in ("", *SERVICE_NAMES):
        reply = await stub.Check(health_pb2.HealthCheckRequest(service=name), timeout=5)
        assert reply.status == health_pb2.HealthCheckResponse.SERVING


async def test_reflection_lists_the_q2c_services(channel: grpc.aio.Channel) -> None:
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)
    request = reflection_pb2.ServerReflectionRequest(list_services="")
    responses = [r async for r in stub.ServerReflectionInfo(iter([request]), timeout=5)]
    names = {s.name for s in responses[0].list_services_response.service}
    assert set(SERVICE_NAMES) <= names
    assert "grpc.health.v1.Health" in names


async def _largest_wait_per_call(channel: grpc.aio.Channel, monkeypatch: pytest.MonkeyPatch) -> int:
    """The most futures grpc.aio's server waited on at once (asyncio.wait) over 5 calls."""
    sizes: list[int] = []
    real = asyncio.wait

    async def spy(fs: Any, *args: Any, **kwargs: Any) -> Any:
        fs = set(fs)
        sizes.append(len(fs))
        return await real(fs, *args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(asyncio, "wait", spy)
        stub = health_pb2_grpc.HealthStub(channel)
        for _ in range(5):
            await stub.Check(health_pb2.HealthCheckRequest(), timeout=5)
    return max(sizes, default=0)


async def test_a_call_is_not_matched_against_every_registered_method(
    channel: grpc.aio.Channel, monkeypatch: pytest.MonkeyPatch
) -> None:
    # grpc.aio serves each *registered* method from a task of its own and waits on all of them
    # for every call; q2c registers its ~60 methods as generic handlers (edge/app.py, _GenericOnly)
    plain = grpc.aio.server()
    health_pb2_grpc.add_HealthServicer_to_server(health.aio.HealthServicer(), plain)
    engagement_pb2_grpc.add_EngagementServiceServicer_to_server(
        engagement_pb2_grpc.EngagementServiceServicer(), plain
    )
    port = plain.add_insecure_port("127.0.0.1:0")
    await plain.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as registered:
            assert await _largest_wait_per_call(registered, monkeypatch) > 10, (
                "grpc.aio no longer waits on every registered method per call (grpc/grpc#43461?):"
                " edge/app.py's _GenericOnly may go"
            )
    finally:
        await plain.stop(None)
    assert await _largest_wait_per_call(channel, monkeypatch) <= 2
