"""A JWKS fetched from an identity provider never stalls the gateway's event loop.

Verifying a token against a JWKS URL may have to fetch the key set (none yet, the set is due, or
the token names a kid the set lacks): the gateway then verifies in a worker thread, so a slow
identity provider holds up only the calls that need it. Here the provider answers only when the
test lets it, and the gateway must answer a health check in the meantime.
"""

from __future__ import annotations

import asyncio
import http.server
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import grpc
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from grpc_health.v1 import health_pb2, health_pb2_grpc
from jwt.algorithms import RSAAlgorithm

from q2c.v1 import customer_pb2, customer_pb2_grpc
from q2c_core.adapters.store import Store
from q2c_core.edge.auth.authenticator import Authenticator
from q2c_core.edge.auth.jwt_verifier import JwtVerifier
from q2c_core.edge.security import GatewaySecurity
from tests.security.servers import serving

ISSUER, AUDIENCE = "https://idp.example", "q2c"
WAIT = 10.0


class SlowProvider:
    """A JWKS on 127.0.0.1 whose answers wait for `release` (set it to answer at once)."""

    def __init__(self, key: rsa.RSAPrivateKey) -> None:
        public = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
        public.update(kid="k1", use="sig", alg="RS256")
        self.body = json.dumps({"keys": [public]}).encode()
        self.asked = threading.Event()
        self.release = threading.Event()
        self.fetches = 0
        provider = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                provider.fetches += 1
                provider.asked.set()
                provider.release.wait(WAIT)
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(provider.body)))
                self.end_headers()
                self.wfile.write(provider.body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/jwks.json"


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def provider(key: rsa.RSAPrivateKey) -> Iterator[SlowProvider]:
    slow = SlowProvider(key)
    thread = threading.Thread(target=slow.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield slow
    finally:
        slow.release.set()
        slow.server.shutdown()
        slow.server.server_close()
        thread.join()


def _token(key: rsa.RSAPrivateKey, kid: str = "k1") -> str:
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": "svc-crm", "q2c_tenant": "acme", "exp": now + 600}
    claims.update(nbf=now, scope="customers:read")
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})


def test_only_a_verification_that_must_fetch_may_block(
    provider: SlowProvider, key: rsa.RSAPrivateKey
) -> None:
    provider.release.set()
    verifier = JwtVerifier(issuer=ISSUER, audience=AUDIENCE, jwks=provider.url)
    token = _token(key)
    assert verifier.may_block(token)  # no key set yet
    verifier.verify(token)
    assert provider.fetches == 1
    assert not verifier.may_block(token)  # k1 is in the fresh set
    stranger = _token(rsa.generate_private_key(public_exponent=65537, key_size=2048), kid="k9")
    assert not verifier.may_block(stranger)  # unknown kid, but PyJWT's refetch cooldown holds
    assert not verifier.may_block("not-a-jwt")  # refused as malformed, never fetched for
    authenticator = Authenticator(verifier)
    assert not authenticator.may_block({"authorization": f"Bearer {token}"})
    assert not authenticator.may_block({})


async def test_a_held_jwks_fetch_leaves_the_gateway_answering(
    store: Store, provider: SlowProvider, key: rsa.RSAPrivateKey
) -> None:
    verifier = JwtVerifier(issuer=ISSUER, audience=AUDIENCE, jwks=provider.url)
    async with (
        serving(store, GatewaySecurity(authenticator=Authenticator(verifier))) as gateway,
        grpc.aio.insecure_channel(f"127.0.0.1:{gateway.port}") as channel,
    ):
        customers = customer_pb2_grpc.CustomerServiceStub(channel)
        metadata = (("authorization", f"Bearer {_token(key)}"),)
        request = customer_pb2.ListCustomersRequest()
        waiting = customers.ListCustomers(request, metadata=metadata, timeout=WAIT)
        asked = await asyncio.to_thread(provider.asked.wait, WAIT)
        assert asked, "the gateway never asked the identity provider"
        # The fetch is held. Made on the event loop (which this test shares with the gateway), it
        # would hold everything until PyJWT gave up on the provider, and the call would have failed.
        health = health_pb2_grpc.HealthStub(channel)
        answer = await health.Check(health_pb2.HealthCheckRequest(), timeout=2.0)
        assert answer.status == health_pb2.HealthCheckResponse.SERVING
        assert not waiting.done()  # still waiting for its key set
        provider.release.set()
        listed = await waiting
        assert list(listed.customers) == []
        assert provider.fetches == 1
