"""Input limits at the edge: every q2c.v1 request is checked against its field bounds first.

Runs inside CallContextInterceptor (after authentication, scope and rate limits), so a refused
request becomes INVALID_ARGUMENT (VALIDATION_FAILED with BadRequest field violations) through
the one error table, and no servicer, converter or host ever sees an out-of-bounds value.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
from grpc import aio

from q2c_core.edge.converters.wire_limits import check_request

Q2C_METHOD_PREFIX = "/q2c.v1."
Unary = Callable[[Any, aio.ServicerContext[Any, Any]], Awaitable[Any]]
Streaming = Callable[[Any, aio.ServicerContext[Any, Any]], AsyncIterator[Any]]


def _unary(behaviour: Unary) -> Unary:
    async def checked(request: Any, context: aio.ServicerContext[Any, Any]) -> Any:
        check_request(request)
        return await behaviour(request, context)

    return checked


def _stream(behaviour: Streaming) -> Streaming:
    async def checked(request: Any, context: aio.ServicerContext[Any, Any]) -> AsyncIterator[Any]:
        check_request(request)
        async for item in behaviour(request, context):
            yield item

    return checked


class InputLimitsInterceptor(aio.ServerInterceptor):  # type: ignore[misc]
    """Checks each q2c.v1 request with converters.wire_limits.check_request before its handler."""

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        """Return the handler with the check in front (unary-unary and unary-stream)."""
        handler = await continuation(handler_call_details)
        method = str(getattr(handler_call_details, "method", ""))
        if handler is None or not method.startswith(Q2C_METHOD_PREFIX):
            return handler
        if handler.unary_unary is not None:
            return grpc.unary_unary_rpc_method_handler(
                _unary(handler.unary_unary),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        if handler.unary_stream is not None:
            return grpc.unary_stream_rpc_method_handler(
                _stream(handler.unary_stream),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        return handler
