"""`q2c serve` security settings: no way in is refused at start; `--auth none` is loud about it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from q2c.v1 import customer_pb2, customer_pb2_grpc
from q2c_core.adapters.store import Store
from q2c_core.edge.app import AUTH_DISABLED_HEALTH_NAME, GatewayServer
from q2c_core.edge.auth.authenticator import Authenticator, TrustingAuthenticator
from q2c_core.edge.security import GatewaySecurity, SecuritySettingsError, security_from_settings
from tests import credentials
from tests.conftest_db import new_tenant_id
from tests.security.configuration import settings
from tests.security.servers import serving


def test_auth_required_with_no_way_in_refuses_to_start() -> None:
    with pytest.raises(SecuritySettingsError, match="authentication is required"):
        security_from_settings(settings(), None)


def test_tls_alone_is_no_way_in(tmp_path: Path) -> None:
    with pytest.raises(SecuritySettingsError, match="authentication is required"):
        security_from_settings(
            settings(tls_cert_file=tmp_path / "c.pem", tls_key_file=tmp_path / "k.pem"), None
        )


@pytest.mark.parametrize(
    "values",
    [
        {"tls_client_ca_file": Path("ca.pem")},
        {"tls_cert_file": Path("cert.pem"), "tls_client_ca_file": Path("ca.pem")},
        {"tls_key_file": Path("key.pem")},
        {"jwt_public_key_file": Path("key.pem")},
        {"jwt_jwks": "https://idp.example/jwks.json"},
    ],
    ids=[
        "client-ca-without-cert",
        "cert-without-key",
        "key-without-cert",
        "key-without-issuer",
        "jwks-no-issuer",
    ],
)
def test_half_a_configuration_refuses_to_start(values: dict[str, Any]) -> None:
    with pytest.raises(SecuritySettingsError):
        security_from_settings(settings(**values), None)


@pytest.mark.parametrize(
    "values",
    [
        {"jwt_public_key_file": Path("/nonexistent/key.pem"), "jwt_issuer": "https://idp.example"},
        {"jwt_jwks": "/nonexistent/jwks.json", "jwt_issuer": "https://idp.example"},
        {"dev_key_dir": credentials.dev_key().directory, "audit_signing_key_file": Path("/nonexistent/k")},
    ],
    ids=["missing-public-key", "missing-jwks-file", "missing-audit-key"],
)
def test_unreadable_key_files_refuse_to_start_naming_the_file(values: dict[str, Any]) -> None:
    with pytest.raises(SecuritySettingsError, match="/nonexistent/"):
        security_from_settings(settings(**values), None)


def test_a_dev_key_directory_trusts_its_tokens() -> None:
    security = security_from_settings(settings(dev_key_dir=credentials.dev_key().directory), None)
    assert isinstance(security.authenticator, Authenticator)
    identity = security.authenticator.authenticate(
        dict(credentials.bearer("acme", "alice", ("customers:read",))), None
    )
    assert (identity.tenant_id, identity.principal, identity.scopes) == ("acme", "alice", {"customers:read"})


def test_auth_none_trusts_everyone_by_name_only() -> None:
    security = security_from_settings(settings(auth="none"), None)
    assert isinstance(security.authenticator, TrustingAuthenticator)
    assert security.authenticator.enabled is False


async def _health(gateway: GatewayServer, service: str) -> int:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{gateway.port}") as channel:
        reply = await health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service=service), timeout=5
        )
        status: int = reply.status
        return status


@pytest.fixture(scope="module")
async def open_gateway(store: Store) -> AsyncIterator[GatewayServer]:
    """A gateway started with --auth none."""
    async with serving(store, security_from_settings(settings(auth="none"), store)) as gateway:
        yield gateway


@pytest.fixture(scope="module")
async def closed_gateway(store: Store) -> AsyncIterator[GatewayServer]:
    """A gateway started with a development key."""
    security: GatewaySecurity = security_from_settings(
        settings(dev_key_dir=credentials.dev_key().directory), store
    )
    async with serving(store, security) as gateway:
        yield gateway


async def test_health_flags_a_server_running_without_authentication(open_gateway: GatewayServer) -> None:
    assert await _health(open_gateway, AUTH_DISABLED_HEALTH_NAME) == health_pb2.HealthCheckResponse.SERVING


async def test_health_does_not_know_the_flag_on_an_authenticating_server(
    closed_gateway: GatewayServer,
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as unknown:
        await _health(closed_gateway, AUTH_DISABLED_HEALTH_NAME)
    assert unknown.value.code() == grpc.StatusCode.NOT_FOUND
    assert await _health(closed_gateway, "") == health_pb2.HealthCheckResponse.SERVING


async def test_without_authentication_the_named_tenant_is_trusted(open_gateway: GatewayServer) -> None:
    tenant_id = new_tenant_id()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{open_gateway.port}") as channel:
        stub = customer_pb2_grpc.CustomerServiceStub(channel)
        listed = await stub.ListCustomers(
            customer_pb2.ListCustomersRequest(), metadata=(("x-tenant-id", tenant_id),), timeout=5
        )
    assert list(listed.customers) == []


async def test_an_authenticating_server_from_settings_refuses_a_call_without_a_token(
    closed_gateway: GatewayServer,
) -> None:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{closed_gateway.port}") as channel:
        stub = customer_pb2_grpc.CustomerServiceStub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await stub.ListCustomers(customer_pb2.ListCustomersRequest(), timeout=5)
        assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
        await stub.ListCustomers(
            customer_pb2.ListCustomersRequest(), metadata=credentials.bearer(new_tenant_id()), timeout=5
        )
