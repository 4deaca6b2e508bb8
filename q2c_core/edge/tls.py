"""Server TLS from PEM files, re-read when they change (certificate rotation without restart)."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import grpc

from q2c_core.edge.security import TlsFiles

log = logging.getLogger(__name__)


class ReloadingTlsConfig:
    """Hands grpc the current certificate; a new one once any of the files has changed.

    grpc calls `fetch` on each new TLS handshake; returning None keeps the current
    configuration, so the files are re-read only when their modification time or size moves.
    """

    def __init__(self, files: TlsFiles) -> None:
        self.files = files
        self._stamp = self._signature()

    def _paths(self) -> list[Path]:
        ca = [self.files.client_ca_file] if self.files.client_ca_file else []
        return [self.files.cert_file, self.files.key_file, *ca]

    def _signature(self) -> tuple[tuple[int, int], ...]:
        stats = [os.stat(path) for path in self._paths()]
        return tuple((stat.st_mtime_ns, stat.st_size) for stat in stats)

    def configuration(self) -> grpc.ServerCertificateConfiguration:
        """The certificate configuration as the files hold it now."""
        files = self.files
        client_ca = files.client_ca_file.read_bytes() if files.client_ca_file else None
        return grpc.ssl_server_certificate_configuration(
            [(files.key_file.read_bytes(), files.cert_file.read_bytes())], root_certificates=client_ca
        )

    def fetch(self) -> grpc.ServerCertificateConfiguration | None:
        """A new configuration when the files changed since the last one, else None."""
        try:
            stamp = self._signature()
            if stamp == self._stamp:
                return None
            configuration = self.configuration()
        except (OSError, ValueError) as error:
            log.warning("TLS files unreadable, keeping the current certificate: %s", error)
            return None
        self._stamp = stamp
        log.info("TLS certificate reloaded from %s", self.files.cert_file)
        return configuration


def server_credentials(files: TlsFiles) -> grpc.ServerCredentials:
    """TLS credentials; with a client CA, a verified client certificate is required (mTLS)."""
    config = ReloadingTlsConfig(files)
    return grpc.dynamic_ssl_server_credentials(
        config.configuration(), config.fetch, require_client_authentication=files.client_ca_file is not None
    )
