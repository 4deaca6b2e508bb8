"""A shard's direct channel: command batches over a plain socket instead of a Ray actor call.

Ray places, restarts and names the shard actors; it need not carry every command batch. An
actor call costs about a millisecond of CPU on each side (task specs, reference counting, task
events, the async actor's event loop), a length-prefixed frame on a socket tens of
microseconds. So each shard also serves its batches on a TCP socket of its own, and the
gateway's lanes send them there once they have asked the shard (over Ray) where it listens.

Frames are `!I` length + body. A connection opens with the shard's secret (32 random bytes
the shard hands out only through Ray, so reaching the socket grants no more than reaching Ray
does); then each request frame (a `wire`-encoded batch) gets exactly one reply frame, in order.
A connection that breaks, or a shard that restarted (new port, new secret), leaves the caller
with `ChannelLost`: it asks Ray again. Both ends probe an idle connection (TCP keepalive) and
give up on data the peer never acknowledges, so a node that vanishes without closing its
sockets (power loss, a partition) breaks the channel within about KEEPALIVE_LIMIT_SECONDS
instead of leaving a caller waiting for a reply forever; a live shard that is merely busy
answers the probes from its kernel and is never cut off. Nothing is acknowledged before the
shard's handler has returned, which for a batch is after its commit.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import secrets
import socket
import socketserver
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)

HEADER = struct.Struct("!I")
MAX_FRAME = 256 * 1024 * 1024
"""Larger frames are refused (a batch of max_batch commands is far below this)."""
SECRET_BYTES = 32

Handler = Callable[[bytes], bytes]

KEEPALIVE_IDLE_SECONDS = 5
"""Silence on a connection before its first keepalive probe."""
KEEPALIVE_INTERVAL_SECONDS = 2
KEEPALIVE_PROBES = 3
KEEPALIVE_LIMIT_SECONDS = KEEPALIVE_IDLE_SECONDS + KEEPALIVE_INTERVAL_SECONDS * KEEPALIVE_PROBES
"""How long a dead peer can go unnoticed: unanswered probes, or unacknowledged data (Linux's
TCP_USER_TIMEOUT), end the connection after this."""


def keep_alive(sock: socket.socket) -> None:
    """Probe `sock` when idle and give up on a peer that stops acknowledging (see above); the
    per-probe settings where the platform has them (Linux does)."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    for option, value in (
        ("TCP_KEEPIDLE", KEEPALIVE_IDLE_SECONDS),
        ("TCP_KEEPINTVL", KEEPALIVE_INTERVAL_SECONDS),
        ("TCP_KEEPCNT", KEEPALIVE_PROBES),
        ("TCP_USER_TIMEOUT", KEEPALIVE_LIMIT_SECONDS * 1000),
    ):
        if hasattr(socket, option):
            sock.setsockopt(socket.IPPROTO_TCP, getattr(socket, option), value)


class ChannelLost(ConnectionError):
    """The direct channel broke or could not be opened; the call's outcome is unknown."""


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where a shard's direct channel listens, and the secret that opens it."""

    host: str
    port: int
    secret: bytes


def _read_exactly(stream: socketserver.StreamRequestHandler, size: int) -> bytes | None:
    data = stream.rfile.read(size)
    return data if len(data) == size else None


class _Connection(socketserver.StreamRequestHandler):
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        keep_alive(self.connection)

    def handle(self) -> None:
        hello = self._frame()
        if hello is None or not hmac.compare_digest(hello, self.server.secret):
            log.warning("direct channel: refused a connection from %s (wrong secret)", self.client_address)
            return
        while (request := self._frame()) is not None:
            reply = self.server.handler(request)
            self.connection.sendall(HEADER.pack(len(reply)) + reply)

    def _frame(self) -> bytes | None:
        header = _read_exactly(self, HEADER.size)
        if header is None:
            return None
        (size,) = HEADER.unpack(header)
        if size > MAX_FRAME:
            log.warning("direct channel: refused a %d-byte frame from %s", size, self.client_address)
            return None
        return _read_exactly(self, size)


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], handler: Handler, secret: bytes) -> None:
        self.handler = handler
        self.secret = secret
        super().__init__(address, _Connection)

    def handle_error(self, request: object, client_address: object) -> None:
        # the handler raised or the peer vanished: that connection ends, the caller sees ChannelLost
        log.exception("direct channel: connection from %s ended", client_address)


class ChannelServer:
    """The shard's side: serves `handler` (bytes -> bytes) on a thread per connection."""

    def __init__(self, handler: Handler, host: str = "127.0.0.1") -> None:
        self._server = _Server((host, 0), handler, secrets.token_bytes(SECRET_BYTES))
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="q2c-direct-channel", daemon=True
        )
        self._thread.start()

    @property
    def endpoint(self) -> Endpoint:
        """Where callers connect (the host it was bound to, the port the OS chose)."""
        host, port = self._server.server_address[:2]
        return Endpoint(str(host), int(port), self._server.secret)

    def close(self) -> None:
        """Stop accepting; open connections end with the process."""
        self._server.shutdown()
        self._server.server_close()


class ChannelClient:
    """The gateway's side: one connection, one request in flight at a time (asyncio)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer
        self._lock = asyncio.Lock()
        self.closed = False

    @classmethod
    async def connect(cls, endpoint: Endpoint, timeout: float = 5.0) -> ChannelClient:
        """Open the channel and present the secret; ChannelLost if the shard cannot be reached."""
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(endpoint.host, endpoint.port), timeout
            )
        except (OSError, TimeoutError) as error:
            raise ChannelLost(f"cannot reach {endpoint.host}:{endpoint.port}: {error}") from error
        keep_alive(writer.get_extra_info("socket"))
        writer.write(HEADER.pack(len(endpoint.secret)) + endpoint.secret)
        return cls(reader, writer)

    @property
    def usable(self) -> bool:
        """Open, and the shard has not hung up: a request sent now reaches a live listener (or
        its loss is unknown). False once the peer's end was seen, e.g. after a shard restart."""
        return not (self.closed or self._reader.at_eof() or self._writer.is_closing())

    async def call(self, request: bytes) -> bytes:
        """Send one frame and wait for its reply; ChannelLost (and closed) if the channel breaks."""
        async with self._lock:
            if self.closed:
                raise ChannelLost("the channel is closed")
            try:
                self._writer.write(HEADER.pack(len(request)) + request)
                header = await self._reader.readexactly(HEADER.size)
                (size,) = HEADER.unpack(header)
                return await self._reader.readexactly(size)
            except (OSError, asyncio.IncompleteReadError) as error:
                self.close()
                raise ChannelLost(f"the channel broke: {error!r}") from error
            except BaseException:  # cancelled mid-call: the reply would pair with the next request
                self.close()
                raise

    def close(self) -> None:
        """Close the connection (idempotent)."""
        if not self.closed:
            self.closed = True
            self._writer.close()
