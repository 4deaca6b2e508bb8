"""Tokens verified against a JWKS: the key is chosen by `kid`, only asymmetric keys verify.

The JWKS is served over HTTP from 127.0.0.1, as an identity provider publishes it, or kept in a
local file (`--jwt-jwks /path/jwks.json`) that is re-read when it changes.
"""

from __future__ import annotations

import functools
import http.server
import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from q2c_core.domain.errors import UnauthenticatedError, UnavailableError
from q2c_core.edge.auth.jwt_verifier import JwtVerifier
from q2c_core.edge.security import security_from_settings
from tests.security import tokens
from tests.security.configuration import settings

ISSUER, AUDIENCE = "https://idp.example", "q2c"


def _rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def signing_key() -> rsa.RSAPrivateKey:
    """The identity provider's current key, published as kid 'k1'."""
    return _rsa_key()


@pytest.fixture(scope="module")
def jwks_file(tmp_path_factory: pytest.TempPathFactory, signing_key: rsa.RSAPrivateKey) -> Path:
    """A JWKS with the RSA key (kid k1) and a shared-secret key (kid shared) that must never verify."""
    public = json.loads(RSAAlgorithm.to_jwk(signing_key.public_key()))
    public.update(kid="k1", use="sig", alg="RS256")
    shared = {"kty": "oct", "kid": "shared", "use": "sig", "alg": "HS256", "k": tokens.b64url(b"s" * 32)}
    path = tmp_path_factory.mktemp("jwks") / "jwks.json"
    path.write_text(json.dumps({"keys": [public, shared]}))
    return path


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def jwks_url(jwks_file: Path) -> Iterator[str]:
    """The JWKS served over HTTP on 127.0.0.1 (a thread of this process)."""
    handler = functools.partial(_Quiet, directory=str(jwks_file.parent))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/{jwks_file.name}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def verifier(jwks_url: str) -> JwtVerifier:
    """A verifier fetching the JWKS (a fresh key and verdict cache per test)."""
    return JwtVerifier(issuer=ISSUER, audience=AUDIENCE, jwks=jwks_url)


def _claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": "svc-erp", "q2c_tenant": "acme", "exp": now + 600}
    claims.update({"scope": "customers:read billing:read", "nbf": now}, **overrides)
    return claims


def _reason(verifier: JwtVerifier, token: str) -> str:
    with pytest.raises(UnauthenticatedError) as refused:
        verifier.verify(token)
    return refused.value.reason


def test_a_token_signed_with_the_published_key_verifies(
    verifier: JwtVerifier, signing_key: rsa.RSAPrivateKey
) -> None:
    token = jwt.encode(_claims(), signing_key, algorithm="RS256", headers={"kid": "k1"})
    identity = verifier.verify(token)
    assert (identity.tenant_id, identity.principal, identity.method) == ("acme", "svc-erp", "jwt")
    assert identity.scopes == {"customers:read", "billing:read"}


def test_an_unknown_kid_is_token_key_unknown(verifier: JwtVerifier) -> None:
    token = jwt.encode(_claims(), _rsa_key(), algorithm="RS256", headers={"kid": "k2"})
    assert _reason(verifier, token) == "TOKEN_KEY_UNKNOWN"


def test_a_token_without_a_kid_matches_no_key(verifier: JwtVerifier, signing_key: rsa.RSAPrivateKey) -> None:
    token = jwt.encode(_claims(), signing_key, algorithm="RS256")
    assert _reason(verifier, token) == "TOKEN_KEY_UNKNOWN"


def test_a_known_kid_with_another_keys_signature_is_invalid(verifier: JwtVerifier) -> None:
    token = jwt.encode(_claims(), _rsa_key(), algorithm="RS256", headers={"kid": "k1"})
    assert _reason(verifier, token) == "TOKEN_SIGNATURE_INVALID"


def test_a_shared_secret_key_in_the_jwks_never_verifies(verifier: JwtVerifier) -> None:
    token = jwt.encode(_claims(), b"s" * 32, algorithm="HS256", headers={"kid": "shared"})
    assert _reason(verifier, token) == "TOKEN_ALGORITHM_REFUSED"


def test_hs256_keyed_with_the_rsa_public_jwk_is_refused(verifier: JwtVerifier, jwks_file: Path) -> None:
    public = json.dumps(json.loads(jwks_file.read_text())["keys"][0]).encode()
    forged = tokens.hmac_signed(_claims(), public)
    header = tokens.b64url(json.dumps({"alg": "HS256", "kid": "k1"}).encode())
    assert _reason(verifier, header + forged[forged.index(".") :]) == "TOKEN_ALGORITHM_REFUSED"


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_an_unreachable_jwks_is_unavailable_not_a_bad_token(signing_key: rsa.RSAPrivateKey) -> None:
    missing = JwtVerifier(
        issuer=ISSUER, audience=AUDIENCE, jwks=f"http://127.0.0.1:{_closed_port()}/jwks.json"
    )
    token = jwt.encode(_claims(), signing_key, algorithm="RS256", headers={"kid": "k1"})
    with pytest.raises(UnavailableError) as failed:
        missing.verify(token)
    assert failed.value.reason == "JWKS_UNAVAILABLE"


def test_a_jwks_file_configured_in_settings_verifies_tokens(
    jwks_file: Path, signing_key: rsa.RSAPrivateKey
) -> None:
    security = security_from_settings(settings(jwt_jwks=str(jwks_file), jwt_issuer=ISSUER), None)
    token = jwt.encode(_claims(), signing_key, algorithm="RS256", headers={"kid": "k1"})
    identity = security.authenticator.authenticate({"authorization": f"Bearer {token}"}, None)
    assert (identity.tenant_id, identity.principal) == ("acme", "svc-erp")


def test_a_key_added_to_the_jwks_file_is_trusted_without_a_restart(
    tmp_path: Path, jwks_file: Path, signing_key: rsa.RSAPrivateKey
) -> None:
    rotating = tmp_path / "jwks.json"
    rotating.write_text(jwks_file.read_text())
    verifier = JwtVerifier(issuer=ISSUER, audience=AUDIENCE, jwks=str(rotating))
    new_key = _rsa_key()
    token = jwt.encode(_claims(), new_key, algorithm="RS256", headers={"kid": "k2"})
    assert _reason(verifier, token) == "TOKEN_KEY_UNKNOWN"

    published = json.loads(rotating.read_text())
    added = json.loads(RSAAlgorithm.to_jwk(new_key.public_key()))
    added.update(kid="k2", use="sig", alg="RS256")
    published["keys"].append(added)
    rotating.write_text(json.dumps(published, indent=2))  # another size: the change is seen

    assert verifier.verify(token).principal == "svc-erp"
