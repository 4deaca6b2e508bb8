"""The gateway's event loop: uvloop by default where installed, and the gateway works on it."""

from __future__ import annotations

import asyncio

import grpc
import pytest
import uvloop
from grpc_health.v1 import health_pb2, health_pb2_grpc

from q2c.v1 import engagement_pb2 as pb
from q2c_core.adapters.store import Store
from q2c_core.app.runtime import LocalRuntime
from q2c_core.edge.app import start_server
from q2c_core.edge.event_loop import loop_factory, run
from tests import credentials
from tests.conftest_db import new_tenant_id
from tests.service.client import Api, Stubs
from tests.service.flows import qualified


def test_auto_picks_uvloop_where_it_is_installed() -> None:
    assert loop_factory("auto") is uvloop.new_event_loop


def test_asyncio_is_asyncios_default_loop() -> None:
    assert loop_factory("asyncio") is None
    assert run(_loop_module(), "asyncio") == "asyncio"


def test_an_unknown_loop_name_is_refused() -> None:
    with pytest.raises(ValueError, match="event loop must be one of"):
        loop_factory("trio")


def test_run_on_uvloop_runs_on_a_uvloop_loop() -> None:
    assert run(_loop_module(), "uvloop") == "uvloop"


def test_the_gateway_serves_commands_and_health_on_uvloop(database_url: str) -> None:
    """grpc.aio's completion queue, the edge's wrapper (authentication included), a command through
    the host's group commit and a worker-thread read, all on one uvloop loop."""
    store = Store.open(database_url)
    try:
        module, state, fetched, health = run(_serve_on_this_loop(store), "uvloop")
    finally:
        store.close()
    assert module == "uvloop"
    assert state == fetched == pb.ENGAGEMENT_STATE_QUALIFIED
    assert health == health_pb2.HealthCheckResponse.SERVING


async def _loop_module() -> str:
    return type(asyncio.get_running_loop()).__module__.partition(".")[0]


async def _serve_on_this_loop(store: Store) -> tuple[str, int, int, int]:
    runtime = LocalRuntime(store)
    server = await start_server(runtime, security=credentials.security(store))
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            api = Api(Stubs.on(channel), tenant_id=new_tenant_id(), principal="alice")
            engagement = await qualified(api)
            fetched = await api.engagements.GetEngagement(
                pb.GetEngagementRequest(engagement_id=engagement.engagement_id)
            )
            check = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest())
        return await _loop_module(), engagement.state, fetched.state, check.status
    finally:
        await server.stop(grace=1.0)
        await runtime.close()
