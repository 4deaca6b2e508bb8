"""What the gateway trusts and how it listens: the authenticator, the security log, TLS files."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import jwt

from q2c_core.app.audit.anchor import CheckpointSigner
from q2c_core.edge.auth.authenticator import Authenticator, CallAuthenticator, TrustingAuthenticator
from q2c_core.edge.auth.devkey import DevKey, create_dev_key
from q2c_core.edge.auth.jwt_verifier import JwtVerifier
from q2c_core.edge.auth.mtls import CertificateMapper, load_mapping
from q2c_core.edge.auth.security_log import SecurityLog

if TYPE_CHECKING:
    from q2c_core.app.ports import SecurityEventSink
    from q2c_core.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class TlsFiles:
    """PEM files of the server's certificate chain and key; a client CA turns on mTLS."""

    cert_file: Path
    key_file: Path
    client_ca_file: Path | None = None


@dataclass(frozen=True, slots=True)
class GatewaySecurity:
    """Who the gateway lets in (`authenticator`), where refusals go, and whether it speaks TLS."""

    authenticator: CallAuthenticator
    security_log: SecurityLog | None = None
    tls: TlsFiles | None = None
    audit_signer: CheckpointSigner | None = None
    """Signs audit checkpoints (and verifies them); None: CreateAuditCheckpoint is refused."""


def security_from_dev_key(
    key: DevKey, store: SecurityEventSink | None = None, tls: TlsFiles | None = None
) -> GatewaySecurity:
    """Trust tokens minted from a development key (`q2c auth dev-key`)."""
    verifier = JwtVerifier(issuer=key.issuer, audience=key.audience, public_key_file=key.jwt_public_key_file)
    log = SecurityLog(store) if store is not None else None
    signer = CheckpointSigner.from_files(key.audit_signing_key_file)
    return GatewaySecurity(Authenticator(tokens=verifier), log, tls, signer)


DEFAULT_LOCAL_DEV_KEY_DIR = Path(".q2c/dev-key")


class SecuritySettingsError(ValueError):
    """The settings name no way for callers to authenticate, or half a TLS configuration."""


def _tls(settings: Settings) -> TlsFiles | None:
    if settings.tls_cert_file is None and settings.tls_key_file is None:
        if settings.tls_client_ca_file is not None:
            raise SecuritySettingsError("--tls-client-ca-file needs --tls-cert-file and --tls-key-file")
        return None
    if settings.tls_cert_file is None or settings.tls_key_file is None:
        raise SecuritySettingsError("give both --tls-cert-file and --tls-key-file")
    return TlsFiles(settings.tls_cert_file, settings.tls_key_file, settings.tls_client_ca_file)


def _dev_key_dir(settings: Settings) -> Path | None:
    """The development key to trust: --dev-key-dir, or .q2c/dev-key under --local."""
    if settings.dev_key_dir is not None:
        return settings.dev_key_dir
    return DEFAULT_LOCAL_DEV_KEY_DIR if settings.local else None


def _audit_signer(settings: Settings) -> CheckpointSigner | None:
    """--audit-signing-key-file, else the development key's audit key, else none."""
    retired = [Path(p.strip()) for p in settings.audit_retired_public_key_files.split(",") if p.strip()]
    key_file = settings.audit_signing_key_file
    directory = _dev_key_dir(settings)
    if key_file is None and directory is not None and settings.auth != "none":
        key_file = create_dev_key(directory).audit_signing_key_file
    if key_file is None:
        log.warning("no --audit-signing-key-file: audit checkpoints cannot be signed")
        return None
    return CheckpointSigner.from_files(key_file, retired)


def _token_verifier(settings: Settings) -> JwtVerifier | None:
    if settings.jwt_public_key_file is not None or settings.jwt_jwks is not None:
        if not settings.jwt_issuer:
            raise SecuritySettingsError("--jwt-issuer is required with --jwt-public-key-file or --jwt-jwks")
        return JwtVerifier(
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            public_key_file=settings.jwt_public_key_file,
            jwks=settings.jwt_jwks,
            leeway_seconds=settings.jwt_leeway_seconds,
        )
    directory = _dev_key_dir(settings)
    if directory is None:
        return None
    key = create_dev_key(directory)
    log.warning("trusting the DEVELOPMENT key in %s (q2c auth token --dev-key-dir %s)", directory, directory)
    return JwtVerifier(
        issuer=key.issuer,
        audience=key.audience,
        public_key_file=key.jwt_public_key_file,
        leeway_seconds=settings.jwt_leeway_seconds,
    )


def _certificate_mapper(settings: Settings, tls: TlsFiles | None) -> CertificateMapper | None:
    if tls is None or tls.client_ca_file is None:
        return None
    mapping = load_mapping(settings.mtls_identity_map_file) if settings.mtls_identity_map_file else None
    return CertificateMapper(mapping, settings.mtls_default_scopes.split())


def security_from_settings(settings: Settings, store: SecurityEventSink | None) -> GatewaySecurity:
    """The gateway's security as configured; fails closed when no way in is configured.

    Raises SecuritySettingsError (naming the problem) for missing ways in, half a TLS
    configuration, or key, certificate and JWKS files that cannot be read.
    """
    try:
        return _security(settings, store)
    except SecuritySettingsError:
        raise
    except (OSError, ValueError, jwt.PyJWTError) as error:
        raise SecuritySettingsError(f"cannot load the security configuration: {error}") from error


def _security(settings: Settings, store: SecurityEventSink | None) -> GatewaySecurity:
    tls = _tls(settings)
    log_ = SecurityLog(store, rate=settings.security_events_per_second) if store is not None else None
    if settings.auth == "none":
        log.warning("AUTHENTICATION IS OFF (--auth none): every caller is trusted; development only")
        return GatewaySecurity(TrustingAuthenticator(), log_, tls, _audit_signer(settings))
    tokens, certificates = _token_verifier(settings), _certificate_mapper(settings, tls)
    if tokens is None and certificates is None:
        raise SecuritySettingsError(
            "authentication is required: give --jwt-public-key-file or --jwt-jwks (with --jwt-issuer), "
            "--dev-key-dir, or --tls-client-ca-file; --auth none turns it off (development only)"
        )
    if tls is None:
        log.warning("serving PLAINTEXT gRPC: give --tls-cert-file and --tls-key-file to encrypt")
    return GatewaySecurity(Authenticator(tokens, certificates), log_, tls, _audit_signer(settings))
