"""Bad credentials never reach a servicer: the right refusal, nothing written, a security event kept."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from grpc_status import rpc_status

from q2c.v1 import customer_pb2, event_pb2, event_pb2_grpc
from q2c_core.adapters.store import Store
from q2c_core.edge.app import SERVICE_NAMES
from q2c_core.edge.auth.devkey import TENANT_CLAIM
from tests import credentials
from tests.conftest_db import new_tenant_id
from tests.security import tokens
from tests.security.probes import correlation_id, refusal, row_counts, security_event, security_events
from tests.service.client import Stubs, customer, error_info, rid

CREATE_CUSTOMER = "/q2c.v1.CustomerService/CreateCustomer"
Credential = Callable[[str], tokens.Metadata]


def _public_key_pem() -> bytes:
    return credentials.dev_key().jwt_public_key_file.read_bytes()


def _without_tenant(tenant_id: str) -> str:
    payload = tokens.claims(tenant_id)
    del payload[TENANT_CLAIM]
    return tokens.signed(payload)


def _minted_by(**changes: str) -> Callable[[str], str]:
    return lambda tenant_id: dataclasses.replace(credentials.dev_key(), **changes).mint(tenant_id, "mallory")


BAD_CREDENTIALS: list[tuple[str, Credential, str]] = [
    ("none", lambda t: (), "CREDENTIALS_MISSING"),
    ("garbage", lambda t: tokens.authorization("Bearer not-a-jwt"), "TOKEN_INVALID"),
    ("bearer-without-token", lambda t: tokens.authorization("Bearer"), "TOKEN_INVALID"),
    ("basic-scheme", lambda t: tokens.authorization("Basic YWxpY2U6czNjcmV0"), "TOKEN_INVALID"),
    (
        "signed-by-another-key",
        lambda t: tokens.bearer(tokens.other_dev_key().mint(t, "mallory")),
        "TOKEN_SIGNATURE_INVALID",
    ),
    ("alg-none", lambda t: tokens.bearer(tokens.unsigned(tokens.claims(t))), "TOKEN_ALGORITHM_REFUSED"),
    (
        "hs256-keyed-with-the-public-key",
        lambda t: tokens.bearer(tokens.hmac_signed(tokens.claims(t), _public_key_pem())),
        "TOKEN_ALGORITHM_REFUSED",
    ),
    (
        "expired",
        lambda t: tokens.bearer(credentials.dev_key().mint(t, "mallory", now=time.time() - 7200)),
        "TOKEN_EXPIRED",
    ),
    (
        "not-yet-valid",
        lambda t: tokens.bearer(credentials.dev_key().mint(t, "mallory", now=time.time() + 600)),
        "TOKEN_NOT_YET_VALID",
    ),
    (
        "wrong-issuer",
        lambda t: tokens.bearer(_minted_by(issuer="https://idp.evil.example")(t)),
        "TOKEN_ISSUER_INVALID",
    ),
    ("wrong-audience", lambda t: tokens.bearer(_minted_by(audience="payroll")(t)), "TOKEN_AUDIENCE_INVALID"),
    ("missing-tenant-claim", lambda t: tokens.bearer(_without_tenant(t)), "TOKEN_CLAIM_MISSING"),
]


def _create_customer() -> customer_pb2.CreateCustomerRequest:
    return customer_pb2.CreateCustomerRequest(request_id=rid(), customer=customer())


@pytest.mark.parametrize(
    ("credential", "reason"),
    [case[1:] for case in BAD_CREDENTIALS],
    ids=[case[0] for case in BAD_CREDENTIALS],
)
async def test_a_write_with_bad_credentials_is_unauthenticated_writes_nothing_and_is_recorded(
    stubs: Stubs, store: Store, credential: Credential, reason: str
) -> None:
    tenant_id, correlation = new_tenant_id(), correlation_id()
    before = row_counts(store)
    code, info = await refusal(
        stubs.customers.CreateCustomer(
            _create_customer(),
            metadata=(*credential(tenant_id), ("x-correlation-id", correlation)),
            timeout=10,
        )
    )
    assert (code, info.reason) == (grpc.StatusCode.UNAUTHENTICATED, reason)
    assert info.metadata["correlation_id"] == correlation
    assert row_counts(store) == before
    event = security_event(store, "", correlation)
    assert (event.method, event.code, event.reason) == (CREATE_CUSTOMER, "UNAUTHENTICATED", reason)
    assert (event.tenant_id, event.principal) == ("", "")
    assert event.peer.startswith("ipv4:127.0.0.1:")


async def test_the_same_write_with_a_valid_token_and_its_scope_succeeds(stubs: Stubs, store: Store) -> None:
    tenant_id, correlation = new_tenant_id(), correlation_id()
    metadata = (
        *credentials.bearer(tenant_id, "alice", ("customers:write",)),
        ("x-correlation-id", correlation),
    )
    created = await stubs.customers.CreateCustomer(_create_customer(), metadata=metadata, timeout=10)
    assert store.get_customer(tenant_id, created.customer_id) is not None
    assert row_counts(store, tenant_id)["customers"] == 1
    assert not [e for e in security_events(store, "") if e.correlation_id == correlation]


async def test_a_stream_without_credentials_is_refused_before_it_starts(
    channel: grpc.aio.Channel, store: Store
) -> None:
    correlation = correlation_id()
    stream = event_pb2_grpc.EventServiceStub(channel).SubscribeEvents(
        event_pb2.SubscribeEventsRequest(), metadata=(("x-correlation-id", correlation),), timeout=10
    )
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        async for _ in stream:
            pass
    status = rpc_status.from_call(refused.value)
    assert status is not None
    assert (refused.value.code(), error_info(status).reason) == (
        grpc.StatusCode.UNAUTHENTICATED,
        "CREDENTIALS_MISSING",
    )
    assert security_event(store, "", correlation).method == "/q2c.v1.EventService/SubscribeEvents"


async def test_health_answers_without_credentials(channel: grpc.aio.Channel) -> None:
    health = health_pb2_grpc.HealthStub(channel)
    for name in ("", *SERVICE_NAMES):
        reply = await health.Check(health_pb2.HealthCheckRequest(service=name), timeout=5)
        assert reply.status == health_pb2.HealthCheckResponse.SERVING


async def test_reflection_lists_the_services_without_credentials(channel: grpc.aio.Channel) -> None:
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)
    request = reflection_pb2.ServerReflectionRequest(list_services="")
    [reply] = [r async for r in stub.ServerReflectionInfo(iter([request]), timeout=5)]
    names = {service.name for service in reply.list_services_response.service}
    assert {*SERVICE_NAMES, "grpc.health.v1.Health"} <= names
