"""The gRPC server's transport limits, set on purpose: message sizes, keepalive, connection ages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MIB = 1 << 20


@dataclass(frozen=True, slots=True)
class TransportLimits:
    """What one connection may send and how long it may live; times in seconds, 0: no limit."""

    max_receive_message_bytes: int = 4 * MIB
    """Largest request accepted; a bigger one is refused by gRPC with RESOURCE_EXHAUSTED before it
    is parsed (the biggest legitimate request, a full SubmitTimeEntries, is far smaller)."""
    max_send_message_bytes: int = 16 * MIB
    """Largest reply sent; a bigger one fails with RESOURCE_EXHAUSTED instead of being sent."""
    keepalive_time_seconds: float = 60.0
    """The server pings a connection with open calls after this long without traffic, so a peer
    that vanished (and the stream slots it held) is noticed within about a minute and a half."""
    keepalive_timeout_seconds: float = 20.0
    """A ping unanswered this long closes the connection."""
    min_client_ping_interval_seconds: float = 10.0
    """Clients may ping at most this often while nothing else is sent; faster pings are strikes."""
    max_ping_strikes: int = 2
    """Pings that break the rule above before the server sends GOAWAY (ENHANCE_YOUR_CALM)."""
    max_connection_idle_seconds: float = 900.0
    """A connection with no call for this long is closed (clients reconnect transparently)."""
    max_connection_age_seconds: float = 0.0
    """Connections are closed gracefully after this long, to rebalance across gateways; 0: never."""
    max_connection_age_grace_seconds: float = 30.0
    """Calls still open when a connection reaches its age get this long to finish."""

    def __post_init__(self) -> None:
        if self.max_receive_message_bytes < 1 or self.max_send_message_bytes < 1:
            raise ValueError("message size limits must be at least 1 byte")


def _ms(seconds: float) -> int:
    return round(seconds * 1000)


def server_options(limits: TransportLimits) -> list[tuple[str, Any]]:
    """The grpc.aio server options for `limits` (the one place they are turned into channel args)."""
    options: list[tuple[str, Any]] = [
        ("grpc.max_receive_message_length", limits.max_receive_message_bytes),
        ("grpc.max_send_message_length", limits.max_send_message_bytes),
        ("grpc.keepalive_time_ms", _ms(limits.keepalive_time_seconds)),
        ("grpc.keepalive_timeout_ms", _ms(limits.keepalive_timeout_seconds)),
        # Idle connections are max_connection_idle's business, not keepalive's.
        ("grpc.keepalive_permit_without_calls", 0),
        ("grpc.http2.min_ping_interval_without_data_ms", _ms(limits.min_client_ping_interval_seconds)),
        ("grpc.http2.max_ping_strikes", limits.max_ping_strikes),
    ]
    if limits.max_connection_idle_seconds > 0:
        options.append(("grpc.max_connection_idle_ms", _ms(limits.max_connection_idle_seconds)))
    if limits.max_connection_age_seconds > 0:
        options.append(("grpc.max_connection_age_ms", _ms(limits.max_connection_age_seconds)))
        options.append(("grpc.max_connection_age_grace_ms", _ms(limits.max_connection_age_grace_seconds)))
    return options
