"""The authenticator: bearer header parsing, the certificate fallback, asserted tenant/principal."""

from __future__ import annotations

import pytest
from cryptography import x509

from q2c_core.domain.errors import PermissionDeniedError, UnauthenticatedError
from q2c_core.edge.auth.authenticator import Authenticator, TrustingAuthenticator, check_asserted
from q2c_core.edge.auth.identity import Identity
from q2c_core.edge.auth.jwt_verifier import JwtVerifier
from q2c_core.edge.auth.mtls import CertificateMapper
from tests import credentials
from tests.security.pki import certificate_with

SPIFFE = "spiffe://q2c.test/tenant/certs/principal/robot"


def _tokens() -> JwtVerifier:
    key = credentials.dev_key()
    return JwtVerifier(issuer=key.issuer, audience=key.audience, public_key_file=key.jwt_public_key_file)


def _reason(authenticator: Authenticator, metadata: dict[str, str], certificate: bytes | None = None) -> str:
    with pytest.raises(UnauthenticatedError) as refused:
        authenticator.authenticate(metadata, certificate)
    return refused.value.reason


def test_an_authenticator_needs_a_way_in() -> None:
    with pytest.raises(ValueError, match="needs a token verifier or a certificate mapper"):
        Authenticator()


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER"])
def test_the_bearer_scheme_is_case_insensitive(scheme: str) -> None:
    header = f"{scheme} {credentials.token('acme', 'alice')}"
    assert Authenticator(_tokens()).authenticate({"authorization": header}, None).tenant_id == "acme"


@pytest.mark.parametrize("header", ["Bearer", "Bearer    ", "Token abc", "abc", "Basic YTpi"])
def test_an_authorization_header_that_is_not_bearer_token_is_invalid(header: str) -> None:
    assert _reason(Authenticator(_tokens()), {"authorization": header}) == "TOKEN_INVALID"


def test_no_header_and_no_certificate_is_credentials_missing() -> None:
    assert _reason(Authenticator(_tokens()), {}) == "CREDENTIALS_MISSING"
    assert _reason(Authenticator(_tokens()), {"authorization": "   "}) == "CREDENTIALS_MISSING"


def test_a_certificate_is_used_when_no_token_is_sent() -> None:
    authenticator = Authenticator(_tokens(), CertificateMapper(default_scopes=["customers:read"]))
    identity = authenticator.authenticate({}, certificate_with(x509.UniformResourceIdentifier(SPIFFE)))
    assert (identity.tenant_id, identity.principal, identity.method) == ("certs", "robot", "mtls")


def test_a_certificate_is_ignored_without_a_mapper() -> None:
    certificate = certificate_with(x509.UniformResourceIdentifier(SPIFFE))
    assert _reason(Authenticator(_tokens()), {}, certificate) == "CREDENTIALS_MISSING"


def test_a_sent_token_is_checked_even_when_a_certificate_would_do() -> None:
    authenticator = Authenticator(_tokens(), CertificateMapper(default_scopes=["admin"]))
    certificate = certificate_with(x509.UniformResourceIdentifier(SPIFFE))
    assert _reason(authenticator, {"authorization": "Bearer forged"}, certificate) == "TOKEN_INVALID"


def test_a_certificate_only_authenticator_refuses_tokens() -> None:
    authenticator = Authenticator(certificates=CertificateMapper())
    header = {"authorization": f"Bearer {credentials.token('acme')}"}
    assert _reason(authenticator, header) == "TOKEN_INVALID"


def _alice() -> Identity:
    return Identity("acme", "alice", frozenset({"admin"}), "jwt")


@pytest.mark.parametrize(
    "metadata",
    [{}, {"x-tenant-id": "acme"}, {"x-principal": " alice "}, {"x-tenant-id": "", "x-principal": ""}],
)
def test_hints_that_agree_or_are_absent_pass(metadata: dict[str, str]) -> None:
    check_asserted(metadata.items(), _alice())


@pytest.mark.parametrize(
    ("metadata", "reason"),
    [({"x-tenant-id": "globex"}, "TENANT_MISMATCH"), ({"x-principal": "mallory"}, "PRINCIPAL_MISMATCH")],
)
def test_hints_that_disagree_are_refused(metadata: dict[str, str], reason: str) -> None:
    with pytest.raises(PermissionDeniedError) as refused:
        check_asserted(metadata.items(), _alice())
    assert refused.value.reason == reason


def test_a_repeated_hint_is_refused_when_any_of_its_values_disagrees() -> None:
    pairs = [("x-tenant-id", "acme"), ("x-tenant-id", "globex")]
    with pytest.raises(PermissionDeniedError) as refused:
        check_asserted(pairs, _alice())
    assert refused.value.reason == "TENANT_MISMATCH"


def test_auth_none_trusts_the_hints_or_falls_back_to_defaults() -> None:
    trusting = TrustingAuthenticator()
    named = trusting.authenticate({"x-tenant-id": "globex", "x-principal": "bob"}, None)
    assert (named.tenant_id, named.principal, named.scopes, named.method) == (
        "globex",
        "bob",
        {"admin"},
        "none",
    )
    anonymous = trusting.authenticate({}, None)
    assert (anonymous.tenant_id, anonymous.principal) == ("default", "anonymous")
