"""Per-tenant and per-principal rate limits on a real gateway (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc import aio

from q2c.v1 import customer_pb2, customer_pb2_grpc
from q2c_core.adapters.store import Store
from q2c_core.edge.app import GatewayServer
from q2c_core.edge.limits import Rate, RateLimits, ServerLimits
from tests import credentials
from tests.conftest_db import new_tenant_id
from tests.limits.conftest import serving
from tests.security.probes import row_counts, security_events
from tests.service.client import customer, error_info, rich_error, rid, unpack

FROZEN = 0.001
"""Tokens per second so slow that no token comes back during a test: budgets are exact."""
LIMITS = ServerLimits(
    rates=RateLimits(
        tenant_mutations=Rate(FROZEN, 6),
        tenant_reads=Rate(FROZEN, 5),
        principal_mutations=Rate(FROZEN, 4),
        principal_reads=Rate(0.0, 0.0),
    )
)


@pytest.fixture(scope="module")
async def gateway(store: Store) -> AsyncIterator[tuple[GatewayServer, aio.Channel]]:
    async with serving(store, LIMITS) as served:
        yield served


@pytest.fixture
def customers(gateway: tuple[GatewayServer, aio.Channel]) -> customer_pb2_grpc.CustomerServiceStub:
    return customer_pb2_grpc.CustomerServiceStub(gateway[1])


def create(
    stub: customer_pb2_grpc.CustomerServiceStub, tenant: str, principal: str, request_id: str | None = None
) -> grpc.aio.UnaryUnaryCall:
    request = customer_pb2.CreateCustomerRequest(request_id=request_id or rid(), customer=customer())
    return stub.CreateCustomer(request, metadata=credentials.bearer(tenant, principal), timeout=20)


async def accepted(stub: customer_pb2_grpc.CustomerServiceStub, tenant: str, principal: str, n: int) -> int:
    """How many of `n` creations in a row went through (stopping at the first refusal)."""
    for done in range(n):
        try:
            await create(stub, tenant, principal)
        except grpc.aio.AioRpcError as error:
            assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
            return done
    return n


async def test_a_burst_over_the_budget_is_refused_with_retry_info_and_writes_nothing(
    customers: customer_pb2_grpc.CustomerServiceStub, store: Store
) -> None:
    tenant = new_tenant_id()
    assert await accepted(customers, tenant, "alice", 4) == 4
    before = row_counts(store, tenant)

    code, status = await rich_error(create(customers, tenant, "alice", request_id="refused-1"))

    assert code == grpc.StatusCode.RESOURCE_EXHAUSTED
    info = error_info(status)
    assert info.reason == "RATE_LIMITED"
    assert info.metadata["scope"] == "principal" and info.metadata["kind"] == "mutation"
    retry_after_ms = int(info.metadata["retry_after_ms"])
    assert retry_after_ms > 1000  # a frozen bucket: a token is minutes away
    [retry] = unpack(status, error_details_pb2.RetryInfo)
    assert retry.retry_delay.ToMilliseconds() == retry_after_ms
    assert row_counts(store, tenant) == before  # no customer, audit, idempotency or event row
    assert security_events(store, tenant) == []  # throttling is not a security event


async def test_another_principal_has_its_own_bucket_but_shares_the_tenants(
    customers: customer_pb2_grpc.CustomerServiceStub,
) -> None:
    tenant = new_tenant_id()
    assert await accepted(customers, tenant, "alice", 10) == 4  # alice's own budget
    assert await accepted(customers, tenant, "bob", 10) == 2  # what is left of the tenant's 6
    code, status = await rich_error(create(customers, tenant, "carol"))
    assert code == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert error_info(status).metadata["scope"] == "tenant"


async def test_another_tenant_is_unaffected(customers: customer_pb2_grpc.CustomerServiceStub) -> None:
    noisy, quiet = new_tenant_id(), new_tenant_id()
    assert await accepted(customers, noisy, "alice", 10) == 4
    assert await accepted(customers, noisy, "bob", 10) == 2
    assert await accepted(customers, quiet, "alice", 4) == 4


async def test_reads_have_their_own_budget(customers: customer_pb2_grpc.CustomerServiceStub) -> None:
    tenant = new_tenant_id()
    created = await create(customers, tenant, "alice")
    await accepted(customers, tenant, "alice", 10)  # the mutation budget is spent
    get = customer_pb2.GetCustomerRequest(customer_id=created.customer_id)
    for _ in range(5):
        await customers.GetCustomer(get, metadata=credentials.bearer(tenant), timeout=20)
    code, status = await rich_error(
        customers.GetCustomer(get, metadata=credentials.bearer(tenant), timeout=20)
    )
    assert code == grpc.StatusCode.RESOURCE_EXHAUSTED
    info = error_info(status)
    assert (info.reason, info.metadata["scope"], info.metadata["kind"]) == ("RATE_LIMITED", "tenant", "read")


async def test_calls_refused_for_credentials_spend_no_budget(
    customers: customer_pb2_grpc.CustomerServiceStub,
) -> None:
    tenant = new_tenant_id()
    request = customer_pb2.CreateCustomerRequest(request_id=rid(), customer=customer())
    for _ in range(10):
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await customers.CreateCustomer(
                request, metadata=(("authorization", "Bearer nonsense"),), timeout=20
            )
        assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert await accepted(customers, tenant, "alice", 4) == 4
