"""A verified caller without the RPC's scope is refused, the scope named, and nothing happens."""

from __future__ import annotations

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from q2c.v1 import customer_pb2, exception_pb2
from q2c.v1 import engagement_pb2 as pb
from q2c_core.adapters.store import Store
from tests import credentials
from tests.conftest_db import new_tenant_id
from tests.security.probes import correlation_id, refusal, row_counts, security_event
from tests.service.client import Api, Stubs, customer, rid

RELEASE = exception_pb2.EXCEPTION_RESOLUTION_RELEASE
WRITE_OFF = exception_pb2.EXCEPTION_RESOLUTION_WRITE_OFF
PLAIN = exception_pb2.EXCEPTION_RESOLUTION_UNSPECIFIED


async def _refused_for_scope(
    stubs: Stubs, store: Store, method: str, call: object, tenant_id: str, correlation: str
) -> str:
    """Assert the call was PERMISSION_DENIED / SCOPE_MISSING and recorded; the scope it named."""
    code, info = await refusal(call)  # type: ignore[arg-type]
    assert (code, info.reason) == (grpc.StatusCode.PERMISSION_DENIED, "SCOPE_MISSING")
    assert (info.metadata["method"], info.metadata["correlation_id"]) == (method, correlation)
    event = security_event(store, tenant_id, correlation)
    assert (event.method, event.code, event.reason) == (method, "PERMISSION_DENIED", "SCOPE_MISSING")
    assert event.principal == "alice"
    assert event.peer.startswith("ipv4:127.0.0.1:")
    return info.metadata["scope"]


def _as(tenant_id: str, *scopes: str, correlation: str = "") -> tuple[tuple[str, str], ...]:
    extra = (("x-correlation-id", correlation),) if correlation else ()
    return (*credentials.bearer(tenant_id, "alice", scopes), *extra)


async def test_a_read_only_token_cannot_create_a_customer(stubs: Stubs, store: Store) -> None:
    tenant_id, correlation = new_tenant_id(), correlation_id()
    before = row_counts(store)
    request = customer_pb2.CreateCustomerRequest(request_id=rid(), customer=customer())
    call = stubs.customers.CreateCustomer(
        request, metadata=_as(tenant_id, "customers:read", correlation=correlation)
    )
    method = "/q2c.v1.CustomerService/CreateCustomer"
    assert await _refused_for_scope(stubs, store, method, call, tenant_id, correlation) == "customers:write"
    assert row_counts(store) == before


async def test_the_read_scope_still_reads(stubs: Stubs) -> None:
    tenant_id = new_tenant_id()
    request = customer_pb2.CreateCustomerRequest(request_id=rid(), customer=customer())
    created = await stubs.customers.CreateCustomer(request, metadata=_as(tenant_id, "customers:write"))
    listed = await stubs.customers.ListCustomers(
        customer_pb2.ListCustomersRequest(), metadata=_as(tenant_id, "customers:read")
    )
    assert [c.customer_id for c in listed.customers] == [created.customer_id]


async def test_approving_time_needs_time_approve_not_engagements_write(stubs: Stubs, store: Store) -> None:
    api = Api(stubs, tenant_id=new_tenant_id(), principal="alice")
    created = await api.customers.CreateCustomer(
        customer_pb2.CreateCustomerRequest(request_id=rid(), customer=customer())
    )
    engagement = await api.engagements.CreateEngagement(
        pb.CreateEngagementRequest(request_id=rid(), customer_id=created.customer_id, display_name="E")
    )
    correlation = correlation_id()
    before = row_counts(store)
    request = pb.ApproveTimeEntriesRequest(
        request_id=rid(), engagement_id=engagement.engagement_id, entry_ids=["T1"]
    )
    metadata = _as(api.tenant_id, "engagements:write", "engagements:read", correlation=correlation)
    call = stubs.engagements.ApproveTimeEntries(request, metadata=metadata)
    method = "/q2c.v1.EngagementService/ApproveTimeEntries"
    assert await _refused_for_scope(stubs, store, method, call, api.tenant_id, correlation) == "time:approve"
    assert row_counts(store) == before


@pytest.mark.parametrize("resolution", [RELEASE, WRITE_OFF], ids=["release", "write-off"])
async def test_releasing_or_writing_off_a_capped_amount_needs_billing_writeoff_too(
    stubs: Stubs, store: Store, resolution: int
) -> None:
    tenant_id, correlation = new_tenant_id(), correlation_id()
    before = row_counts(store)
    request = exception_pb2.ResolveExceptionRequest(
        request_id=rid(), exception_id="x-1", resolution_note="done", resolution=resolution
    )
    metadata = _as(tenant_id, "exceptions:resolve", "exceptions:read", correlation=correlation)
    call = stubs.exceptions.ResolveException(request, metadata=metadata)
    method = "/q2c.v1.ExceptionService/ResolveException"
    assert await _refused_for_scope(stubs, store, method, call, tenant_id, correlation) == "billing:writeoff"
    assert row_counts(store) == before


async def test_every_missing_scope_is_named(stubs: Stubs, store: Store) -> None:
    tenant_id, correlation = new_tenant_id(), correlation_id()
    request = exception_pb2.ResolveExceptionRequest(
        request_id=rid(), exception_id="x-1", resolution_note="done", resolution=WRITE_OFF
    )
    call = stubs.exceptions.ResolveException(
        request, metadata=_as(tenant_id, "customers:read", correlation=correlation)
    )
    method = "/q2c.v1.ExceptionService/ResolveException"
    scope = await _refused_for_scope(stubs, store, method, call, tenant_id, correlation)
    assert scope == "exceptions:resolve billing:writeoff"


@pytest.mark.parametrize(
    ("resolution", "scopes"),
    [
        (PLAIN, ("exceptions:resolve",)),
        (WRITE_OFF, ("exceptions:resolve", "billing:writeoff")),
        (RELEASE, ("admin",)),
    ],
    ids=["plain-with-resolve", "write-off-with-both", "release-with-admin"],
)
async def test_with_the_scopes_resolving_reaches_the_service(
    stubs: Stubs, resolution: int, scopes: tuple[str, ...]
) -> None:
    request = exception_pb2.ResolveExceptionRequest(
        request_id=rid(), exception_id="x-missing", resolution_note="done", resolution=resolution
    )
    code, info = await refusal(
        stubs.exceptions.ResolveException(request, metadata=_as(new_tenant_id(), *scopes))
    )
    # the servicer ran and looked the exception up: authorization let the call through
    assert code == grpc.StatusCode.NOT_FOUND, info


async def test_health_needs_no_scope(channel: grpc.aio.Channel) -> None:
    reply = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
    assert reply.status == health_pb2.HealthCheckResponse.SERVING
