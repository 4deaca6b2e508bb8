"""A real gateway over LocalRuntime (fast: no Ray) on a fresh database per module and backend."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import pytest

from q2c_core.adapters.store import Store
from q2c_core.app.runtime import LocalRuntime
from q2c_core.edge.app import GatewayServer, start_server
from tests import credentials


@pytest.fixture(scope="module")
async def server(database_url: str) -> AsyncIterator[GatewayServer]:
    """The gateway over LocalRuntime, trusting the test development key."""
    store = Store.open(database_url)
    runtime = LocalRuntime(store)
    gateway = await start_server(runtime, security=credentials.security(store))
    try:
        yield gateway
    finally:
        await gateway.stop(grace=1.0)
        await runtime.close()
        store.close()


@pytest.fixture(scope="module")
async def channel(server: GatewayServer) -> AsyncIterator[grpc.aio.Channel]:
    """One client channel to the gateway."""
    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as chan:
        yield chan
