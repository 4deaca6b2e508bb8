"""Certificates the shared PKI helper cannot make: a second CA's clients with arbitrary SANs."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _builder(
    subject: x509.Name, issuer: x509.Name, key: ec.EllipticCurvePublicKey
) -> x509.CertificateBuilder:
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
    )


def pem(certificate: x509.Certificate) -> bytes:
    """A certificate as PEM."""
    return certificate.public_bytes(serialization.Encoding.PEM)


def key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    """A private key as unencrypted PKCS#8 PEM."""
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


@dataclass(frozen=True)
class Authority:
    """A throwaway CA that issues client certificates with whatever SANs a test needs."""

    certificate: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    @classmethod
    def create(cls, common_name: str = "q2c security test CA") -> Authority:
        """A fresh self-signed CA."""
        key = ec.generate_private_key(ec.SECP256R1())
        name = _name(common_name)
        certificate = (
            _builder(name, name, key.public_key())
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .sign(key, hashes.SHA256())
        )
        return cls(certificate, key)

    def client(self, sans: list[x509.GeneralName], directory: Path, stem: str) -> tuple[Path, Path]:
        """Write a client certificate with `sans` (and its key); return (cert file, key file)."""
        key = ec.generate_private_key(ec.SECP256R1())
        builder = _builder(_name(stem), self.certificate.subject, key.public_key())
        if sans:
            builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
        certificate = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False
        ).sign(self.key, hashes.SHA256())
        cert_file, key_file = directory / f"{stem}.pem", directory / f"{stem}-key.pem"
        cert_file.write_bytes(pem(certificate))
        key_file.write_bytes(key_pem(key))
        return cert_file, key_file


def certificate_with(*sans: x509.GeneralName) -> bytes:
    """A self-signed PEM certificate carrying `sans` (the mapper trusts the TLS layer's chain check)."""
    key = ec.generate_private_key(ec.SECP256R1())
    builder = _builder(_name("subject"), _name("subject"), key.public_key())
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(list(sans)), critical=False)
    return pem(builder.sign(key, hashes.SHA256()))


def serial_of(der: bytes) -> int:
    """The serial number of a DER certificate (what ssl's getpeercert(binary_form=True) gives)."""
    return x509.load_der_x509_certificate(der).serial_number


def serial_of_file(path: Path) -> int:
    """The serial number of a PEM certificate file."""
    return x509.load_pem_x509_certificate(path.read_bytes()).serial_number
