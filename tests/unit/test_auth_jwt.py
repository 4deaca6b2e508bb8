"""JwtVerifier: one reason per failure, leeway on exp/nbf, a verdict cache that still expires tokens."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from hypothesis import given
from hypothesis import strategies as st

from q2c_core.domain.errors import UnauthenticatedError
from q2c_core.edge.auth import jwt_verifier
from q2c_core.edge.auth.devkey import TENANT_CLAIM
from q2c_core.edge.auth.jwt_verifier import MAX_CLAIM_LENGTH, JwtVerifier, algorithms_for
from tests import credentials
from tests.security import tokens


class Clock:
    """A clock a test moves by hand."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _verifier(leeway: float = 30.0, clock: Callable[[], float] = time.time) -> JwtVerifier:
    key = credentials.dev_key()
    return JwtVerifier(
        issuer=key.issuer,
        audience=key.audience,
        public_key_file=key.jwt_public_key_file,
        leeway_seconds=leeway,
        clock=clock,
    )


def _reason(verifier: JwtVerifier, token: str) -> str:
    with pytest.raises(UnauthenticatedError) as refused:
        verifier.verify(token)
    return refused.value.reason


def _changed(**changes: Any) -> str:
    payload = tokens.claims("acme", "alice")
    for name, value in changes.items():
        if value is None:
            del payload[name]
        else:
            payload[name] = value
    return tokens.signed(payload)


def _es384_token() -> str:
    key = ec.generate_private_key(ec.SECP384R1())
    return jwt.encode(tokens.claims("acme"), key, algorithm="ES384")


FAILURES: list[tuple[str, Callable[[], str], str]] = [
    ("garbage", lambda: "not-a-jwt", "TOKEN_INVALID"),
    ("empty", lambda: "", "TOKEN_INVALID"),
    ("another-key", lambda: tokens.other_dev_key().mint("acme", "alice"), "TOKEN_SIGNATURE_INVALID"),
    ("alg-none", lambda: tokens.unsigned(tokens.claims("acme")), "TOKEN_ALGORITHM_REFUSED"),
    (
        "hs256-with-public-key",
        lambda: tokens.hmac_signed(
            tokens.claims("acme"), credentials.dev_key().jwt_public_key_file.read_bytes()
        ),
        "TOKEN_ALGORITHM_REFUSED",
    ),
    ("es384-for-a-p256-key", _es384_token, "TOKEN_ALGORITHM_REFUSED"),
    ("expired", lambda: credentials.dev_key().mint("acme", "a", now=time.time() - 3700), "TOKEN_EXPIRED"),
    (
        "not-yet-valid",
        lambda: credentials.dev_key().mint("acme", "a", now=time.time() + 120),
        "TOKEN_NOT_YET_VALID",
    ),
    ("wrong-issuer", lambda: _changed(iss="someone-else"), "TOKEN_ISSUER_INVALID"),
    ("wrong-audience", lambda: _changed(aud="other-service"), "TOKEN_AUDIENCE_INVALID"),
    ("no-tenant", lambda: _changed(**{TENANT_CLAIM: None}), "TOKEN_CLAIM_MISSING"),
    ("no-subject", lambda: _changed(sub=None), "TOKEN_CLAIM_MISSING"),
    ("no-expiry", lambda: _changed(exp=None), "TOKEN_CLAIM_MISSING"),
    ("no-issuer", lambda: _changed(iss=None), "TOKEN_CLAIM_MISSING"),
    ("blank-tenant", lambda: _changed(**{TENANT_CLAIM: "  "}), "TOKEN_CLAIM_INVALID"),
    ("numeric-tenant", lambda: _changed(**{TENANT_CLAIM: 42}), "TOKEN_CLAIM_INVALID"),
    ("huge-tenant", lambda: _changed(**{TENANT_CLAIM: "t" * (MAX_CLAIM_LENGTH + 1)}), "TOKEN_CLAIM_INVALID"),
    ("numeric-scope", lambda: _changed(scope=7), "TOKEN_CLAIM_INVALID"),
]


@pytest.mark.parametrize(("make", "reason"), [f[1:] for f in FAILURES], ids=[f[0] for f in FAILURES])
def test_each_bad_token_is_refused_with_its_own_reason(make: Callable[[], str], reason: str) -> None:
    assert _reason(_verifier(), make()) == reason


def test_a_good_token_proves_tenant_principal_scopes_and_expiry() -> None:
    now = time.time()
    token = credentials.dev_key().mint("acme", "alice", ("customers:read",), now=now, ttl_seconds=600)
    identity = _verifier().verify(token)
    assert (identity.tenant_id, identity.principal, identity.method) == ("acme", "alice", "jwt")
    assert identity.scopes == {"customers:read"}
    assert identity.expires_at == int(now + 600)


def test_the_hand_made_hs256_and_none_tokens_are_well_formed() -> None:
    # so the refusals above are for the algorithm, not for a malformed forgery
    payload = tokens.claims("acme")
    secret = b"k" * 32
    decoded = jwt.decode(tokens.hmac_signed(payload, secret), secret, algorithms=["HS256"], audience="q2c")
    assert decoded[TENANT_CLAIM] == "acme"
    unsigned = tokens.unsigned(payload)
    assert jwt.get_unverified_header(unsigned)["alg"] == "none"
    assert jwt.decode(unsigned, options={"verify_signature": False})[TENANT_CLAIM] == "acme"


