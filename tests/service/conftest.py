"""A real grpc.aio gateway on 127.0.0.1:0, shared by a module's tests.

Every service test runs twice per database: over LocalRuntime (in-process host) and over
RayRuntime (real shard actors on the session's Ray), so the whole error table and every flow
is checked through both runtimes.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import grpc
import pytest

from actors.runtime import RayRuntime
from q2c_core.adapters.store import Store
from q2c_core.app.runtime import LocalRuntime
from q2c_core.edge.app import GatewayServer, start_server
from tests import credentials
from tests.conftest_db import new_tenant_id
from tests.service.client import Api, Stubs


@pytest.fixture(scope="module", params=["local", "ray"])
async def runtime(
    request: pytest.FixtureRequest, database_url: str
) -> AsyncIterator[LocalRuntime | RayRuntime]:
    """The runtime behind the module's gateway, over a fresh database (one per module and
    backend), either in-process or on Ray shards; in reach for tests that execute envelopes."""
    store = Store.open(database_url)
    rt: LocalRuntime | RayRuntime
    if request.param == "ray":
        request.getfixturevalue("ray_cluster")
        rt = RayRuntime(store, database_url, shards=2, deployment=f"svc-{uuid.uuid4().hex[:8]}")
        await rt.wait_ready()
    else:
        rt = LocalRuntime(store)
    try:
        yield rt
    finally:
        if isinstance(rt, RayRuntime):
            await rt.close(kill_shards=True)
        else:
            await rt.close()
        store.close()


@pytest.fixture(scope="module")
async def server(runtime: LocalRuntime | RayRuntime) -> AsyncIterator[GatewayServer]:
    """The gateway over the module's runtime."""
    gateway = await start_server(runtime, security=credentials.security(runtime.store))
    try:
        yield gateway
    finally:
        await gateway.stop(grace=1.0)


@pytest.fixture(scope="module")
async def channel(server: GatewayServer) -> AsyncIterator[grpc.aio.Channel]:
    """One client channel to the gateway."""
    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as chan:
        yield chan


@pytest.fixture(scope="module")
def stubs(channel: grpc.aio.Channel) -> Stubs:
    """Generated stubs for every q2c.v1 service."""
    return Stubs.on(channel)


@pytest.fixture
def api(stubs: Stubs) -> Api:
    """The stubs bound to a fresh tenant, so tests sharing a database never interfere."""
    return Api(stubs, tenant_id=new_tenant_id(), principal="alice")
