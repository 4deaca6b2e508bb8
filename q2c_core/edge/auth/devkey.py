"""Development keys: a local issuer that mints q2c tokens, and an audit signing key.

`q2c auth dev-key` writes one directory; `q2c serve --dev-key-dir DIR` trusts it and `q2c auth
token` mints tokens from it. For development, tests and the demo only: production trusts a
real identity provider (issuer, audience, JWKS).
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

DEV_ISSUER = "q2c-dev"
DEV_AUDIENCE = "q2c"
DEV_ALGORITHM = "ES256"
JWT_PRIVATE = "jwt-signing-key.pem"
JWT_PUBLIC = "jwt-public-key.pem"
AUDIT_PRIVATE = "audit-signing-key.pem"
AUDIT_PUBLIC = "audit-public-key.pem"
MANIFEST = "dev-key.json"
DEFAULT_TTL_SECONDS = 3600
TENANT_CLAIM = "q2c_tenant"


@dataclass(frozen=True, slots=True)
class DevKey:
    """A development key directory: where its files are and what tokens it mints."""

    directory: Path
    issuer: str = DEV_ISSUER
    audience: str = DEV_AUDIENCE

    @property
    def jwt_public_key_file(self) -> Path:
        """The PEM public key a server verifies tokens with."""
        return self.directory / JWT_PUBLIC

    @property
    def audit_signing_key_file(self) -> Path:
        """The Ed25519 private key that signs audit checkpoints."""
        return self.directory / AUDIT_PRIVATE

    @property
    def audit_public_key_file(self) -> Path:
        """The Ed25519 public key a verifier of exported checkpoints trusts."""
        return self.directory / AUDIT_PUBLIC

    def mint(
        self,
        tenant_id: str,
        principal: str,
        scopes: Iterable[str] = ("admin",),
        *,
        ttl_seconds: float = DEFAULT_TTL_SECONDS,
        now: float | None = None,
    ) -> str:
        """A signed ES256 token for `principal` in `tenant_id` with `scopes`."""
        private_key = serialization.load_pem_private_key((self.directory / JWT_PRIVATE).read_bytes(), None)
        issued = time.time() if now is None else now
        claims = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": principal,
            TENANT_CLAIM: tenant_id,
            "scope": " ".join(scopes),
            "iat": int(issued),
            "nbf": int(issued),
            "exp": int(issued + ttl_seconds),
            "jti": uuid.uuid4().hex,
        }
        return jwt.encode(claims, private_key, algorithm=DEV_ALGORITHM)  # type: ignore[arg-type]


def _write(path: Path, data: bytes, private: bool) -> None:
    path.write_bytes(data)
    if private:
        os.chmod(path, 0o600)


def _pem_private(key: ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _pem_public(key: ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def create_dev_key(directory: Path, *, replace: bool = False) -> DevKey:
    """Write a fresh key pair for tokens and one for audit checkpoints (kept unless `replace`)."""
    if (directory / MANIFEST).exists() and not replace:
        return load_dev_key(directory)
    directory.mkdir(parents=True, exist_ok=True)
    os.chmod(directory, 0o700)
    token_key = ec.generate_private_key(ec.SECP256R1())
    audit_key = ed25519.Ed25519PrivateKey.generate()
    _write(directory / JWT_PRIVATE, _pem_private(token_key), True)
    _write(directory / JWT_PUBLIC, _pem_public(token_key), False)
    _write(directory / AUDIT_PRIVATE, _pem_private(audit_key), True)
    _write(directory / AUDIT_PUBLIC, _pem_public(audit_key), False)
    manifest = {"issuer": DEV_ISSUER, "audience": DEV_AUDIENCE, "algorithm": DEV_ALGORITHM}
    _write(directory / MANIFEST, json.dumps(manifest, indent=2).encode() + b"\n", False)
    return DevKey(directory)


def load_dev_key(directory: Path) -> DevKey:
    """The development key in `directory` (FileNotFoundError when there is none)."""
    manifest = json.loads((directory / MANIFEST).read_text())
    return DevKey(directory, issuer=manifest["issuer"], audience=manifest["audience"])
