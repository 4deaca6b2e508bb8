"""`Q2cClient`: the synchronous q2c client, one typed method per RPC of every q2c.v1 service."""

from __future__ import annotations

from collections.abc import Sequence
from types import TracebackType
from typing import Any

import grpc

from q2c_sdk.audit import AuditMethods
from q2c_sdk.billing import BillingMethods
from q2c_sdk.business_exceptions import ExceptionMethods
from q2c_sdk.customers import CustomerMethods
from q2c_sdk.deliveries import DeliveryMethods
from q2c_sdk.engagements import EngagementMethods
from q2c_sdk.events import EventMethods
from q2c_sdk.rate_cards import RateCardMethods
from q2c_sdk.reconciliation import ReconciliationMethods
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
):
    """A q2c client over one channel; thread-safe, reuse one per process and target.

    Every method takes the request message and keyword `CallOptions` (`timeout`,
    `correlation_id`, `metadata`); mutations also take `request_id` (see `MutationOptions`).
    Each returns the response message or raises a `Q2cError` subclass.

    Args:
        target: "host:port" of the q2c server (ignored when `channel` is given).
        tenant_id: sent as `x-tenant-id` on every call.
        principal: sent as `x-principal` on every call.
        deadline: default deadline in seconds of each call, retries included.
        retries: the retry policy (UNAVAILABLE only, by default).
        channel: an existing channel (e.g. `grpc_testing.channel(...)`); the client does not
            close it. Without one the client opens an insecure (or, with `credentials`, a
            secure) channel and owns it.
        credentials: TLS channel credentials for the channel the client opens.
        correlation_id: sent as `x-correlation-id` on every call; None = a fresh one per call.
        metadata: extra metadata sent on every call.
        options: extra channel options for the channel the client opens.
    """

    def __init__(
        self,
        target: str = "",
        *,
        tenant_id: str = "default",
        principal: str = "anonymous",
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
        self._owned = channel is None
        self.channel: grpc.Channel = channel if channel is not None else _open(target, credentials, options)
        self._stubs = Stubs.on(self.channel)
        self._transport = Transport(
            tenant_id=tenant_id,
            principal=principal,
            deadline=deadline,
            retries=retries if retries is not None else RetryPolicy(),
            correlation_id=correlation_id,
            metadata=metadata,
        )

    @property
    def tenant_id(self) -> str:
        """The tenant every call is scoped to."""
        return self._transport.tenant_id

    @property
    def principal(self) -> str:
        """The principal every call acts as."""
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
