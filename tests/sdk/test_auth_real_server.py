"""The SDK's credentials against the real gateway: tokens, refusals, TLS and mutual TLS."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from q2c.v1 import customer_pb2
from q2c.v1 import engagement_pb2 as pb
from q2c_core.adapters.store import Store
from q2c_core.app.runtime import LocalRuntime
from q2c_core.edge.app import start_server
from q2c_core.edge.auth.devkey import create_dev_key
from q2c_core.edge.security import TlsFiles, security_from_dev_key
from q2c_sdk import (
    CredentialsMissingError,
    Q2cClient,
    ScopeMissingError,
    SelfApprovalError,
    TenantMismatchError,
    TokenSignatureInvalidError,
    UnavailableError,
)
from tests import credentials
from tests.conftest_db import new_tenant_id
from tests.sdk import flows
from tests.sdk.conftest import RealServer
from tests.tls_certs import PkiFiles, make_pki

LOCAL_ONLY = pytest.mark.parametrize("real_server", ["local"], indirect=True)


def _list(client: Q2cClient) -> customer_pb2.ListCustomersResponse:
    return client.list_customers(customer_pb2.ListCustomersRequest())


def _create(client: Q2cClient) -> customer_pb2.Customer:
    customer = customer_pb2.Customer(display_name="Initech", billing_currency="USD")
    return client.create_customer(customer_pb2.CreateCustomerRequest(customer=customer))


@LOCAL_ONLY
async def test_a_call_without_a_token_is_refused_as_credentials_missing(real_server: RealServer) -> None:
    with Q2cClient(real_server.target, deadline=10.0) as anonymous, pytest.raises(CredentialsMissingError):
        await asyncio.to_thread(_list, anonymous)


@LOCAL_ONLY
async def test_a_token_from_an_untrusted_key_is_refused(real_server: RealServer, tmp_path: Path) -> None:
    forged = create_dev_key(tmp_path / "other").mint(new_tenant_id(), "mallory")
    with Q2cClient(real_server.target, token=forged) as client, pytest.raises(TokenSignatureInvalidError):
        await asyncio.to_thread(_list, client)


@LOCAL_ONLY
async def test_a_tenant_hint_that_disagrees_with_the_token_is_refused(real_server: RealServer) -> None:
    token = credentials.token(new_tenant_id())
    client = Q2cClient(real_server.target, token=token, tenant_id="someone-else")
    with client, pytest.raises(TenantMismatchError):
        await asyncio.to_thread(_list, client)


@LOCAL_ONLY
async def test_a_read_only_token_may_read_but_not_write(real_server: RealServer) -> None:
    token = credentials.token(new_tenant_id(), "reader", ("customers:read",))
    with Q2cClient(real_server.target, token=token) as reader:
        await asyncio.to_thread(_list, reader)
        with pytest.raises(ScopeMissingError) as refused:
            await asyncio.to_thread(_create, reader)
    assert refused.value.scope == "customers:write"


# -- TLS ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> PkiFiles:
    """A CA, a server certificate for 127.0.0.1 and a client certificate."""
    return make_pki(tmp_path_factory.mktemp("pki"))


async def _tls_server(database_url: str, tls: TlsFiles) -> AsyncIterator[str]:
    store = Store.open(database_url)
    runtime = LocalRuntime(store)
    gateway = await start_server(runtime, security=security_from_dev_key(credentials.dev_key(), store, tls))
    try:
        yield f"127.0.0.1:{gateway.port}"
    finally:
        await gateway.stop(grace=1.0)
        await runtime.close()
        store.close()


@pytest.fixture(scope="module")
async def tls_target(database_url: str, pki: PkiFiles) -> AsyncIterator[str]:
    """A gateway speaking TLS (server certificate only)."""
    async for target in _tls_server(database_url, TlsFiles(pki.server_cert, pki.server_key)):
        yield target


@pytest.fixture(scope="module")
async def mtls_target(database_url: str, pki: PkiFiles) -> AsyncIterator[str]:
    """A gateway requiring a client certificate signed by the test CA."""
    async for target in _tls_server(database_url, TlsFiles(pki.server_cert, pki.server_key, pki.ca_cert)):
        yield target


async def test_the_sdk_calls_a_tls_server_verified_by_its_ca(tls_target: str, pki: PkiFiles) -> None:
    token = credentials.token(new_tenant_id())
    with Q2cClient(tls_target, token=token, tls_ca_file=pki.ca_cert) as client:
        await asyncio.to_thread(_create, client)
        assert len((await asyncio.to_thread(_list, client)).customers) == 1
    with Q2cClient(tls_target, token=token, root_certificates=pki.ca_cert.read_bytes()) as client:
        await asyncio.to_thread(_list, client)


async def test_a_plaintext_client_cannot_reach_a_tls_server(tls_target: str) -> None:
    plaintext = Q2cClient(tls_target, token=credentials.token(new_tenant_id()), deadline=3.0)
    with plaintext, pytest.raises(UnavailableError):
        await asyncio.to_thread(_list, plaintext)


async def test_mutual_tls_needs_the_client_certificate(mtls_target: str, pki: PkiFiles) -> None:
    token = credentials.token(new_tenant_id())
    client = Q2cClient(
        mtls_target,
        token=token,
        tls_ca_file=pki.ca_cert,
        tls_cert_file=pki.client_cert,
        tls_key_file=pki.client_key,
    )
    with client:
        await asyncio.to_thread(_list, client)
    without_cert = Q2cClient(mtls_target, token=token, tls_ca_file=pki.ca_cert, deadline=3.0)
    with without_cert, pytest.raises(UnavailableError):
        await asyncio.to_thread(_list, without_cert)


def _approve_own_time(q2c: Q2cClient) -> None:
    eid = flows.active_engagement(q2c).engagement_id
    q2c.submit_time_entries(pb.SubmitTimeEntriesRequest(engagement_id=eid, entries=flows.time_entries("T1")))
    with pytest.raises(SelfApprovalError) as refused:
        q2c.approve_time_entries(pb.ApproveTimeEntriesRequest(engagement_id=eid, entry_ids=["T1"]))
    assert refused.value.metadata["ids"] == "T1"


@LOCAL_ONLY
async def test_approving_ones_own_time_is_a_typed_self_approval_error(real_server: RealServer) -> None:
    with Q2cClient(real_server.target, token=credentials.token(new_tenant_id())) as client:
        await asyncio.to_thread(_approve_own_time, client)
