"""Real gateways on 127.0.0.1:0 over LocalRuntime, with whatever security a test gives them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from q2c_core.adapters.store import Store
from q2c_core.app.runtime import LocalRuntime
from q2c_core.edge.app import GatewayServer, start_server
from q2c_core.edge.security import GatewaySecurity


@asynccontextmanager
async def serving(store: Store, security: GatewaySecurity) -> AsyncIterator[GatewayServer]:
    """A started gateway over `store`, stopped on exit."""
    runtime = LocalRuntime(store)
    gateway = await start_server(runtime, security=security)
    try:
        yield gateway
    finally:
        await gateway.stop(grace=0.5)
        await runtime.close()
