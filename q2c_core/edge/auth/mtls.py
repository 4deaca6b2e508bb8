"""Client certificates as identities: a verified certificate's SAN names tenant and principal.

The TLS layer has already verified the chain against `--tls-client-ca-file`; this only maps
the certificate to a caller: through a mapping file, else a SPIFFE id of the form
`spiffe://<trust domain>/tenant/<tenant>/principal/<principal>` with the default scopes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509

from q2c_core.domain.errors import UnauthenticatedError
from q2c_core.edge.auth.identity import Identity

SPIFFE_ID = re.compile(r"^spiffe://[^/]+/tenant/(?P<tenant>[^/]+)/principal/(?P<principal>[^/]+)$")


@dataclass(frozen=True, slots=True)
class MappedIdentity:
    """One entry of the mapping file."""

    tenant_id: str
    principal: str
    scopes: frozenset[str]


def load_mapping(path: Path) -> dict[str, MappedIdentity]:
    """Read `{"<SAN>": {"tenant": ..., "principal": ..., "scopes": [...]}, ...}`."""
    raw = json.loads(path.read_text())
    return {
        san: MappedIdentity(entry["tenant"], entry["principal"], frozenset(entry.get("scopes", ())))
        for san, entry in raw.items()
    }


def subject_alternative_names(pem: bytes) -> list[str]:
    """The URI, DNS and e-mail SANs of a PEM certificate, URIs first."""
    certificate = x509.load_pem_x509_certificate(pem)
    try:
        extension = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return []
    names = extension.value
    return [
        *names.get_values_for_type(x509.UniformResourceIdentifier),
        *names.get_values_for_type(x509.DNSName),
        *names.get_values_for_type(x509.RFC822Name),
    ]


class CertificateMapper:
    """Turns a verified client certificate into an Identity."""

    def __init__(
        self, mapping: dict[str, MappedIdentity] | None = None, default_scopes: Iterable[str] = ()
    ) -> None:
        self.mapping = mapping or {}
        self.default_scopes = frozenset(default_scopes)

    def identify(self, pem: bytes) -> Identity:
        """The caller the certificate names; CERTIFICATE_UNMAPPED when it names none."""
        names = subject_alternative_names(pem)
        for name in names:
            entry = self.mapping.get(name)
            if entry is not None:
                return Identity(entry.tenant_id, entry.principal, entry.scopes, "mtls")
        for name in names:
            match = SPIFFE_ID.match(name)
            if match:
                return Identity(match["tenant"], match["principal"], self.default_scopes, "mtls")
        raise UnauthenticatedError(
            "CERTIFICATE_UNMAPPED",
            "the client certificate names no known identity",
            {"subject_alternative_names": ",".join(names)},
        )
