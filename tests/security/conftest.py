"""One gateway per module, database and transport (plain text and TLS), trusting the test
development key: every refusal is checked over both, as clients meet it in production."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import pytest

from q2c_core.adapters.store import Store
from q2c_core.edge.app import GatewayServer
from q2c_core.edge.security import TlsFiles, security_from_dev_key
from tests import credentials
from tests.security.servers import serving
from tests.service.client import Stubs
from tests.tls_certs import PkiFiles, make_pki


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> PkiFiles:
    """A throwaway CA and server certificate for the TLS variant."""
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module", params=["plaintext", "tls"])
def transport(request: pytest.FixtureRequest) -> str:
    """How clients reach the gateway."""
    return str(request.param)


@pytest.fixture(scope="module")
async def gateway(store: Store, transport: str, pki: PkiFiles) -> AsyncIterator[GatewayServer]:
    """The gateway, logging refusals to the module's store."""
    tls = TlsFiles(pki.server_cert, pki.server_key) if transport == "tls" else None
    async with serving(store, security_from_dev_key(credentials.dev_key(), store, tls)) as server:
        yield server


@pytest.fixture(scope="module")
async def channel(gateway: GatewayServer, transport: str, pki: PkiFiles) -> AsyncIterator[grpc.aio.Channel]:
    """A client channel to the gateway, over TLS when the gateway speaks it."""
    target = f"127.0.0.1:{gateway.port}"
    if transport == "tls":
        trusted = grpc.ssl_channel_credentials(root_certificates=pki.ca_cert.read_bytes())
        channel = grpc.aio.secure_channel(target, trusted)
    else:
        channel = grpc.aio.insecure_channel(target)
    async with channel as chan:
        yield chan


@pytest.fixture(scope="module")
def stubs(channel: grpc.aio.Channel) -> Stubs:
    """Generated stubs over the channel, carrying no credentials of their own."""
    return Stubs.on(channel)
