"""Real gateways over LocalRuntime with small limits, and helpers to wait on server state."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import grpc
from grpc import aio

from q2c_core.adapters.store import Store
from q2c_core.app.runtime import LocalRuntime
from q2c_core.edge.app import GatewayServer, start_server
from q2c_core.edge.limits import ServerLimits
from tests import credentials

WAIT_SECONDS = 10.0


@asynccontextmanager
async def serving(
    store: Store, limits: ServerLimits, interceptors: tuple[aio.ServerInterceptor, ...] = ()
) -> AsyncIterator[tuple[GatewayServer, aio.Channel]]:
    """A started gateway with `limits` over `store`, and a channel to it; both closed on exit."""
    runtime = LocalRuntime(store)
    gateway = await start_server(
        runtime, security=credentials.security(store), limits=limits, interceptors=interceptors
    )
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{gateway.port}")
    try:
        yield gateway, channel
    finally:
        await channel.close()
        await gateway.stop(grace=0.5)
        await runtime.close()


async def eventually(condition: Callable[[], bool], what: str) -> None:
    """Wait (yielding to the server on this loop) until `condition` holds; fail after WAIT_SECONDS."""
    give_up = time.monotonic() + WAIT_SECONDS
    while not condition():
        if time.monotonic() > give_up:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.005)


async def first_error(call: Any) -> grpc.aio.AioRpcError:
    """The error a (unary or streaming) call ends with; fails if it ends well."""
    try:
        if hasattr(call, "__aiter__"):
            async for _ in call:
                pass
        else:
            await call
    except grpc.aio.AioRpcError as error:
        return error
    raise AssertionError("the call succeeded")
