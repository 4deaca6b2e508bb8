"""Client certificates as callers: the mapping file first, then a SPIFFE id, else CERTIFICATE_UNMAPPED."""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path

import pytest
from cryptography import x509

from q2c_core.domain.errors import UnauthenticatedError
from q2c_core.edge.auth.mtls import (
    SPIFFE_ID,
    CertificateMapper,
    MappedIdentity,
    load_mapping,
    subject_alternative_names,
)
from tests.security.pki import certificate_with

ALICE = "spiffe://q2c.test/tenant/acme/principal/alice"


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        (ALICE, ("acme", "alice")),
        ("spiffe://prod.example.org/tenant/t-1/principal/svc-erp", ("t-1", "svc-erp")),
    ],
)
def test_a_spiffe_id_names_tenant_and_principal(uri: str, expected: tuple[str, str]) -> None:
    match = SPIFFE_ID.match(uri)
    assert match is not None and (match["tenant"], match["principal"]) == expected


@pytest.mark.parametrize(
    "uri",
    [
        "spiffe://q2c.test/tenant/acme/principal/alice/extra",
        "spiffe://q2c.test/principal/alice/tenant/acme",
        "spiffe://q2c.test/tenant/acme",
        "spiffe://q2c.test/tenant//principal/alice",
        "spiffe:///tenant/acme/principal/alice",
        "https://q2c.test/tenant/acme/principal/alice",
        "x" + ALICE,
    ],
)
def test_anything_else_is_not_a_q2c_spiffe_id(uri: str) -> None:
    assert SPIFFE_ID.match(uri) is None


def test_a_spiffe_certificate_is_its_tenant_and_principal_with_the_default_scopes() -> None:
    mapper = CertificateMapper(default_scopes=["customers:read"])
    identity = mapper.identify(certificate_with(x509.UniformResourceIdentifier(ALICE)))
    assert (identity.tenant_id, identity.principal, identity.scopes) == ("acme", "alice", {"customers:read"})
    assert (identity.method, identity.expires_at) == ("mtls", None)


def test_the_mapping_wins_over_the_spiffe_id() -> None:
    mapping = {ALICE: MappedIdentity("other", "robot", frozenset({"billing:read"}))}
    identity = CertificateMapper(mapping, ["customers:read"]).identify(
        certificate_with(x509.UniformResourceIdentifier(ALICE))
    )
    assert (identity.tenant_id, identity.principal, identity.scopes) == ("other", "robot", {"billing:read"})


def test_a_dns_name_can_be_mapped() -> None:
    mapping = {"erp.internal": MappedIdentity("acme", "erp", frozenset())}
    identity = CertificateMapper(mapping).identify(certificate_with(x509.DNSName("erp.internal")))
    assert (identity.tenant_id, identity.principal, identity.scopes) == ("acme", "erp", frozenset())


@pytest.mark.parametrize(
    ("names", "listed"),
    [
        ((), ""),
        (
            (x509.UniformResourceIdentifier("spiffe://q2c.test/workload/robot"),),
            "spiffe://q2c.test/workload/robot",
        ),
        ((x509.IPAddress(ipaddress.ip_address("10.0.0.1")),), ""),
    ],
    ids=["no-san", "other-spiffe-shape", "ip-only"],
)
def test_a_certificate_naming_nobody_is_unmapped(names: tuple[x509.GeneralName, ...], listed: str) -> None:
    with pytest.raises(UnauthenticatedError) as refused:
        CertificateMapper(default_scopes=["admin"]).identify(certificate_with(*names))
    assert refused.value.reason == "CERTIFICATE_UNMAPPED"
    assert refused.value.metadata == {"subject_alternative_names": listed}


def test_sans_are_read_uris_first() -> None:
    pem = certificate_with(
        x509.DNSName("a.example"), x509.RFC822Name("ops@example.com"), x509.UniformResourceIdentifier(ALICE)
    )
    assert subject_alternative_names(pem) == [ALICE, "a.example", "ops@example.com"]


def test_the_mapping_file_gives_tenant_principal_and_optional_scopes(tmp_path: Path) -> None:
    path = tmp_path / "identities.json"
    path.write_text(
        json.dumps(
            {
                ALICE: {"tenant": "acme", "principal": "alice", "scopes": ["customers:read", "billing:read"]},
                "erp.internal": {"tenant": "acme", "principal": "erp"},
            }
        )
    )
    assert load_mapping(path) == {
        ALICE: MappedIdentity("acme", "alice", frozenset({"customers:read", "billing:read"})),
        "erp.internal": MappedIdentity("acme", "erp", frozenset()),
    }
