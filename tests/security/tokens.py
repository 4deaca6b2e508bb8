"""Hostile and hand-made bearer tokens: another key, `alg: none`, HS256 keyed with the public key."""

from __future__ import annotations

import atexit
import base64
import functools
import hashlib
import hmac
import json
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization

from q2c_core.edge.auth.devkey import JWT_PRIVATE, TENANT_CLAIM, DevKey, create_dev_key
from tests import credentials

Metadata = tuple[tuple[str, str], ...]


@functools.cache
def other_dev_key() -> DevKey:
    """A second development key the test servers do not trust (removed at exit)."""
    directory = Path(tempfile.mkdtemp(prefix="q2c-untrusted-key-"))
    atexit.register(shutil.rmtree, directory, True)
    return create_dev_key(directory / "key")


def claims(
    tenant_id: str,
    principal: str = "mallory",
    scopes: Iterable[str] = ("admin",),
    *,
    now: float | None = None,
    ttl_seconds: float = 3600,
    key: DevKey | None = None,
) -> dict[str, Any]:
    """The claims DevKey.mint would sign, as a dict a test can then break."""
    key = key or credentials.dev_key()
    issued = time.time() if now is None else now
    return {
        "iss": key.issuer,
        "aud": key.audience,
        "sub": principal,
        TENANT_CLAIM: tenant_id,
        "scope": " ".join(scopes),
        "iat": int(issued),
        "nbf": int(issued),
        "exp": int(issued + ttl_seconds),
        "jti": uuid.uuid4().hex,
    }


def signed(payload: dict[str, Any], key: DevKey | None = None) -> str:
    """`payload` signed ES256 with a development key (the trusted one unless told otherwise)."""
    key = key or credentials.dev_key()
    private = serialization.load_pem_private_key((key.directory / JWT_PRIVATE).read_bytes(), None)
    return jwt.encode(payload, private, algorithm="ES256")  # type: ignore[arg-type]


def b64url(data: bytes) -> str:
    """Unpadded base64url, as JWS segments are written."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _segment(value: dict[str, Any]) -> str:
    return b64url(json.dumps(value, separators=(",", ":")).encode())


def unsigned(payload: dict[str, Any]) -> str:
    """An `alg: none` token: header, claims and an empty signature."""
    return f"{_segment({'alg': 'none', 'typ': 'JWT'})}.{_segment(payload)}."


def hmac_signed(payload: dict[str, Any], secret: bytes) -> str:
    """An HS256 token made by hand (PyJWT refuses a PEM key as an HMAC secret, attackers do not)."""
    signing_input = f"{_segment({'alg': 'HS256', 'typ': 'JWT'})}.{_segment(payload)}"
    digest = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(digest)}"


def bearer(token: str) -> Metadata:
    """Call metadata carrying `token`."""
    return (("authorization", f"Bearer {token}"),)


def authorization(value: str) -> Metadata:
    """Call metadata with a raw authorization header."""
    return (("authorization", value),)
