"""Command batches over the shards' direct channels (actors/direct.py), through a real gateway."""

from __future__ import annotations

import asyncio
import os
import select
import signal
import uuid
from typing import Any

import pytest

from actors.direct import ChannelClient, ChannelLost, Endpoint
from actors.retry import ACTOR_ERRORS
from actors.runtime import RayRuntime
from q2c.v1 import engagement_pb2
from q2c_core.adapters.store import Store
from q2c_core.edge.app import start_server
from tests import credentials
from tests.e2e.conftest import RayStack
from tests.e2e.flows import active, rid, time_entry

pytestmark = pytest.mark.e2e
E = engagement_pb2


async def killed(shard: Any) -> int:
    """SIGKILL the shard's process and return once it is gone (Ray then restarts the actor)."""
    pid = int((await shard.stats.remote())["pid"])
    exited = os.pidfd_open(pid)
    try:
        os.kill(pid, signal.SIGKILL)
        readable, _, _ = await asyncio.to_thread(select.select, [exited], [], [], 60)
        assert readable, "the shard process outlived SIGKILL"
    finally:
        os.close(exited)
    return pid


async def restarted(shard: Any, deadline: float = 90.0) -> int:
    """Wait until Ray has the shard back (it answers calls again); its new pid."""
    loop = asyncio.get_running_loop()
    give_up = loop.time() + deadline
    while True:
        try:
            return int((await shard.stats.remote())["pid"])
        except ACTOR_ERRORS:  # "the actor is restarting": Ray has no event to wait on
            if loop.time() > give_up:
                raise
            await asyncio.sleep(0.1)


async def test_commands_reach_the_shards_over_their_direct_channels(
    ray_stack: RayStack, tenant: list
) -> None:
    calls_before = sum(lane.calls for lane in ray_stack.runtime.lanes)
    direct_before = sum(lane.direct_calls for lane in ray_stack.runtime.lanes)
    eng = await active(ray_stack, tenant)
    assert eng.state == E.ENGAGEMENT_STATE_ACTIVE
    calls = sum(lane.calls for lane in ray_stack.runtime.lanes) - calls_before
    direct = sum(lane.direct_calls for lane in ray_stack.runtime.lanes) - direct_before
    assert calls >= 3 and direct == calls  # every batch, none through a Ray actor call


async def test_a_shard_killed_and_restarted_is_found_again_and_nothing_is_lost(
    ray_stack: RayStack, tenant: list
) -> None:
    eng = await active(ray_stack, tenant)
    lane = ray_stack.runtime.lane_for(eng.engagement_id)
    before: Endpoint = await lane.handle.direct_endpoint.remote()
    pid_before = await killed(lane.handle)  # mid-conversation: the lane's channel is now broken
    pid_after = await restarted(lane.handle)
    request = E.SubmitTimeEntriesRequest(
        request_id=rid(), engagement_id=eng.engagement_id, entries=[time_entry("after-restart")]
    )
    reply = await ray_stack.engagements.SubmitTimeEntries(request, metadata=tenant)
    assert [t.entry_id for t in reply.time_entries] == ["after-restart"]
    assert pid_after != pid_before
    after: Endpoint = await lane.handle.direct_endpoint.remote()
    assert after.secret != before.secret
    again = await ray_stack.engagements.SubmitTimeEntries(request, metadata=tenant)  # a retry: replayed
    assert [t.entry_id for t in again.time_entries] == ["after-restart"]


async def test_the_old_secret_does_not_open_a_restarted_shard(ray_stack: RayStack) -> None:
    lane = ray_stack.runtime.lanes[1]
    old: Endpoint = await lane.handle.direct_endpoint.remote()
    await killed(lane.handle)
    await restarted(lane.handle)
    new: Endpoint = await lane.handle.direct_endpoint.remote()
    client = await ChannelClient.connect(Endpoint(new.host, new.port, old.secret))
    with pytest.raises(ChannelLost):
        await client.call(b"anything")


async def test_shard_channel_ray_sends_every_batch_as_a_ray_call(
    ray_cluster: str, database_url: str, tenant: list
) -> None:
    store = Store.open(database_url)
    runtime = RayRuntime(
        store, database_url, shards=1, deployment=f"e2e-{uuid.uuid4().hex[:8]}", channel="ray"
    )
    await runtime.wait_ready()
    gateway = await start_server(runtime, "127.0.0.1", 0, security=credentials.security(store))
    stack = RayStack.connect(runtime, f"127.0.0.1:{gateway.port}")
    try:
        eng = await active(stack, tenant)
        assert eng.state == E.ENGAGEMENT_STATE_ACTIVE
        assert runtime.lanes[0].calls >= 3 and runtime.lanes[0].direct_calls == 0
    finally:
        await stack.close()
        await gateway.stop(0)
        await runtime.close(kill_shards=True)
        store.close()
