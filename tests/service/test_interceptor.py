"""The interceptor's pre-dispatch rules, driven with a stand-in servicer context."""

from __future__ import annotations

from typing import Any

import grpc
import pytest
from grpc import aio

from q2c.v1 import engagement_pb2
from q2c_core.domain.errors import NotFoundError
from q2c_core.edge.context import current_caller
from q2c_core.edge.interceptors import CallContextInterceptor
from tests import credentials

METHOD = "/q2c.v1.EngagementService/GetEngagement"
REQUEST = engagement_pb2.GetEngagementRequest(engagement_id="e-1")


def interceptor() -> CallContextInterceptor:
    """The interceptor trusting the test development key."""
    return CallContextInterceptor(credentials.security().authenticator)


class StandInContext:
    """Just enough of grpc.aio.ServicerContext for the interceptor."""

    def __init__(self, remaining: float | None, metadata: tuple[tuple[str, str], ...] = ()) -> None:
        self.remaining = remaining
        self.metadata = metadata
        self.sent: tuple[tuple[str, str], ...] = ()
        self.trailing: tuple[tuple[str, str], ...] = ()
        self.aborted: grpc.Status | None = None

    def invocation_metadata(self) -> tuple[tuple[str, str], ...]:
        return self.metadata

    def auth_context(self) -> dict[str, list[bytes]]:
        return {}

    def peer(self) -> str:
        return "ipv4:127.0.0.1:1"

    async def send_initial_metadata(self, metadata: tuple[tuple[str, str], ...]) -> None:
        self.sent = metadata

    def set_trailing_metadata(self, metadata: tuple[tuple[str, str], ...]) -> None:
        self.trailing = metadata

    def time_remaining(self) -> float | None:
        return self.remaining

    async def abort_with_status(self, status: grpc.Status) -> None:
        self.aborted = status
        raise aio.AbortError()


async def test_call_whose_deadline_has_passed_is_refused_without_running() -> None:
    ran: list[Any] = []

    async def behaviour(request: Any, context: Any) -> str:
        ran.append(request)
        return "ran"

    wrapped = interceptor()._wrap_unary(behaviour, METHOD)
    context = StandInContext(remaining=0.001)
    with pytest.raises(aio.AbortError):
        await wrapped(REQUEST, context)
    assert ran == []
    assert context.aborted is not None and context.aborted.code == grpc.StatusCode.DEADLINE_EXCEEDED


async def test_caller_and_correlation_id_reach_the_servicer() -> None:
    async def behaviour(request: Any, context: Any) -> Any:
        return current_caller()

    wrapped = interceptor()._wrap_unary(behaviour, METHOD)
    metadata = (*credentials.bearer("t1", "ann"), ("x-correlation-id", "c1"))
    context = StandInContext(remaining=None, metadata=metadata)
    caller = await wrapped(REQUEST, context)
    assert (caller.tenant_id, caller.principal, caller.correlation_id) == ("t1", "ann", "c1")
    # a unary call echoes it with its reply (trailing metadata), no headers frame of its own
    assert (context.trailing, context.sent) == ((("x-correlation-id", "c1"),), ())


async def test_q2c_error_is_aborted_through_the_table() -> None:
    async def behaviour(request: Any, context: Any) -> Any:
        raise NotFoundError("engagement", "e-9")

    wrapped = interceptor()._wrap_unary(behaviour, METHOD)
    context = StandInContext(remaining=5.0, metadata=credentials.bearer("t1"))
    with pytest.raises(aio.AbortError):
        await wrapped(REQUEST, context)
    assert context.aborted is not None and context.aborted.code == grpc.StatusCode.NOT_FOUND
