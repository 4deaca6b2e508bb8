"""TLS, mutual TLS wired from settings, and certificate rotation, against real servers."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
from cryptography import x509

from q2c.v1 import customer_pb2, customer_pb2_grpc, engagement_pb2_grpc
from q2c.v1 import engagement_pb2 as pb
from q2c_core.adapters.store import Store
from q2c_core.edge.app import GatewayServer
from q2c_core.edge.security import TlsFiles, security_from_dev_key, security_from_settings
from tests import credentials
from tests.conftest_db import new_tenant_id
from tests.security import tokens
from tests.security.configuration import settings
from tests.security.pki import Authority, pem, serial_of, serial_of_file
from tests.security.probes import correlation_id, refusal, security_event
from tests.security.servers import serving
from tests.service.client import customer, rid
from tests.tls_certs import PkiFiles, make_pki

DEFAULT_SCOPES = "customers:read customers:write"
ROBOT = "spiffe://q2c.test/workload/robot"
LEDGER = "spiffe://q2c.test/workload/ledger-sync"
TIMEOUT = 10.0


@dataclass(frozen=True)
class Pki:
    """The shared helper's PKI for one SPIFFE tenant, plus a second CA's clients."""

    files: PkiFiles
    tenant_id: str
    client_ca_bundle: Path
    unmapped: tuple[Path, Path]
    mapped: tuple[Path, Path]
    mapped_tenant: str
    identity_map: Path


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    """A CA, server and SPIFFE client (make_pki); a second client CA issuing two non-SPIFFE clients."""
    directory = tmp_path_factory.mktemp("pki")
    tenant_id = new_tenant_id()
    files = make_pki(directory, tenant_id=tenant_id, principal="alice")
    extra = Authority.create()
    unmapped = extra.client([x509.UniformResourceIdentifier(ROBOT)], directory, "robot")
    mapped = extra.client([x509.UniformResourceIdentifier(LEDGER)], directory, "ledger")
    bundle = directory / "client-cas.pem"
    bundle.write_bytes(files.ca_cert.read_bytes() + pem(extra.certificate))
    mapped_tenant = new_tenant_id()
    identity_map = directory / "identities.json"
    entry = {"tenant": mapped_tenant, "principal": "ledger-sync", "scopes": ["customers:read"]}
    identity_map.write_text(json.dumps({LEDGER: entry}))
    return Pki(files, tenant_id, bundle, unmapped, mapped, mapped_tenant, identity_map)


@pytest.fixture(scope="module")
async def tls_gateway(store: Store, pki: Pki) -> AsyncIterator[GatewayServer]:
    """TLS with the server certificate; tokens from the development key."""
    files = TlsFiles(pki.files.server_cert, pki.files.server_key)
    async with serving(store, security_from_dev_key(credentials.dev_key(), store, files)) as gateway:
        yield gateway


@pytest.fixture(scope="module")
async def mtls_gateway(store: Store, pki: Pki) -> AsyncIterator[GatewayServer]:
    """Mutual TLS configured as `q2c serve` would be: client certificates are the only way in."""
    configured = settings(
        tls_cert_file=pki.files.server_cert,
        tls_key_file=pki.files.server_key,
        tls_client_ca_file=pki.client_ca_bundle,
        mtls_identity_map_file=pki.identity_map,
        mtls_default_scopes=DEFAULT_SCOPES,
    )
    async with serving(store, security_from_settings(configured, store)) as gateway:
        yield gateway


def _credentials(pki: Pki, client: tuple[Path, Path] | None = None) -> grpc.ChannelCredentials:
    key, chain = (client[1].read_bytes(), client[0].read_bytes()) if client else (None, None)
    return grpc.ssl_channel_credentials(pki.files.ca_cert.read_bytes(), key, chain)


async def _list_customers(
    port: int, channel_credentials: grpc.ChannelCredentials | None, metadata: tokens.Metadata = ()
) -> customer_pb2.ListCustomersResponse:
    target = f"127.0.0.1:{port}"
    if channel_credentials is None:
        channel = grpc.aio.insecure_channel(target)
    else:
        channel = grpc.aio.secure_channel(target, channel_credentials)
    async with channel:
        stub = customer_pb2_grpc.CustomerServiceStub(channel)
        reply: customer_pb2.ListCustomersResponse = await stub.ListCustomers(
            customer_pb2.ListCustomersRequest(), metadata=metadata, timeout=TIMEOUT
        )
        return reply


async def _code_of(call: object) -> grpc.StatusCode:
    with pytest.raises(grpc.aio.AioRpcError) as failed:
        await call  # type: ignore[misc]
    return failed.value.code()


# -- TLS ------------------------------------------------------------------------------------------


async def test_a_client_trusting_the_ca_with_a_token_is_served_over_tls(
    tls_gateway: GatewayServer, pki: Pki
) -> None:
    reply = await _list_customers(tls_gateway.port, _credentials(pki), credentials.bearer(new_tenant_id()))
    assert list(reply.customers) == []


async def test_tls_still_requires_a_token(tls_gateway: GatewayServer, pki: Pki) -> None:
    code, info = await refusal(_list_customers(tls_gateway.port, _credentials(pki)))
    assert (code, info.reason) == (grpc.StatusCode.UNAUTHENTICATED, "CREDENTIALS_MISSING")


async def test_a_plaintext_client_cannot_talk_to_a_tls_server(tls_gateway: GatewayServer) -> None:
    call = _list_customers(tls_gateway.port, None, credentials.bearer(new_tenant_id()))
    assert await _code_of(call) == grpc.StatusCode.UNAVAILABLE


async def test_a_client_trusting_another_ca_refuses_the_server(
    tls_gateway: GatewayServer, tmp_path: Path
) -> None:
    stranger = make_pki(tmp_path)
    channel_credentials = grpc.ssl_channel_credentials(stranger.ca_cert.read_bytes())
    call = _list_customers(tls_gateway.port, channel_credentials, credentials.bearer(new_tenant_id()))
    assert await _code_of(call) == grpc.StatusCode.UNAVAILABLE


# -- mutual TLS -----------------------------------------------------------------------------------


async def test_a_spiffe_client_certificate_alone_authenticates_its_tenant_and_principal(
    mtls_gateway: GatewayServer, pki: Pki, store: Store
) -> None:
    target = f"127.0.0.1:{mtls_gateway.port}"
    async with grpc.aio.secure_channel(
        target, _credentials(pki, (pki.files.client_cert, pki.files.client_key))
    ) as ch:
        request = customer_pb2.CreateCustomerRequest(request_id=rid(), customer=customer())
        created = await customer_pb2_grpc.CustomerServiceStub(ch).CreateCustomer(request, timeout=TIMEOUT)
        assert store.get_customer(pki.tenant_id, created.customer_id) is not None
        correlation = correlation_id()
        # the default scopes stop at customers: the refusal shows who the certificate proved
        call = engagement_pb2_grpc.EngagementServiceStub(ch).ListEngagements(
            pb.ListEngagementsRequest(), metadata=(("x-correlation-id", correlation),), timeout=TIMEOUT
        )
        code, info = await refusal(call)
    assert (code, info.reason, info.metadata["scope"]) == (
        grpc.StatusCode.PERMISSION_DENIED,
        "SCOPE_MISSING",
        "engagements:read",
    )
    event = security_event(store, pki.tenant_id, correlation)
    assert (event.principal, event.reason) == ("alice", "SCOPE_MISSING")


async def test_a_mapped_certificate_gets_the_tenant_principal_and_scopes_of_the_map(
    mtls_gateway: GatewayServer, pki: Pki, store: Store
) -> None:
    target = f"127.0.0.1:{mtls_gateway.port}"
    async with grpc.aio.secure_channel(target, _credentials(pki, pki.mapped)) as ch:
        customers = customer_pb2_grpc.CustomerServiceStub(ch)
        await customers.ListCustomers(customer_pb2.ListCustomersRequest(), timeout=TIMEOUT)
        correlation = correlation_id()
        request = customer_pb2.CreateCustomerRequest(request_id=rid(), customer=customer())
        code, info = await refusal(
            customers.CreateCustomer(request, metadata=(("x-correlation-id", correlation),), timeout=TIMEOUT)
        )
    assert (code, info.reason, info.metadata["scope"]) == (
        grpc.StatusCode.PERMISSION_DENIED,
        "SCOPE_MISSING",
        "customers:write",
    )
    event = security_event(store, pki.mapped_tenant, correlation)
    assert event.principal == "ledger-sync"


async def test_a_trusted_certificate_that_names_nobody_is_unmapped(
    mtls_gateway: GatewayServer, pki: Pki, store: Store
) -> None:
    correlation = correlation_id()
    target = f"127.0.0.1:{mtls_gateway.port}"
    async with grpc.aio.secure_channel(target, _credentials(pki, pki.unmapped)) as ch:
        call = customer_pb2_grpc.CustomerServiceStub(ch).ListCustomers(
            customer_pb2.ListCustomersRequest(),
            metadata=(("x-correlation-id", correlation),),
            timeout=TIMEOUT,
        )
        code, info = await refusal(call)
    assert (code, info.reason) == (grpc.StatusCode.UNAUTHENTICATED, "CERTIFICATE_UNMAPPED")
    assert info.metadata["subject_alternative_names"] == ROBOT
    assert security_event(store, "", correlation).reason == "CERTIFICATE_UNMAPPED"


async def test_without_a_client_certificate_the_handshake_fails(
    mtls_gateway: GatewayServer, pki: Pki
) -> None:
    call = _list_customers(mtls_gateway.port, _credentials(pki), credentials.bearer(new_tenant_id()))
    assert await _code_of(call) == grpc.StatusCode.UNAVAILABLE


async def test_a_client_certificate_from_an_untrusted_ca_fails_the_handshake(
    mtls_gateway: GatewayServer, pki: Pki, tmp_path: Path
) -> None:
    stranger = make_pki(tmp_path, tenant_id=pki.tenant_id)
    call = _list_customers(mtls_gateway.port, _credentials(pki, (stranger.client_cert, stranger.client_key)))
    assert await _code_of(call) == grpc.StatusCode.UNAVAILABLE


async def test_a_certificate_only_server_refuses_bearer_tokens(mtls_gateway: GatewayServer, pki: Pki) -> None:
    client = (pki.files.client_cert, pki.files.client_key)
    call = _list_customers(mtls_gateway.port, _credentials(pki, client), credentials.bearer(pki.tenant_id))
    code, info = await refusal(call)
    assert (code, info.reason) == (grpc.StatusCode.UNAUTHENTICATED, "TOKEN_INVALID")


# -- rotation -------------------------------------------------------------------------------------


def _peer_serial(port: int, ca_file: Path) -> int:
    """Handshake with the server (verifying it against `ca_file`) and read its certificate."""
    context = ssl.create_default_context(cafile=str(ca_file))
    context.set_alpn_protocols(["h2"])
    with (
        socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as raw,
        context.wrap_socket(raw, server_hostname="localhost") as tls,
    ):
        der = tls.getpeercert(binary_form=True)
    assert der is not None
    return serial_of(der)


def _replace(target: Path, source: Path) -> None:
    """Overwrite `target` with `source`, its modification time moved on as a later deploy's would be."""
    before = target.stat().st_mtime_ns
    shutil.copyfile(source, target)
    os.utime(target, ns=(before + 2_000_000_000, before + 2_000_000_000))


async def test_a_new_connection_sees_a_certificate_replaced_on_disk(store: Store, tmp_path: Path) -> None:
    old, new = make_pki(tmp_path / "old"), make_pki(tmp_path / "new")
    live = tmp_path / "live"
    live.mkdir()
    cert, key = live / "server.pem", live / "server-key.pem"
    shutil.copyfile(old.server_cert, cert)
    shutil.copyfile(old.server_key, key)
    async with serving(store, security_from_dev_key(credentials.dev_key(), store, TlsFiles(cert, key))) as gw:
        assert await asyncio.to_thread(_peer_serial, gw.port, old.ca_cert) == serial_of_file(old.server_cert)
        _replace(key, new.server_key)
        _replace(cert, new.server_cert)
        assert await asyncio.to_thread(_peer_serial, gw.port, new.ca_cert) == serial_of_file(new.server_cert)
        channel_credentials = grpc.ssl_channel_credentials(new.ca_cert.read_bytes())
        reply = await _list_customers(gw.port, channel_credentials, credentials.bearer(new_tenant_id()))
        assert list(reply.customers) == []
