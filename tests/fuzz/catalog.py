"""Every RPC of every q2c.v1 service, enumerated from the descriptors, callable on any channel."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import grpc
from google.protobuf.descriptor import Descriptor
from google.protobuf.message import Message
from google.protobuf.message_factory import GetMessageClass

from tests.fuzz.converters import MODULES

Metadata = Sequence[tuple[str, str]]
STREAM_MESSAGES = 50
"""A streaming call is cancelled after this many messages (a follower never ends by itself)."""


@dataclass(frozen=True)
class Rpc:
    """One method: its service, request and reply types, and whether it streams replies."""

    service: str
    name: str
    request: Descriptor
    reply: Descriptor
    streaming: bool

    @property
    def path(self) -> str:
        """The HTTP/2 path gRPC calls it by."""
        return f"/{self.service}/{self.name}"

    @property
    def mutating(self) -> bool:
        """Mutations carry a request_id (API rule 4)."""
        return "request_id" in self.request.fields_by_name

    def new_request(self) -> Message:
        """An empty request message."""
        return GetMessageClass(self.request)()


def all_rpcs() -> list[Rpc]:
    """Every RPC of every q2c.v1 service, in descriptor order."""
    return [
        Rpc(service.full_name, method.name, method.input_type, method.output_type, method.server_streaming)
        for module in MODULES
        for service in module.DESCRIPTOR.services_by_name.values()
        for method in service.methods
    ]


@dataclass(frozen=True)
class Reply:
    """How one call ended: its status code name, details, reply (unary OK) and latency."""

    code: str
    details: str
    message: Message | None
    seconds: float


class Caller:
    """Generic unary and server-streaming calls on one channel, by Rpc."""

    def __init__(self, channel: grpc.aio.Channel) -> None:
        self.channel = channel
        self._callables: dict[str, Any] = {}

    def _callable(self, rpc: Rpc) -> Any:
        if rpc.path not in self._callables:
            reply = GetMessageClass(rpc.reply)
            factory = self.channel.unary_stream if rpc.streaming else self.channel.unary_unary
            self._callables[rpc.path] = factory(
                rpc.path,
                request_serializer=lambda m: m.SerializeToString(),
                response_deserializer=reply.FromString,
            )
        return self._callables[rpc.path]

    async def call(self, rpc: Rpc, request: Message, metadata: Metadata, timeout: float) -> Reply:
        """Send one request; never raises for a gRPC status (it is the result)."""
        started = time.perf_counter()
        try:
            if rpc.streaming:
                message = await self._drain(
                    self._callable(rpc)(request, metadata=tuple(metadata), timeout=timeout)
                )
            else:
                message = await self._callable(rpc)(request, metadata=tuple(metadata), timeout=timeout)
        except grpc.aio.AioRpcError as error:
            return Reply(error.code().name, error.details() or "", None, time.perf_counter() - started)
        return Reply("OK", "", message, time.perf_counter() - started)

    @staticmethod
    async def _drain(call: Any) -> Message | None:
        """Read a stream up to STREAM_MESSAGES messages, then cancel it; the last message."""
        last = None
        count = 0
        try:
            async for message in call:
                last = message
                count += 1
                if count >= STREAM_MESSAGES:
                    call.cancel()
                    break
        except asyncio.CancelledError:
            call.cancel()
            raise
        return last
