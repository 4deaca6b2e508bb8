"""One plain-text gateway per module and database, trusting the test development key."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import pytest

from q2c_core.gateway.app import GatewayServer
from q2c_core.store import Store
from tests import credentials
from tests.security.servers import serving
from tests.service.client import Stubs


@pytest.fixture(scope="module")
async def gateway(store: Store) -> AsyncIterator[GatewayServer]:
    """The gateway, logging refusals to the module's store."""
    async with serving(store, credentials.security(store)) as server:
        yield server


@pytest.fixture(scope="module")
async def channel(gateway: GatewayServer) -> AsyncIterator[grpc.aio.Channel]:
    """A plain-text client channel to the gateway."""
    async with grpc.aio.insecure_channel(f"127.0.0.1:{gateway.port}") as chan:
        yield chan


@pytest.fixture(scope="module")
def stubs(channel: grpc.aio.Channel) -> Stubs:
    """Generated stubs over the channel, carrying no credentials of their own."""
    return Stubs.on(channel)
