"""What a client proves about itself: a bearer token per call, TLS (and mTLS) for the channel.

A q2c server decides the caller's tenant and principal from the token (or client certificate);
`x-tenant-id` / `x-principal` are only hints that must agree with it.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path

import grpc

AUTHORIZATION_KEY = "authorization"
"""Call metadata key of the bearer token."""

TokenProvider = Callable[[], str]
"""Returns the token to send with the next call (e.g. from an identity provider's cache)."""


def bearer_value(token: str) -> str:
    """`Bearer <token>`; a token already carrying the scheme is sent as it is."""
    token = token.strip()
    scheme, _, rest = token.partition(" ")
    return token if scheme.lower() == "bearer" and rest.strip() else f"Bearer {token}"


class TokenFile:
    """A token kept in a file, re-read whenever the file changes (so rotation is picked up)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._seen: tuple[int, int, int] | None = None
        self._token = ""

    def __call__(self) -> str:
        """The file's current token (whitespace stripped); OSError when it cannot be read."""
        status = self.path.stat()
        version = (status.st_ino, status.st_mtime_ns, status.st_size)
        with self._lock:
            if version != self._seen:
                self._token = self.path.read_text().strip()
                self._seen = version
            if not self._token:
                raise ValueError(f"token file {self.path} is empty")
            return self._token


def token_source(
    token: str | None = None,
    token_file: str | os.PathLike[str] | None = None,
    token_provider: TokenProvider | None = None,
) -> TokenProvider | None:
    """One way to get the token for each call, from at most one of the three options."""
    given = [option for option in (token, token_file, token_provider) if option is not None]
    if len(given) > 1:
        raise ValueError("give at most one of token, token_file and token_provider")
    if token is not None:
        if not token.strip():
            raise ValueError("token is empty")
        fixed = token.strip()
        return lambda: fixed
    if token_file is not None:
        return TokenFile(token_file)
    return token_provider


def authorization_metadata(source: TokenProvider | None) -> tuple[tuple[str, str], ...]:
    """The `authorization` metadata of the next call; none without a token source."""
    if source is None:
        return ()
    return ((AUTHORIZATION_KEY, bearer_value(source())),)


def _read(path: str | os.PathLike[str] | None) -> bytes | None:
    return Path(path).read_bytes() if path is not None else None


def tls_credentials(
    *,
    root_certificates: bytes | None = None,
    tls_ca_file: str | os.PathLike[str] | None = None,
    tls_cert_file: str | os.PathLike[str] | None = None,
    tls_key_file: str | os.PathLike[str] | None = None,
) -> grpc.ChannelCredentials | None:
    """TLS channel credentials from PEM bytes or files; None when no TLS option is given.

    The CA (bytes or file) verifies the server; without one the system's roots do. A client
    certificate and key together turn on mTLS.
    """
    if root_certificates is not None and tls_ca_file is not None:
        raise ValueError("give root_certificates or tls_ca_file, not both")
    if (tls_cert_file is None) != (tls_key_file is None):
        raise ValueError("tls_cert_file and tls_key_file go together")
    if root_certificates is None and tls_ca_file is None and tls_cert_file is None:
        return None
    return grpc.ssl_channel_credentials(
        root_certificates=root_certificates if root_certificates is not None else _read(tls_ca_file),
        private_key=_read(tls_key_file),
        certificate_chain=_read(tls_cert_file),
    )
