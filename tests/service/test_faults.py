"""Faults a healthy store cannot produce: unexpected errors, an unavailable backend, shutdown."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from q2c.v1 import engagement_pb2 as pb
from q2c_core.app.messages import CommandEnvelope, CommandResult
from q2c_core.app.runtime import RuntimeServices
from q2c_core.domain.errors import UnavailableError
from q2c_core.edge.app import GatewayServer, start_server
from tests import credentials
from tests.service.client import Api, Stubs, error_info, rich_error, rid


class RecordedRejections:
    """Collects the rejected attempts the gateway audits."""

    def __init__(self) -> None:
        self.attempts: list[Any] = []

    def record(self, caller: Any, attempt: Any) -> None:
        """Remember the attempt."""
        self.attempts.append(attempt)


class FaultyRuntime(RuntimeServices):
    """A runtime whose execute fails the way the test asks (RuntimeServices.run calls it)."""

    catalog: Any = None
    queries: Any = SimpleNamespace(audit_ledger=lambda signer: None)  # audit is not served here
    deliveries: Any = None

    def __init__(self) -> None:
        self.rejections = RecordedRejections()
        self.fault: BaseException | CommandResult = RuntimeError("secret database password")
        self.executed = 0

    async def execute(self, envelope: CommandEnvelope) -> CommandResult:
        """Raise or return the configured fault."""
        self.executed += 1
        if isinstance(self.fault, BaseException):
            raise self.fault
        return self.fault

    async def healthy(self) -> bool:
        """Always."""
        return True

    async def close(self) -> None:
        """Nothing to release."""


@pytest.fixture
async def faulty() -> AsyncIterator[tuple[FaultyRuntime, GatewayServer, grpc.aio.Channel]]:
    runtime = FaultyRuntime()
    server = await start_server(runtime, security=credentials.security())
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{server.port}")
    try:
        yield runtime, server, channel
    finally:
        await channel.close()
        await server.stop(grace=0)


def _qualify() -> pb.QualifyEngagementRequest:
    return pb.QualifyEngagementRequest(request_id=rid(), engagement_id="e-1")


async def test_unexpected_exception_is_internal_without_leaking_details(faulty: Any) -> None:
    runtime, _, channel = faulty
    api = Api(Stubs.on(channel), tenant_id="t", principal="p")
    code, status = await rich_error(api.engagements.QualifyEngagement(_qualify()))
    assert code == grpc.StatusCode.INTERNAL
    assert "secret" not in status.message and "RuntimeError" not in status.message
    info = error_info(status)
    assert info.reason == "INTERNAL" and "secret" not in str(info.metadata)
    assert runtime.executed == 1


async def test_unavailable_backend_is_unavailable(faulty: Any) -> None:
    runtime, _, channel = faulty
    runtime.fault = CommandResult(error=UnavailableError("BACKEND_UNAVAILABLE", "store down").to_payload())
    api = Api(Stubs.on(channel), tenant_id="t", principal="p")
    code, status = await rich_error(api.engagements.QualifyEngagement(_qualify()))
    assert code == grpc.StatusCode.UNAVAILABLE
    assert error_info(status).reason == "BACKEND_UNAVAILABLE"


async def test_a_call_without_credentials_is_unauthenticated_and_never_runs(faulty: Any) -> None:
    runtime, _, channel = faulty
    stubs = Stubs.on(channel)
    code, status = await rich_error(
        stubs.engagements.QualifyEngagement(_qualify(), metadata=(("x-tenant-id", "t"),), timeout=5)
    )
    assert code == grpc.StatusCode.UNAUTHENTICATED
    assert error_info(status).reason == "CREDENTIALS_MISSING"
    assert runtime.executed == 0


async def test_validation_fails_before_the_runtime_is_called(faulty: Any) -> None:
    runtime, _, channel = faulty
    api = Api(Stubs.on(channel), tenant_id="t", principal="p")
    code, _ = await rich_error(
        api.engagements.QualifyEngagement(pb.QualifyEngagementRequest(request_id="r9"))
    )
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert runtime.executed == 0
    [attempt] = runtime.rejections.attempts
    assert (attempt.command_type, attempt.request_id, attempt.reason) == (
        "QualifyEngagement",
        "r9",
        "VALIDATION_FAILED",
    )


async def test_health_goes_not_serving_when_stop_begins(faulty: Any) -> None:
    _, server, channel = faulty
    watch = health_pb2_grpc.HealthStub(channel).Watch(
        health_pb2.HealthCheckRequest(service="q2c.v1.EngagementService"), timeout=10
    )
    first = await watch.read()
    assert first.status == health_pb2.HealthCheckResponse.SERVING
    stopping = asyncio.create_task(server.stop(grace=2.0))
    second = await watch.read()
    assert second.status == health_pb2.HealthCheckResponse.NOT_SERVING
    await stopping
