"""The per-tenant stream cap (and its release however a stream ends), request size and
concurrent-call limits on a real gateway."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
import pytest
from grpc import aio

from q2c.v1 import billing_pb2, billing_pb2_grpc, customer_pb2, customer_pb2_grpc, event_pb2, event_pb2_grpc
from q2c_core.adapters.store import Store
from q2c_core.edge.app import GatewayServer
from q2c_core.edge.limits import ServerLimits
from q2c_core.edge.server_options import TransportLimits
from tests import credentials
from tests.conftest_db import new_tenant_id
from tests.limits.conftest import eventually, first_error, serving
from tests.security.probes import row_counts
from tests.service.client import customer, error_info, rich_error, rid

STREAMS = 2
LIMITS = ServerLimits(
    max_streams_per_tenant=STREAMS,
    transport=TransportLimits(max_receive_message_bytes=64 * 1024),
)
FOLLOW = event_pb2.SubscribeEventsRequest(follow=True)


@pytest.fixture(scope="module")
async def gateway(store: Store) -> AsyncIterator[tuple[GatewayServer, aio.Channel]]:
    async with serving(store, LIMITS) as served:
        yield served


@pytest.fixture
def server(gateway: tuple[GatewayServer, aio.Channel]) -> GatewayServer:
    return gateway[0]


@pytest.fixture
def events(gateway: tuple[GatewayServer, aio.Channel]) -> event_pb2_grpc.EventServiceStub:
    return event_pb2_grpc.EventServiceStub(gateway[1])


def open_streams(server: GatewayServer, tenant: str) -> Callable[[], int]:
    assert server.streams is not None
    streams = server.streams
    return lambda: streams.open(tenant)


async def follow_all(
    events: event_pb2_grpc.EventServiceStub, server: GatewayServer, tenant: str
) -> list[Any]:
    """Open the tenant's whole allowance of following streams; wait until the server holds them."""
    calls = [
        events.SubscribeEvents(FOLLOW, metadata=credentials.bearer(tenant), timeout=30)
        for _ in range(STREAMS)
    ]
    await eventually(lambda: open_streams(server, tenant)() == STREAMS, "the streams to open")
    return calls


async def test_a_stream_over_the_tenants_cap_is_refused_and_other_tenants_still_stream(
    events: event_pb2_grpc.EventServiceStub, server: GatewayServer
) -> None:
    tenant = new_tenant_id()
    calls = await follow_all(events, server, tenant)

    code, status = await rich_error(
        drain(events.SubscribeEvents(FOLLOW, metadata=credentials.bearer(tenant)))
    )
    assert code == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert error_info(status).reason == "TOO_MANY_STREAMS"
    assert error_info(status).metadata["limit"] == str(STREAMS)
    assert open_streams(server, tenant)() == STREAMS

    other = new_tenant_id()
    replay = events.SubscribeEvents(
        event_pb2.SubscribeEventsRequest(), metadata=credentials.bearer(other), timeout=30
    )
    assert [event async for event in replay] == []
    for call in calls:
        call.cancel()
    await eventually(lambda: open_streams(server, tenant)() == 0, "the slots to come back")


async def drain(call: Any) -> None:
    """Read a stream to its end, so that its error is raised (for rich_error)."""
    async for _ in call:
        pass


async def test_a_cancelled_stream_gives_its_slot_back(
    events: event_pb2_grpc.EventServiceStub, server: GatewayServer
) -> None:
    tenant = new_tenant_id()
    first, second = await follow_all(events, server, tenant)
    first.cancel()
    await eventually(lambda: open_streams(server, tenant)() == 1, "the cancelled stream's slot")
    third = events.SubscribeEvents(FOLLOW, metadata=credentials.bearer(tenant), timeout=30)
    await eventually(lambda: open_streams(server, tenant)() == 2, "the new stream to open")
    for call in (second, third):
        call.cancel()
    await eventually(lambda: open_streams(server, tenant)() == 0, "every slot")


async def test_a_stream_whose_deadline_passes_gives_its_slot_back(
    events: event_pb2_grpc.EventServiceStub, server: GatewayServer
) -> None:
    tenant = new_tenant_id()
    call = events.SubscribeEvents(FOLLOW, metadata=credentials.bearer(tenant), timeout=0.5)
    error = await first_error(call)
    assert error.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    await eventually(lambda: open_streams(server, tenant)() == 0, "the expired stream's slot")


