"""`Q2cClient`: the synchronous q2c client, one typed method per RPC of every q2c.v1 service."""

from __future__ import annotations

import os
from collections.abc import Sequence
from types import TracebackType
from typing import Any

import grpc

from q2c_sdk.audit import AuditMethods
from q2c_sdk.billing import BillingMethods
from q2c_sdk.business_exceptions import ExceptionMethods
from q2c_sdk.credentials import TokenProvider, tls_credentials, token_source
from q2c_sdk.customers import CustomerMethods
from q2c_sdk.deliveries import DeliveryMethods
from q2c_sdk.engagements import EngagementMethods
from q2c_sdk.events import EventMethods
from q2c_sdk.rate_cards import RateCardMethods
from q2c_sdk.reconciliation import ReconciliationMethods
from q2c_sdk.reporting import ReportingMethods
from q2c_sdk.retry import RetryPolicy
from q2c_sdk.stubs import Stubs
from q2c_sdk.transport import Metadata, Transport

DEFAULT_DEADLINE_SECONDS = 30.0
"""Deadline of every call (retries included) unless the client or the call says otherwise."""

CHANNEL_OPTIONS: tuple[tuple[str, Any], ...] = (("grpc.enable_retries", 0),)
"""The SDK retries itself (with request_id rules grpcio's service config cannot express), so the
channel's own retries are off: two retry layers would multiply attempts."""


class Q2cClient(
    CustomerMethods,
    RateCardMethods,
    EngagementMethods,
    BillingMethods,
    ExceptionMethods,
    AuditMethods,
    EventMethods,
    DeliveryMethods,
    ReconciliationMethods,
    ReportingMethods,
):
    """A q2c client over one channel; thread-safe, reuse one per process and target.

    Every method takes the request message and keyword `CallOptions` (`timeout`,
    `correlation_id`, `metadata`); mutations also take `request_id` (see `MutationOptions`).
    Each returns the response message or raises a `Q2cError` subclass.

    Credentials: give one of `token`, `token_file` or `token_provider`, and every call carries
    `authorization: Bearer <token>`; the server takes the caller's tenant and principal from it.
    UNAUTHENTICATED and PERMISSION_DENIED raise `UnauthenticatedError` / `PermissionDeniedError`
    (subclassed per reason, e.g. `TokenExpiredError`, `ScopeMissingError`) and are never retried.

    Args:
        target: "host:port" of the q2c server (ignored when `channel` is given).
        token: a bearer token (e.g. from `q2c auth token`).
        token_file: a file holding the token, re-read whenever it changes (rotation).
        token_provider: called before every call for the current token.
        root_certificates: PEM CA bundle that verifies the server (turns TLS on).
        tls_ca_file: the same, from a file.
        tls_cert_file: client certificate (PEM) for mTLS, with `tls_key_file` (turns TLS on).
        tls_key_file: the client certificate's private key (PEM).
        tenant_id: optional hint, sent as `x-tenant-id` only when given; it must match the
            token's tenant (else PERMISSION_DENIED, TENANT_MISMATCH).
        principal: optional hint, sent as `x-principal` only when given (PRINCIPAL_MISMATCH).
        deadline: default deadline in seconds of each call, retries included.
        retries: the retry policy (UNAVAILABLE only, by default).
        channel: an existing channel (e.g. `grpc_testing.channel(...)`); the client does not
            close it. Without one the client opens an insecure channel, or a TLS one when
            `credentials` or a TLS option is given, and owns it.
        credentials: ready-made channel credentials for the channel the client opens (instead
            of the TLS options).
        correlation_id: sent as `x-correlation-id` on every call; None = a fresh one per call.
        metadata: extra metadata sent on every call.
        options: extra channel options for the channel the client opens.
    """

    def __init__(
        self,
        target: str = "",
        *,
        token: str | None = None,
        token_file: str | os.PathLike[str] | None = None,
        token_provider: TokenProvider | None = None,
        root_certificates: bytes | None = None,
        tls_ca_file: str | os.PathLike[str] | None = None,
        tls_cert_file: str | os.PathLike[str] | None = None,
        tls_key_file: str | os.PathLike[str] | None = None,
        tenant_id: str | None = None,
        principal: str | None = None,
        deadline: float = DEFAULT_DEADLINE_SECONDS,
        retries: RetryPolicy | None = None,
        channel: grpc.Channel | None = None,
        credentials: grpc.ChannelCredentials | None = None,
        correlation_id: str | None = None,
        metadata: Metadata = (),
        options: Sequence[tuple[str, Any]] = (),
    ) -> None:
        if channel is None and not target:
            raise ValueError("give a target ('host:port') or a channel")
        tls = tls_credentials(
            root_certificates=root_certificates,
            tls_ca_file=tls_ca_file,
            tls_cert_file=tls_cert_file,
            tls_key_file=tls_key_file,
        )
        if tls is not None and credentials is not None:
            raise ValueError("give credentials or the TLS options, not both")
        tokens = token_source(token, token_file, token_provider)
        self._owned = channel is None
        self.channel: grpc.Channel = (
            channel if channel is not None else _open(target, credentials or tls, options)
        )
        self._stubs = Stubs.on(self.channel)
        self._transport = Transport(
            tenant_id=tenant_id,
            principal=principal,
            deadline=deadline,
            retries=retries if retries is not None else RetryPolicy(),
            correlation_id=correlation_id,
            metadata=metadata,
            token=tokens,
        )

    @property
    def tenant_id(self) -> str | None:
        """The tenant hint sent as `x-tenant-id` (None: the token alone decides)."""
        return self._transport.tenant_id

    @property
    def principal(self) -> str | None:
        """The principal hint sent as `x-principal` (None: the token alone decides)."""
        return self._transport.principal

    def close(self) -> None:
        """Close the channel when the client opened it (a given channel stays open)."""
        if self._owned:
            self.channel.close()

    def __enter__(self) -> Q2cClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def _open(
    target: str, credentials: grpc.ChannelCredentials | None, options: Sequence[tuple[str, Any]]
) -> grpc.Channel:
    merged = [*CHANNEL_OPTIONS, *options]
    if credentials is not None:
        return grpc.secure_channel(target, credentials, options=merged)
    return grpc.insecure_channel(target, options=merged)
