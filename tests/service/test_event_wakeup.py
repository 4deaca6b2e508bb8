"""Followers are woken by the commit path, not by polling (LocalRuntime and Ray, SQLite and
PostgreSQL): a follower parked at the end of the stream is woken by the store's EventNotifier
when an event commits — in process, or on PostgreSQL through the gateway's one LISTEN
connection when a Ray shard commits — and fifty followers share that one listener."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import grpc
import pytest

from actors.runtime import RayRuntime
from q2c.v1 import event_pb2, event_pb2_grpc
from q2c_core.adapters.store import Store
from q2c_core.app.runtime import LocalRuntime
from q2c_core.edge.app import start_server
from q2c_core.edge.limits import ServerLimits
from tests import credentials
from tests.conftest_db import new_tenant_id
from tests.service import flows
from tests.service.client import Api, Stubs

FOLLOWERS = 50


@dataclass
class Stack:
    """A gateway on one runtime, the gateway's store and a channel to it."""

    store: Store
    runtime: str
    channel: grpc.aio.Channel

    @property
    def cross_process_signal(self) -> bool:
        """Whether a commit reaches the gateway's notifier: in process, or via PostgreSQL."""
        return self.runtime == "local" or self.store.dialect_name == "postgresql"


@pytest.fixture(scope="module", params=["local", "ray"])
async def stack(request: pytest.FixtureRequest, database_url: str) -> AsyncIterator[Stack]:
    """The gateway over a fresh database on either runtime, keeping hold of its store."""
    store = Store.open(database_url)
    runtime: LocalRuntime | RayRuntime
    if request.param == "ray":
        request.getfixturevalue("ray_cluster")
        runtime = RayRuntime(store, database_url, shards=2, deployment=f"wake-{uuid.uuid4().hex[:8]}")
        await runtime.wait_ready()
    else:
        runtime = LocalRuntime(store)
    unlimited_streams = ServerLimits(max_streams_per_tenant=0)
    gateway = await start_server(runtime, security=credentials.security(store), limits=unlimited_streams)
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{gateway.port}") as channel:
            yield Stack(store, request.param, channel)
    finally:
        await gateway.stop(grace=1.0)
        if isinstance(runtime, RayRuntime):
            await runtime.close(kill_shards=True)
        else:
            await runtime.close()
        store.close()


def _follow(stack: Stack, api: Api) -> Any:
    stub = event_pb2_grpc.EventServiceStub(stack.channel)
    return stub.SubscribeEvents(
        event_pb2.SubscribeEventsRequest(follow=True), metadata=api.metadata, timeout=30
    )


async def _parked(stack: Stack, count: int) -> None:
    """Until `count` followers wait on the notifier (and, on PostgreSQL, the listener is up)."""
    notifier = stack.store.notifier
    for _ in range(500):
        if notifier.waiting >= count:
            break
        await asyncio.sleep(0.01)
    assert notifier.waiting >= count
    if stack.store.dialect_name == "postgresql":
        assert await asyncio.to_thread(stack.store.wait_listening, 5.0)


async def test_a_follower_is_woken_by_the_commit_not_by_a_poll(stack: Stack) -> None:
    api = Api(Stubs.on(stack.channel), tenant_id=new_tenant_id(), principal="alice")
    call = _follow(stack, api)
    await _parked(stack, 1)
    woken = stack.store.notifier.wakeups

    customer = await flows.new_customer(api)
    await flows.new_engagement(api, customer.customer_id)
    committed = time.monotonic()
    event = await call.read()
    latency = time.monotonic() - committed

    assert event.event_type == "EngagementCreated"
    if stack.cross_process_signal:
        assert stack.store.notifier.wakeups > woken  # the notification woke it, not the fallback timer
        assert latency < stack.store.follow_fallback_seconds
    call.cancel()


async def test_fifty_followers_share_one_listener_and_all_wake(stack: Stack) -> None:
    api = Api(Stubs.on(stack.channel), tenant_id=new_tenant_id(), principal="alice")
    calls = [_follow(stack, api) for _ in range(FOLLOWERS)]
    await _parked(stack, FOLLOWERS)
    listeners = [t for t in threading.enumerate() if t.name == "q2c-event-listener"]
    assert len(listeners) == (1 if stack.store.dialect_name == "postgresql" else 0)
    woken = stack.store.notifier.wakeups

    customer = await flows.new_customer(api)
    await flows.new_engagement(api, customer.customer_id)
    events = await asyncio.gather(*(call.read() for call in calls))

    assert {e.event_type for e in events} == {"EngagementCreated"}
    if stack.cross_process_signal:
        assert stack.store.notifier.wakeups - woken >= FOLLOWERS
    for call in calls:
        call.cancel()
