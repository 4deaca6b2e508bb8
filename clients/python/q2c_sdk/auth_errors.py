"""One exception class per reason the server gives for refusing a caller's credentials.

UNAUTHENTICATED: no credentials, or a token or client certificate that does not verify (get a
fresh token). PERMISSION_DENIED: the caller is known but may not do this (a missing scope,
or an `x-tenant-id` / `x-principal` hint that disagrees with the token). The SDK never retries
either.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from q2c_sdk.errors import PermissionDeniedError, Q2cError, UnauthenticatedError, UnavailableError

# -- UNAUTHENTICATED ----------------------------------------------------------------------------


class CredentialsMissingError(UnauthenticatedError):
    """CREDENTIALS_MISSING: the call carried no bearer token and no client certificate."""


class TokenInvalidError(UnauthenticatedError):
    """TOKEN_INVALID: the token is malformed, or `authorization` is not `Bearer <token>`."""


class TokenExpiredError(UnauthenticatedError):
    """TOKEN_EXPIRED: the token's `exp` has passed; get a fresh one."""


class TokenNotYetValidError(UnauthenticatedError):
    """TOKEN_NOT_YET_VALID: the token's `nbf` / `iat` is in the future (check clocks)."""


class TokenSignatureInvalidError(UnauthenticatedError):
    """TOKEN_SIGNATURE_INVALID: the token was not signed by a key the server trusts."""


class TokenIssuerInvalidError(UnauthenticatedError):
    """TOKEN_ISSUER_INVALID: the token's `iss` is not the issuer the server trusts."""


class TokenAudienceInvalidError(UnauthenticatedError):
    """TOKEN_AUDIENCE_INVALID: the token's `aud` is not this service."""


class TokenAlgorithmRefusedError(UnauthenticatedError):
    """TOKEN_ALGORITHM_REFUSED: the token's algorithm is not accepted (only ES256/RS256/EdDSA)."""


class TokenClaimMissingError(UnauthenticatedError):
    """TOKEN_CLAIM_MISSING: a required claim (`sub`, `q2c_tenant`, `exp` ...) is absent."""


class TokenClaimInvalidError(UnauthenticatedError):
    """TOKEN_CLAIM_INVALID: a claim has the wrong type (metadata `claim`)."""


class TokenKeyUnknownError(UnauthenticatedError):
    """TOKEN_KEY_UNKNOWN: no trusted key matches the token's `kid`."""


class CertificateUnmappedError(UnauthenticatedError):
    """CERTIFICATE_UNMAPPED: the client certificate names no known identity."""


# -- PERMISSION_DENIED --------------------------------------------------------------------------


class ScopeMissingError(PermissionDeniedError):
    """SCOPE_MISSING: the caller's token lacks a scope the method needs (metadata `scope`)."""

    @property
    def scope(self) -> str:
        """The missing scope(s), space-separated."""
        return self.metadata.get("scope", "")


class TenantMismatchError(PermissionDeniedError):
    """TENANT_MISMATCH: `x-tenant-id` names another tenant than the credentials (`claimed`)."""


class PrincipalMismatchError(PermissionDeniedError):
    """PRINCIPAL_MISMATCH: `x-principal` names another principal than the credentials."""


class SelfApprovalError(PermissionDeniedError):
    """SELF_APPROVAL: approving time entries or expenses the caller submitted (separation of duties)."""


# -- UNAVAILABLE --------------------------------------------------------------------------------


class JwksUnavailableError(UnavailableError):
    """JWKS_UNAVAILABLE: the server could not fetch its identity provider's keys; retry later."""


AUTH_REASON_CLASSES: Mapping[str, type[Q2cError]] = MappingProxyType(
    {
        "CREDENTIALS_MISSING": CredentialsMissingError,
        "TOKEN_INVALID": TokenInvalidError,
        "TOKEN_EXPIRED": TokenExpiredError,
        "TOKEN_NOT_YET_VALID": TokenNotYetValidError,
        "TOKEN_SIGNATURE_INVALID": TokenSignatureInvalidError,
        "TOKEN_ISSUER_INVALID": TokenIssuerInvalidError,
        "TOKEN_AUDIENCE_INVALID": TokenAudienceInvalidError,
        "TOKEN_ALGORITHM_REFUSED": TokenAlgorithmRefusedError,
        "TOKEN_CLAIM_MISSING": TokenClaimMissingError,
        "TOKEN_CLAIM_INVALID": TokenClaimInvalidError,
        "TOKEN_KEY_UNKNOWN": TokenKeyUnknownError,
        "CERTIFICATE_UNMAPPED": CertificateUnmappedError,
        "SCOPE_MISSING": ScopeMissingError,
        "TENANT_MISMATCH": TenantMismatchError,
        "PRINCIPAL_MISMATCH": PrincipalMismatchError,
        "SELF_APPROVAL": SelfApprovalError,
        "JWKS_UNAVAILABLE": JwksUnavailableError,
    }
)
"""Credential reasons -> exception class (merged into `REASON_CLASSES`)."""
