"""The verified-token cache: a client's token is checked once, yet nothing it must refuse gets in.

A hit re-checks `exp` and `nbf` against the (injected) clock; a token that differs by one
character is verified afresh; and when the key set changes (a JWKS file re-read, a JWKS URL
fetched again) every cached verdict is dropped, so a token signed by a removed key is refused.
"""

from __future__ import annotations

import functools
import http.server
import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

from q2c_core.domain.errors import UnauthenticatedError, UnavailableError
from q2c_core.edge.auth import jwt_verifier
from q2c_core.edge.auth.jwt_verifier import JwtVerifier
from tests import credentials
from tests.security import tokens

ISSUER, AUDIENCE = "https://idp.example", "q2c"


class Clock:
    """A clock a test moves by hand."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def decodes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every token PyJWT is asked to verify during the test."""
    seen: list[str] = []
    real = jwt.decode

    def counting(token: str, *args: Any, **kwargs: Any) -> Any:
        seen.append(token)
        return real(token, *args, **kwargs)

    monkeypatch.setattr(jwt_verifier.jwt, "decode", counting)
    return seen


def _dev_verifier(clock: Callable[[], float] = time.time, leeway: float = 30.0) -> JwtVerifier:
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


# -- expiry and not-before on a hit --------------------------------------------------------------


def test_a_cached_token_expires_at_exp_plus_leeway_as_pyjwt_would(decodes: list[str]) -> None:
    clock = Clock(time.time())
    verifier = _dev_verifier(clock, leeway=30)
    payload = tokens.claims("acme", "alice", now=clock.now, ttl_seconds=60)
    token, exp = tokens.signed(payload), payload["exp"]
    verifier.verify(token)
    clock.now = exp + 30 - 0.001
    assert verifier.verify(token).principal == "alice"
    clock.now = exp + 30  # PyJWT refuses exp <= now - leeway
    assert _reason(verifier, token) == "TOKEN_EXPIRED"
    assert decodes == [token]
    clock.now = exp  # an expired verdict is forgotten: the token is verified again
    verifier.verify(token)
    assert decodes == [token, token]


def test_a_cached_token_is_refused_before_its_not_before_when_the_clock_goes_back(
    decodes: list[str],
) -> None:
    clock = Clock(time.time())
    verifier = _dev_verifier(clock, leeway=30)
    payload = tokens.claims("acme", "alice", now=clock.now)
    token = tokens.signed(payload)
    verifier.verify(token)
    clock.now = payload["nbf"] - 31
    assert _reason(verifier, token) == "TOKEN_NOT_YET_VALID"
    clock.now = payload["nbf"] - 29
    assert verifier.verify(token).principal == "alice"
    assert decodes == [token]


# -- a different string is a different token ------------------------------------------------------


def _tampered(token: str) -> list[str]:
    header, payload, signature = token.split(".")
    other = tokens.b64url(json.dumps(tokens.claims("other-tenant", "alice")).encode())
    middle = len(signature) // 2
    flipped = signature[:middle] + ("A" if signature[middle] != "A" else "B") + signature[middle + 1 :]
    return [f"{header}.{other}.{signature}", f"{header}.{payload}.{flipped}", f"{token}A", f" {token}"]


def test_a_tampered_copy_of_a_cached_token_is_verified_and_refused(decodes: list[str]) -> None:
    verifier = _dev_verifier()
    token = credentials.dev_key().mint("acme", "alice")
    verifier.verify(token)
    forgeries = _tampered(token)
    for forged in forgeries:
        with pytest.raises(UnauthenticatedError):
            verifier.verify(forged)
    assert decodes == [token, *forgeries]
    assert verifier.verify(token).tenant_id == "acme"
    assert len(decodes) == 5


def test_the_least_recently_used_token_is_forgotten_first(
    decodes: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jwt_verifier, "CACHE_SIZE", 2)
    verifier = _dev_verifier()
    first, second, third = (credentials.dev_key().mint("acme", name) for name in ("a", "b", "c"))
    for token in (first, second, first, third):  # `first` used again: `second` is the oldest
        verifier.verify(token)
    assert decodes == [first, second, third]
    verifier.verify(first)
    verifier.verify(second)
    assert decodes == [first, second, third, second]


# -- key rotation ---------------------------------------------------------------------------------


def _ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _jwks(**keys: ec.EllipticCurvePrivateKey) -> str:
    published = []
    for kid, key in keys.items():
        jwk = json.loads(ECAlgorithm.to_jwk(key.public_key()))
        jwk.update(kid=kid, use="sig", alg="ES256")
        published.append(jwk)
    return json.dumps({"keys": published})


def _token(key: ec.EllipticCurvePrivateKey, kid: str) -> str:
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "svc",
        "q2c_tenant": "acme",
        "nbf": now,
        "exp": now + 600,
    }
    return jwt.encode(claims, key, algorithm="ES256", headers={"kid": kid})


