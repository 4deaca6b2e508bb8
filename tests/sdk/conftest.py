"""SDK tests: a scripted fake server (grpc_testing) and a real gateway with fault injection."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import pytest

from actors.runtime import RayRuntime
from q2c_core.adapters.store import Store
from q2c_core.app.runtime import LocalRuntime
from q2c_core.edge.app import GatewayServer, start_server
from q2c_sdk import Q2cClient
from tests import credentials
from tests.conftest_db import new_tenant_id
from tests.sdk.fake_server import FakeQ2c
from tests.sdk.faults import ReplyLost


@pytest.fixture
def fake() -> Iterator[FakeQ2c]:
    """A scripted q2c server on grpc_testing.channel, played by the test."""
    server = FakeQ2c()
    try:
        yield server
    finally:
        server.close()


@dataclass
class RealServer:
    """The real gateway (grpc.aio over a real runtime and store) and its fault injector."""

    gateway: GatewayServer
    faults: ReplyLost

    @property
    def target(self) -> str:
        """Where clients connect."""
        return f"127.0.0.1:{self.gateway.port}"


@pytest.fixture(scope="module", params=["local", "ray"])
async def real_server(request: pytest.FixtureRequest, database_url: str) -> AsyncIterator[RealServer]:
    """The gateway over a fresh database, on LocalRuntime or RayRuntime, with `ReplyLost` installed."""
    store = Store.open(database_url)
    runtime: LocalRuntime | RayRuntime
    if request.param == "ray":
        request.getfixturevalue("ray_cluster")
        runtime = RayRuntime(store, database_url, shards=2, deployment=f"sdk-{uuid.uuid4().hex[:8]}")
        await runtime.wait_ready()
    else:
        runtime = LocalRuntime(store)
    faults = ReplyLost()
    gateway = await start_server(runtime, security=credentials.security(store), interceptors=[faults])
    try:
        yield RealServer(gateway, faults)
    finally:
        await gateway.stop(grace=1.0)
        if isinstance(runtime, RayRuntime):
            await runtime.close(kill_shards=True)
        else:
            await runtime.close()
        store.close()


@pytest.fixture
def tenant_id() -> str:
    """A fresh tenant for one test."""
    return new_tenant_id()


@pytest.fixture
def client(real_server: RealServer, tenant_id: str) -> Iterator[Q2cClient]:
    """An SDK client on the real server, carrying a token for the test's tenant (and no hints)."""
    with Q2cClient(real_server.target, token=credentials.token(tenant_id), deadline=20.0) as sdk:
        yield sdk


@pytest.fixture
def approver(real_server: RealServer, tenant_id: str) -> Iterator[Q2cClient]:
    """A second principal of the test's tenant: approves what `client` submitted (separation of duties)."""
    with Q2cClient(real_server.target, token=credentials.token(tenant_id, "bob"), deadline=20.0) as sdk:
        yield sdk
