"""Bearer tokens: JWTs verified with PyJWT against a PEM public key or a JWKS, results cached."""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Any, NamedTuple

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa

from q2c_core.domain.errors import UnauthenticatedError, UnavailableError
from q2c_core.edge.auth.devkey import TENANT_CLAIM
from q2c_core.edge.auth.identity import Identity
from q2c_core.edge.auth.jwks import JWKS_LIFESPAN_SECONDS, JwksUrl, KeySource, jwks_source

ASYMMETRIC = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
"""The only algorithms ever accepted: `none` and HS* (shared secrets) never are."""

_EC_ALGORITHMS = {"secp256r1": "ES256", "secp384r1": "ES384", "secp521r1": "ES512"}
REQUIRED_CLAIMS = ["exp", "iss", "aud", "sub", TENANT_CLAIM]
CACHE_SIZE = 10_000
"""Verified tokens remembered (least recently used forgotten first)."""
MAX_CLAIM_LENGTH = 200

# PyJWT's errors, most specific first: the reason a caller (and the security log) sees.
_REASONS: tuple[tuple[type[Exception], str, str], ...] = (
    (jwt.ExpiredSignatureError, "TOKEN_EXPIRED", "the token has expired"),
    (jwt.ImmatureSignatureError, "TOKEN_NOT_YET_VALID", "the token is not valid yet (nbf/iat)"),
    (jwt.InvalidIssuerError, "TOKEN_ISSUER_INVALID", "the token's issuer is not trusted"),
    (jwt.InvalidAudienceError, "TOKEN_AUDIENCE_INVALID", "the token is not meant for this service"),
    (jwt.MissingRequiredClaimError, "TOKEN_CLAIM_MISSING", "the token lacks a required claim"),
    (jwt.InvalidAlgorithmError, "TOKEN_ALGORITHM_REFUSED", "the token's algorithm is not accepted"),
    (jwt.InvalidSignatureError, "TOKEN_SIGNATURE_INVALID", "the token's signature does not verify"),
    (jwt.PyJWKClientError, "TOKEN_KEY_UNKNOWN", "no trusted key matches the token's kid"),
    (jwt.InvalidTokenError, "TOKEN_INVALID", "the token is malformed"),
)


def algorithms_for(key: Any) -> list[str]:
    """The JWS algorithms a public key can verify; refuses anything but RSA, EC and EdDSA keys."""
    if isinstance(key, rsa.RSAPublicKey):
        return ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512"]
    if isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name in _EC_ALGORITHMS:
        return [_EC_ALGORITHMS[key.curve.name]]
    if isinstance(key, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey):
        return ["EdDSA"]
    raise ValueError(f"unsupported public key type for JWT verification: {type(key).__name__}")


class _Verdict(NamedTuple):
    """A verified token's identity and the window (leeway included) in which it is valid."""

    identity: Identity
    expires_at: float  # refused from this instant on: exp + leeway
    valid_from: float  # refused before this instant: nbf - leeway (-inf without nbf)


