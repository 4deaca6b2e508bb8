"""End-to-end fixtures: one real Ray cluster per session, a real gRPC server over Ray shards."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import grpc
import pytest
import pytest_asyncio

from actors.runtime import RayRuntime
from q2c.v1 import (
    audit_pb2_grpc,
    customer_pb2_grpc,
    engagement_pb2_grpc,
    exception_pb2_grpc,
    rate_card_pb2_grpc,
)
from q2c_core.adapters.store import Store
from q2c_core.edge.app import start_server
from tests import credentials


@dataclass
class RayStack:
    """A gRPC server over RayRuntime shards, with stubs for every service."""

    runtime: RayRuntime
    target: str
    engagements: engagement_pb2_grpc.EngagementServiceStub
    customers: customer_pb2_grpc.CustomerServiceStub
    rate_cards: rate_card_pb2_grpc.RateCardServiceStub
    exceptions: exception_pb2_grpc.ExceptionServiceStub
    audit: audit_pb2_grpc.AuditServiceStub
    channel: grpc.aio.Channel

    @classmethod
    def connect(cls, runtime: RayRuntime, target: str) -> RayStack:
        """Stubs for every service over one channel to the server at `target`."""
        channel = grpc.aio.insecure_channel(target)
        return cls(
            runtime=runtime,
            target=target,
            engagements=engagement_pb2_grpc.EngagementServiceStub(channel),
            customers=customer_pb2_grpc.CustomerServiceStub(channel),
            rate_cards=rate_card_pb2_grpc.RateCardServiceStub(channel),
            exceptions=exception_pb2_grpc.ExceptionServiceStub(channel),
            audit=audit_pb2_grpc.AuditServiceStub(channel),
            channel=channel,
        )

    async def close(self) -> None:
        """Close the client channel."""
        await self.channel.close()


@pytest_asyncio.fixture(scope="module")
async def ray_stack(ray_cluster: str, database_url: str) -> AsyncIterator[RayStack]:
    """Two shard actors on the session's Ray, behind a real server on a free port."""
    store = Store.open(database_url)
    runtime = RayRuntime(store, database_url, shards=2, deployment=f"e2e-{uuid.uuid4().hex[:8]}")
    await runtime.wait_ready()
    gateway = await start_server(runtime, "127.0.0.1", 0, security=credentials.security(store))
    stack = RayStack.connect(runtime, f"127.0.0.1:{gateway.port}")
    yield stack
    await stack.close()
    await gateway.stop(0)
    await runtime.close(kill_shards=True)
    store.close()


@pytest.fixture
def tenant_id() -> str:
    """A fresh tenant, so tests sharing a database never see each other's data."""
    return f"t-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def tenant(tenant_id: str) -> list[tuple[str, str]]:
    """A bearer token of the fresh tenant's delivery lead, who books work."""
    return list(credentials.bearer(tenant_id, "e2e-tester"))


@pytest.fixture
def approver(tenant_id: str) -> list[tuple[str, str]]:
    """A bearer token of the fresh tenant's approver (never the one who booked the work)."""
    return list(credentials.bearer(tenant_id, "e2e-approver"))
