"""From call metadata and the TLS peer to an Identity, failing closed; then the scope check."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol

from q2c_core.domain.errors import PermissionDeniedError, UnauthenticatedError
from q2c_core.edge.auth.identity import Identity
from q2c_core.edge.auth.jwt_verifier import JwtVerifier
from q2c_core.edge.auth.mtls import CertificateMapper
from q2c_core.edge.auth.scopes import ADMIN, METHOD_SCOPES, missing_scopes, required_scopes

AUTHORIZATION_KEY = "authorization"
TENANT_KEY = "x-tenant-id"
PRINCIPAL_KEY = "x-principal"
UNVERIFIED_DEFAULTS = ("default", "anonymous")
"""Tenant and principal of a caller that names none under `--auth none`."""


class CallAuthenticator(Protocol):
    """What the gateway asks of an authenticator."""

    enabled: bool

    def authenticate(self, metadata: Mapping[str, str], peer_certificate: bytes | None) -> Identity:
        """The verified caller, or raise UnauthenticatedError / PermissionDeniedError."""
        ...

    def needs_certificate(self, metadata: Mapping[str, str]) -> bool:
        """Whether `authenticate` would look at the peer certificate (else the gateway need not
        fetch it from the TLS layer)."""
        ...

    def may_block(self, metadata: Mapping[str, str]) -> bool:
        """Whether `authenticate` could wait on the network (a JWKS fetch): the gateway then
        calls it in a worker thread instead of on its event loop."""
        ...


class Authenticator:
    """Verifies bearer tokens and/or client certificates; at least one way in is configured."""

    def __init__(
        self, tokens: JwtVerifier | None = None, certificates: CertificateMapper | None = None
    ) -> None:
        if tokens is None and certificates is None:
            raise ValueError("an Authenticator needs a token verifier or a certificate mapper")
        self.tokens = tokens
        self.certificates = certificates

    enabled = True

    def needs_certificate(self, metadata: Mapping[str, str]) -> bool:
        """Only without a bearer token (which wins) and with certificates accepted."""
        return self.certificates is not None and not metadata.get(AUTHORIZATION_KEY, "").strip()

    def may_block(self, metadata: Mapping[str, str]) -> bool:
        """Only a bearer token verified against a JWKS URL that must be fetched first."""
        if self.tokens is None or not self.tokens.fetches_keys:  # per call: no header parsing
            return False
        scheme, _, token = metadata.get(AUTHORIZATION_KEY, "").strip().partition(" ")
        return scheme.lower() == "bearer" and bool(token.strip()) and self.tokens.may_block(token.strip())

    def authenticate(self, metadata: Mapping[str, str], peer_certificate: bytes | None) -> Identity:
        """The verified caller; UnauthenticatedError otherwise."""
        header = metadata.get(AUTHORIZATION_KEY, "").strip()
        if header:
            scheme, _, token = header.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise UnauthenticatedError("TOKEN_INVALID", "authorization must be 'Bearer <token>'")
            if self.tokens is None:
                raise UnauthenticatedError("TOKEN_INVALID", "this server does not accept bearer tokens")
            return self.tokens.verify(token.strip())
        if peer_certificate and self.certificates is not None:
            return self.certificates.identify(peer_certificate)
        raise UnauthenticatedError(
            "CREDENTIALS_MISSING", "the call carries no credentials (authorization: Bearer <token>)"
        )


class TrustingAuthenticator:
    """`--auth none` (development only): trusts x-tenant-id / x-principal, grants every scope."""

    enabled = False

    def needs_certificate(self, metadata: Mapping[str, str]) -> bool:
        """Never: the metadata alone names the caller."""
        return False

    def may_block(self, metadata: Mapping[str, str]) -> bool:
        """Never: nothing is verified."""
        return False

    def authenticate(self, metadata: Mapping[str, str], peer_certificate: bytes | None) -> Identity:
        """The caller the metadata names, unverified."""
        tenant = metadata.get(TENANT_KEY, "").strip() or UNVERIFIED_DEFAULTS[0]
        principal = metadata.get(PRINCIPAL_KEY, "").strip() or UNVERIFIED_DEFAULTS[1]
        return Identity(tenant, principal, frozenset({ADMIN}), "none")


def check_asserted(pairs: Iterable[tuple[str, str]], identity: Identity) -> None:
    """PermissionDeniedError when any x-tenant-id / x-principal (repeated ones too) names
    someone the credentials do not."""
    expected = {TENANT_KEY: (identity.tenant_id, "TENANT_MISMATCH", "tenant")}
    expected[PRINCIPAL_KEY] = (identity.principal, "PRINCIPAL_MISMATCH", "principal")
    for key, value in pairs:
        if key not in expected or not isinstance(value, str):
            continue
        proven, reason, what = expected[key]
        claimed = value.strip()
        if claimed and claimed != proven:
            raise PermissionDeniedError(
                reason,
                f"{key} names {what} {claimed!r} but the credentials are for {proven!r}",
                {"claimed": claimed, "authenticated": proven},
            )


def authorize(identity: Identity, method: str, request: Any) -> None:
    """PermissionDeniedError (SCOPE_MISSING, naming the scope) unless the caller may call this."""
    needed = required_scopes(method, request)
    if needed is None:
        raise PermissionDeniedError(
            "SCOPE_MISSING", f"{method} is not in the scope table", {"method": method}
        )
    missing = missing_scopes(identity.scopes, needed)
    if missing:
        raise PermissionDeniedError(
            "SCOPE_MISSING",
            f"{method.rsplit('/', 1)[-1]} needs scope {' '.join(missing)}",
            {"scope": " ".join(missing), "method": method},
        )


Authorize = Callable[[Identity, Any], None]
"""`authorize` for one RPC: (identity, request) -> None, or PermissionDeniedError."""


def authorizer(method: str) -> Authorize:
    """`authorize` for one RPC with its table entry looked up once; refusals are `authorize`'s own."""
    rule = METHOD_SCOPES.get(method)
    if not isinstance(rule, str):  # not in the table, or a rule that reads the request
        return lambda identity, request: authorize(identity, method, request)

    def check(identity: Identity, request: Any) -> None:
        if rule not in identity.scopes and ADMIN not in identity.scopes:
            authorize(identity, method, request)

    return check