@pytest.mark.parametrize(
    ("offset", "leeway", "accepted"),
    [(-10, 30, True), (-40, 30, False), (-10, 0, False)],
    ids=["expired-within-leeway", "expired-beyond-leeway", "expired-no-leeway"],
)
def test_expiry_allows_the_leeway_and_no_more(offset: int, leeway: float, accepted: bool) -> None:
    token = _changed(exp=int(time.time()) + offset, nbf=int(time.time()) - 3600)
    if accepted:
        assert _verifier(leeway).verify(token).principal == "alice"
    else:
        assert _reason(_verifier(leeway), token) == "TOKEN_EXPIRED"


@pytest.mark.parametrize(
    ("offset", "leeway", "accepted"),
    [(10, 30, True), (40, 30, False), (10, 0, False)],
    ids=["early-within-leeway", "early-beyond-leeway", "early-no-leeway"],
)
def test_not_before_allows_the_leeway_and_no_more(offset: int, leeway: float, accepted: bool) -> None:
    token = _changed(nbf=int(time.time()) + offset)
    if accepted:
        assert _verifier(leeway).verify(token).principal == "alice"
    else:
        assert _reason(_verifier(leeway), token) == "TOKEN_NOT_YET_VALID"


@pytest.fixture
def decodes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every token PyJWT is asked to decode during the test."""
    seen: list[str] = []
    real = jwt.decode

    def counting(token: str, *args: Any, **kwargs: Any) -> Any:
        seen.append(token)
        return real(token, *args, **kwargs)

    monkeypatch.setattr(jwt_verifier.jwt, "decode", counting)
    return seen


def test_a_second_verify_of_the_same_token_is_answered_from_the_cache(decodes: list[str]) -> None:
    verifier = _verifier()
    token = credentials.dev_key().mint("acme", "alice")
    assert verifier.verify(token) == verifier.verify(token)
    assert decodes == [token]
    other = credentials.dev_key().mint("acme", "bob")
    verifier.verify(other)
    assert decodes == [token, other]


def test_a_refused_token_is_not_cached(decodes: list[str]) -> None:
    verifier = _verifier()
    token = tokens.other_dev_key().mint("acme", "alice")
    for _ in range(2):
        assert _reason(verifier, token) == "TOKEN_SIGNATURE_INVALID"
    assert decodes == [token, token]


def test_a_cached_token_past_its_expiry_and_leeway_is_refused(decodes: list[str]) -> None:
    clock = Clock(time.time())
    verifier = _verifier(leeway=30, clock=clock)
    token = credentials.dev_key().mint("acme", "alice", now=clock.now, ttl_seconds=60)
    expires_at = verifier.verify(token).expires_at
    assert expires_at is not None
    clock.now = expires_at + 29
    assert verifier.verify(token).principal == "alice"
    clock.now = expires_at + 31
    assert _reason(verifier, token) == "TOKEN_EXPIRED"
    assert decodes == [token]


def _public_pem(key: Any, path: Path) -> Path:
    path.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return path


@pytest.mark.parametrize("algorithm", ["RS256", "PS256", "RS512"])
def test_an_rsa_public_key_verifies_the_rsa_algorithms(tmp_path: Path, algorithm: str) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    verifier = JwtVerifier(issuer="idp", audience="q2c", public_key_file=_public_pem(key, tmp_path / "k.pem"))
    payload = {**tokens.claims("acme"), "iss": "idp", "aud": "q2c"}
    assert verifier.verify(jwt.encode(payload, key, algorithm=algorithm)).tenant_id == "acme"


def test_algorithms_follow_the_key_type() -> None:
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    assert {"RS256", "PS256"} <= set(algorithms_for(rsa_key))
    assert algorithms_for(ec.generate_private_key(ec.SECP256R1()).public_key()) == ["ES256"]
    assert algorithms_for(ec.generate_private_key(ec.SECP384R1()).public_key()) == ["ES384"]
    assert algorithms_for(ed25519.Ed25519PrivateKey.generate().public_key()) == ["EdDSA"]
    with pytest.raises(ValueError, match="unsupported"):
        algorithms_for(ec.generate_private_key(ec.SECP256K1()).public_key())
    with pytest.raises(ValueError, match="unsupported"):
        algorithms_for(b"a shared secret")


def test_a_verifier_takes_exactly_one_source_of_keys(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="exactly one"):
        JwtVerifier(issuer="i", audience="a")
    key_file = credentials.dev_key().jwt_public_key_file
    with pytest.raises(ValueError, match="exactly one"):
        JwtVerifier(issuer="i", audience="a", public_key_file=key_file, jwks="https://idp.example/jwks")


@given(st.one_of(st.text(max_size=300), st.lists(st.text(max_size=60), min_size=3, max_size=3).map(".".join)))
def test_no_string_escapes_as_anything_but_unauthenticated(candidate: str) -> None:
    with pytest.raises(UnauthenticatedError):
        _shared_verifier().verify(candidate)


@functools.cache
def _shared_verifier() -> JwtVerifier:
    return _verifier()