def test_a_key_removed_from_the_jwks_file_stops_a_cached_token(tmp_path: Path, decodes: list[str]) -> None:
    old, current = _ec_key(), _ec_key()
    path = tmp_path / "jwks.json"
    path.write_text(_jwks(old=old, current=current))
    verifier = JwtVerifier(issuer=ISSUER, audience=AUDIENCE, jwks=str(path))
    by_old, by_current = _token(old, "old"), _token(current, "current")
    for token in (by_old, by_current, by_old, by_current):
        verifier.verify(token)
    assert decodes == [by_old, by_current]

    path.write_text(_jwks(current=current) + "\n")  # another size: the change is seen

    assert _reason(verifier, by_old) == "TOKEN_KEY_UNKNOWN"
    assert verifier.verify(by_current).principal == "svc"  # verified again under the new set
    assert decodes == [by_old, by_current, by_current]


class _Published(http.server.SimpleHTTPRequestHandler):
    fetches: list[str]

    def do_GET(self) -> None:
        self.fetches.append(self.path)
        super().do_GET()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path, list[str]]]:
    """A JWKS served over HTTP from a file the test rewrites, and the fetches it answered."""
    path = tmp_path / "jwks.json"
    fetches: list[str] = []
    handler = functools.partial(type("Handler", (_Published,), {"fetches": fetches}), directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/{path.name}", path, fetches
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_a_cached_token_needs_no_fetch_while_the_jwks_is_fresh(
    served: tuple[str, Path, list[str]], decodes: list[str]
) -> None:
    url, path, fetches = served
    key = _ec_key()
    path.write_text(_jwks(k1=key))
    verifier = JwtVerifier(issuer=ISSUER, audience=AUDIENCE, jwks=url)
    token = _token(key, "k1")
    for _ in range(3):
        assert verifier.verify(token).principal == "svc"
    assert (len(fetches), decodes) == (1, [token])


def test_a_key_removed_from_the_jwks_url_stops_a_cached_token_at_the_next_fetch(
    served: tuple[str, Path, list[str]], decodes: list[str]
) -> None:
    url, path, fetches = served
    old, current = _ec_key(), _ec_key()
    path.write_text(_jwks(old=old, current=current))
    # a lifespan this short makes every call fetch the set again: the fetch a real lifespan
    # (5 minutes) would make when it runs out
    verifier = JwtVerifier(issuer=ISSUER, audience=AUDIENCE, jwks=url, jwks_lifespan_seconds=1e-9)
    by_old = _token(old, "old")
    verifier.verify(by_old)
    verifier.verify(by_old)
    assert decodes == [by_old] and len(fetches) >= 2  # fetched again, same set: still cached

    path.write_text(_jwks(current=current))

    assert _reason(verifier, by_old) == "TOKEN_KEY_UNKNOWN"
    assert verifier.verify(_token(current, "current")).principal == "svc"


def test_an_unreachable_jwks_url_keeps_the_last_key_set_and_still_refuses_an_unknown_kid(
    served: tuple[str, Path, list[str]], decodes: list[str]
) -> None:
    url, path, fetches = served
    key = _ec_key()
    path.write_text(_jwks(k1=key))
    verifier = JwtVerifier(issuer=ISSUER, audience=AUDIENCE, jwks=url, jwks_lifespan_seconds=1e-9)
    cached = _token(key, "k1")
    verifier.verify(cached)

    path.unlink()  # the identity provider answers 404: the set cannot be fetched again

    assert verifier.verify(cached).principal == "svc"  # still within the last set
    fresh = _token(key, "k1")
    assert verifier.verify(fresh).principal == "svc"  # a new token of a known key verifies
    stranger = _token(_ec_key(), "k2")
    assert _reason(verifier, stranger) == "TOKEN_KEY_UNKNOWN"  # no forced fetch within the cooldown
    verifier._jwks.cooldown_duration = 0  # type: ignore[union-attr]
    with pytest.raises(UnavailableError) as failed:  # the forced fetch for its kid fails: retry
        verifier.verify(stranger)
    assert failed.value.reason == "JWKS_UNAVAILABLE"
    assert decodes == [cached, fresh] and len(fetches) >= 3

    path.write_text(_jwks(k2=_ec_key()))  # back, without k1

    assert _reason(verifier, cached) == "TOKEN_KEY_UNKNOWN"


def test_a_jwks_file_that_cannot_be_read_is_unavailable_until_it_is_fixed(tmp_path: Path) -> None:
    key = _ec_key()
    path = tmp_path / "jwks.json"
    path.write_text(_jwks(k1=key))
    verifier = JwtVerifier(issuer=ISSUER, audience=AUDIENCE, jwks=str(path))
    token = _token(key, "k1")
    verifier.verify(token)
    for broken in ('{"keys": [', '{"keys": []}', None):
        if broken is None:
            path.unlink()
        else:
            path.write_text(broken)
        with pytest.raises(UnavailableError) as failed:
            verifier.verify(token)
        assert failed.value.reason == "JWKS_UNAVAILABLE"
    path.write_text(_jwks(k1=key))
    assert verifier.verify(token).principal == "svc"
