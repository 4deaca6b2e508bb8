"""Bearer tokens: JWTs verified with PyJWT against a PEM public key or a JWKS, results cached."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa

from q2c_core.domain.errors import UnauthenticatedError, UnavailableError
from q2c_core.edge.auth.devkey import TENANT_CLAIM
from q2c_core.edge.auth.identity import Identity

ASYMMETRIC = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
"""The only algorithms ever accepted: `none` and HS* (shared secrets) never are."""

_EC_ALGORITHMS = {"secp256r1": "ES256", "secp384r1": "ES384", "secp521r1": "ES512"}
REQUIRED_CLAIMS = ["exp", "iss", "aud", "sub", TENANT_CLAIM]
CACHE_SIZE = 10_000
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


class JwksFile:
    """A JWKS kept in a local file, re-read when the file changes (PyJWKClient fetches URLs only)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp: tuple[int, int] | None = None
        self._keys: dict[str, jwt.PyJWK] = {}
        self._lock = threading.Lock()

    def _current(self) -> dict[str, jwt.PyJWK]:
        stat = self.path.stat()
        stamp = (stat.st_mtime_ns, stat.st_size)
        with self._lock:
            if stamp != self._stamp:
                keys = jwt.PyJWKSet.from_json(self.path.read_text()).keys
                self._keys = {key.key_id: key for key in keys if key.key_id}
                self._stamp = stamp
            return self._keys

    def get_signing_key_from_jwt(self, token: str) -> jwt.PyJWK:
        """The key the token's `kid` names (PyJWKClientError when there is none)."""
        kid = jwt.get_unverified_header(token).get("kid")
        key = self._current().get(str(kid)) if kid else None
        if key is None:
            raise jwt.PyJWKClientError(f"no key with kid {kid!r} in {self.path}")
        return key


def _jwks_source(jwks: str) -> jwt.PyJWKClient | JwksFile:
    """PyJWKClient (cached, re-fetched for an unknown kid) for a URL; JwksFile for a path."""
    if jwks.startswith(("https://", "http://")):
        return jwt.PyJWKClient(jwks, cache_keys=True, lifespan=300, timeout=5)
    path = Path(jwks.removeprefix("file://"))
    JwksFile(path)._current()  # fail at start, not on the first call, when the file is bad
    return JwksFile(path)


class JwtVerifier:
    """Verifies `iss`, `aud`, `exp`/`nbf` (with leeway) and the signature; caches verdicts."""

    def __init__(
        self,
        *,
        issuer: str,
        audience: str,
        public_key_file: Path | None = None,
        jwks: str | None = None,
        leeway_seconds: float = 30.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if (public_key_file is None) == (jwks is None):
            raise ValueError("give exactly one of a public key file and a JWKS")
        self.issuer, self.audience, self.leeway = issuer, audience, leeway_seconds
        self._clock = clock
        self._key: Any = None
        self._jwks: jwt.PyJWKClient | JwksFile | None = None
        if public_key_file is not None:
            self._key = serialization.load_pem_public_key(public_key_file.read_bytes())
            self._algorithms = algorithms_for(self._key)
        else:
            self._jwks = _jwks_source(str(jwks))
        self._cache: OrderedDict[str, Identity] = OrderedDict()
        self._lock = threading.Lock()

    def verify(self, token: str) -> Identity:
        """The identity a valid token proves; UnauthenticatedError with a reason otherwise."""
        cached = self._cached(token)
        if cached is not None:
            return cached
        try:
            claims = self._decode(token)
        except jwt.PyJWKClientConnectionError as error:
            raise UnavailableError("JWKS_UNAVAILABLE", f"the JWKS could not be fetched: {error}") from error
        except jwt.PyJWTError as error:
            raise _unauthenticated(error) from error
        identity = _identity(claims)
        with self._lock:
            self._cache[token] = identity
            if len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        return identity

    def _cached(self, token: str) -> Identity | None:
        with self._lock:
            identity = self._cache.get(token)
        if identity is None:
            return None
        if identity.expires_at is not None and identity.expires_at + self.leeway < self._clock():
            with self._lock:
                self._cache.pop(token, None)
            raise UnauthenticatedError("TOKEN_EXPIRED", "the token has expired")
        return identity

    def _decode(self, token: str) -> dict[str, Any]:
        key, algorithms = self._key, getattr(self, "_algorithms", [])
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