class JwtVerifier:
    """Verifies `iss`, `aud`, `exp`/`nbf` (with leeway) and the signature; caches verdicts.

    A client sends the same token on every call, so a verified token's identity is kept
    (CACHE_SIZE tokens, by the exact token string): a hit re-checks only `exp` and `nbf` against
    the clock. Refusals are never kept, and every verdict is dropped when the key set changes.
    """

    def __init__(
        self,
        *,
        issuer: str,
        audience: str,
        public_key_file: Path | None = None,
        jwks: str | None = None,
        leeway_seconds: float = 30.0,
        clock: Callable[[], float] = time.time,
        jwks_lifespan_seconds: float = JWKS_LIFESPAN_SECONDS,
    ) -> None:
        if (public_key_file is None) == (jwks is None):
            raise ValueError("give exactly one of a public key file and a JWKS")
        self.issuer, self.audience, self.leeway = issuer, audience, leeway_seconds
        self._clock = clock
        self._key: Any = None
        self._algorithms: list[str] = []
        self._jwks: KeySource | None = None
        if public_key_file is not None:
            self._key = serialization.load_pem_public_key(public_key_file.read_bytes())
            self._algorithms = algorithms_for(self._key)
        else:
            self._jwks = jwks_source(str(jwks), jwks_lifespan_seconds)
        self.fetches_keys = isinstance(self._jwks, JwksUrl)
        """Whether verifying may fetch a JWKS over the network (a JWKS URL is configured)."""
        self._cache: OrderedDict[str, _Verdict] = OrderedDict()
        self._generation: Hashable = None
        self._lock = threading.Lock()

    def may_block(self, token: str) -> bool:
        """Whether `verify(token)` could wait on the network (a JWKS URL that is due, or a kid it
        does not know yet): the gateway then verifies in a worker thread, not on its event loop."""
        return isinstance(self._jwks, JwksUrl) and self._jwks.may_fetch(token)

    def verify(self, token: str) -> Identity:
        """The identity a valid token proves; UnauthenticatedError with a reason otherwise."""
        generation = self._key_generation()
        cached = self._cached(token)
        if cached is not None:
            return cached
        try:
            claims = self._decode(token)
        except jwt.PyJWKClientConnectionError as error:
            raise _jwks_unavailable(error) from error
        except jwt.PyJWTError as error:
            raise _unauthenticated(error) from error
        identity = _identity(claims)
        self._remember(token, _verdict(identity, claims, self.leeway), generation)
        return identity

    def _key_generation(self) -> Hashable:
        """The key set's generation now; a new one drops every cached verdict."""
        if self._jwks is None:
            return None
        try:
            generation = self._jwks.generation()
        except (jwt.PyJWKClientConnectionError, jwt.PyJWKSetError, OSError, ValueError) as error:
            # a JWKS that cannot be fetched, read or parsed is the server's problem: retry later
            raise _jwks_unavailable(error) from error
        if generation != self._generation:
            with self._lock:
                self._cache.clear()
                self._generation = generation
        return generation

    def _cached(self, token: str) -> Identity | None:
        with self._lock:
            verdict = self._cache.get(token)
            if verdict is None:
                return None
            self._cache.move_to_end(token)
        now = self._clock()
        if now >= verdict.expires_at:
            with self._lock:
                self._cache.pop(token, None)
            raise UnauthenticatedError("TOKEN_EXPIRED", "the token has expired")
        if now < verdict.valid_from:
            raise UnauthenticatedError("TOKEN_NOT_YET_VALID", "the token is not valid yet (nbf/iat)")
        return verdict.identity

    def _remember(self, token: str, verdict: _Verdict, generation: Hashable) -> None:
        with self._lock:
            if generation != self._generation:
                return  # the key set changed while this token was verified: keep nothing
            self._cache[token] = verdict
            if len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)

    def _decode(self, token: str) -> dict[str, Any]:
        key, algorithms = self._key, self._algorithms
        if self._jwks is not None:
            signing = self._jwks.get_signing_key_from_jwt(token)
            key, algorithms = signing.key, [signing.algorithm_name]
        allowed = [name for name in algorithms if name in ASYMMETRIC]
        if not allowed:
            raise jwt.InvalidAlgorithmError("the key's algorithm is not an accepted asymmetric one")
        return jwt.decode(
            token,
            key,
            algorithms=allowed,
            audience=self.audience,
            issuer=self.issuer,
            leeway=self.leeway,
            options={"require": REQUIRED_CLAIMS, "verify_iat": False},
        )


def _verdict(identity: Identity, claims: dict[str, Any], leeway: float) -> _Verdict:
    """The window PyJWT just checked, for re-checking on a cache hit (its conversions and
    comparisons exactly: refused when exp <= now - leeway or nbf > now + leeway)."""
    valid_from = int(claims["nbf"]) - leeway if "nbf" in claims else -math.inf
    return _Verdict(identity, int(claims["exp"]) + leeway, valid_from)


def _jwks_unavailable(error: Exception) -> UnavailableError:
    return UnavailableError("JWKS_UNAVAILABLE", f"the JWKS could not be fetched: {error}")


def _unauthenticated(error: Exception) -> UnauthenticatedError:
    for kind, reason, message in _REASONS:
        if isinstance(error, kind):
            return UnauthenticatedError(reason, message)
    return UnauthenticatedError("TOKEN_INVALID", "the token is malformed")


def _claim(claims: dict[str, Any], name: str) -> str:
    value = claims.get(name)
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_CLAIM_LENGTH:
        raise UnauthenticatedError(
            "TOKEN_CLAIM_INVALID", f"claim {name!r} must be a non-empty string", {"claim": name}
        )
    return value.strip()


def _scopes(claims: dict[str, Any]) -> frozenset[str]:
    value = claims.get("scope", "")
    if isinstance(value, list):
        return frozenset(str(item) for item in value)
    if not isinstance(value, str):
        raise UnauthenticatedError(
            "TOKEN_CLAIM_INVALID", "claim 'scope' must be a string", {"claim": "scope"}
        )
    return frozenset(value.split())


def _identity(claims: dict[str, Any]) -> Identity:
    exp = claims.get("exp")
    return Identity(
        tenant_id=_claim(claims, TENANT_CLAIM),
        principal=_claim(claims, "sub"),
        scopes=_scopes(claims),
        method="jwt",
        expires_at=float(exp) if isinstance(exp, int | float) else None,
    )