async def test_streams_that_finish_or_fail_give_their_slots_back(
    gateway: tuple[GatewayServer, aio.Channel], events: event_pb2_grpc.EventServiceStub, server: GatewayServer
) -> None:
    tenant = new_tenant_id()
    for _ in range(STREAMS + 1):  # a replay that ends with OK
        replay = events.SubscribeEvents(
            event_pb2.SubscribeEventsRequest(), metadata=credentials.bearer(tenant)
        )
        assert [event async for event in replay] == []
    billing = billing_pb2_grpc.BillingServiceStub(gateway[1])
    for _ in range(STREAMS + 1):  # a watch that fails with NOT_FOUND
        watch = billing.WatchBillRun(
            billing_pb2.WatchBillRunRequest(bill_run_id="no-such-run"),
            metadata=credentials.bearer(tenant),
            timeout=30,
        )
        assert (await first_error(watch)).code() == grpc.StatusCode.NOT_FOUND
    invalid = events.SubscribeEvents(
        event_pb2.SubscribeEventsRequest(after_position=-1), metadata=credentials.bearer(tenant), timeout=30
    )
    assert (await first_error(invalid)).code() == grpc.StatusCode.INVALID_ARGUMENT
    assert open_streams(server, tenant)() == 0
    for call in await follow_all(events, server, tenant):  # the whole allowance is still there
        call.cancel()


async def test_a_request_over_the_size_limit_is_refused_before_it_is_read(
    gateway: tuple[GatewayServer, aio.Channel], store: Store
) -> None:
    tenant = new_tenant_id()
    customers = customer_pb2_grpc.CustomerServiceStub(gateway[1])
    huge = customer_pb2.CreateCustomerRequest(request_id=rid(), customer=customer(display_name="x" * 100_000))
    before = row_counts(store, tenant)
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await customers.CreateCustomer(huge, metadata=credentials.bearer(tenant), timeout=20)
    assert refused.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert row_counts(store, tenant) == before
    fits = customer_pb2.CreateCustomerRequest(request_id=rid(), customer=customer())
    assert (await customers.CreateCustomer(fits, metadata=credentials.bearer(tenant), timeout=20)).customer_id


class Hold(aio.ServerInterceptor):  # type: ignore[misc]
    """Holds every GetCustomer call inside the server until `release` is set."""

    def __init__(self) -> None:
        self.inside = 0
        self.release = asyncio.Event()

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(details)
        if handler is None or not str(details.method).endswith("/GetCustomer"):
            return handler
        behaviour = handler.unary_unary

        async def held(request: Any, context: aio.ServicerContext[Any, Any]) -> Any:
            self.inside += 1
            await self.release.wait()
            return await behaviour(request, context)

        return grpc.unary_unary_rpc_method_handler(
            held,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )


async def test_calls_beyond_the_concurrency_limit_are_refused_until_one_finishes(store: Store) -> None:
    hold = Hold()
    tenant = new_tenant_id()
    async with serving(store, ServerLimits(max_concurrent_rpcs=2), (hold,)) as (_, channel):
        customers = customer_pb2_grpc.CustomerServiceStub(channel)
        created = await customers.CreateCustomer(
            customer_pb2.CreateCustomerRequest(request_id=rid(), customer=customer()),
            metadata=credentials.bearer(tenant),
            timeout=20,
        )
        get = customer_pb2.GetCustomerRequest(customer_id=created.customer_id)
        held = [customers.GetCustomer(get, metadata=credentials.bearer(tenant), timeout=20) for _ in range(2)]
        await eventually(lambda: hold.inside == 2, "two calls held in the server")

        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await customers.GetCustomer(get, metadata=credentials.bearer(tenant), timeout=20)
        assert refused.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert hold.inside == 2  # the refused call never reached a handler

        hold.release.set()
        assert [reply.customer_id for reply in await asyncio.gather(*held)] == [created.customer_id] * 2
        again = await customers.GetCustomer(get, metadata=credentials.bearer(tenant), timeout=20)
        assert again.customer_id == created.customer_id
