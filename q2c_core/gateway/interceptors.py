"""The one server interceptor: correlation id, caller identity, deadlines and the error table."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
from grpc import aio

from q2c_core.gateway.context import CALLER, CORRELATION_ID
from q2c_core.gateway.errors import as_q2c_error, deadline_status, internal_status, status_for
from q2c_core.gateway.identity import CORRELATION_KEY, IdentityResolver, MetadataIdentityResolver
from q2c_core.gateway.rejections import RejectionAuditor

log = logging.getLogger(__name__)

MIN_REMAINING_SECONDS = 0.005
"""Calls arriving with less time left than this are refused without running anything."""

Q2C_METHOD_PREFIX = "/q2c.v1."
Unary = Callable[[Any, aio.ServicerContext[Any, Any]], Awaitable[Any]]
Streaming = Callable[[Any, aio.ServicerContext[Any, Any]], AsyncIterator[Any]]


def _metadata(context: aio.ServicerContext[Any, Any]) -> dict[str, str]:
    pairs = context.invocation_metadata() or ()
    return {key: value for key, value in pairs if isinstance(value, str)}


class CallContextInterceptor(aio.ServerInterceptor):  # type: ignore[misc]
    """Wraps every q2c.v1 unary handler; health and reflection pass through untouched."""

    def __init__(
        self, identity: IdentityResolver | None = None, rejections: RejectionAuditor | None = None
    ) -> None:
        self.identity = identity or MetadataIdentityResolver()
        self.rejections = rejections

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        """Return the handler with its behaviour wrapped (unary-unary and unary-stream)."""
        handler = await continuation(handler_call_details)
        method = str(getattr(handler_call_details, "method", ""))
        if handler is None or not method.startswith(Q2C_METHOD_PREFIX):
            return handler
        if handler.unary_unary is not None:
            return grpc.unary_unary_rpc_method_handler(
                self._wrap_unary(handler.unary_unary, method),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        if handler.unary_stream is not None:
            return grpc.unary_stream_rpc_method_handler(
                self._wrap_stream(handler.unary_stream, method),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        return handler

    async def _enter(self, context: aio.ServicerContext[Any, Any], method: str) -> str:
        """Set correlation id and caller for this call; refuse calls that are already late."""
        metadata = _metadata(context)
        correlation_id = metadata.get(CORRELATION_KEY, "").strip() or uuid.uuid4().hex
        CORRELATION_ID.set(correlation_id)
        await context.send_initial_metadata(((CORRELATION_KEY, correlation_id),))
        remaining = context.time_remaining()
        if remaining is not None and remaining < MIN_REMAINING_SECONDS:
            log.info("refused %s: deadline already expired (correlation %s)", method, correlation_id)
            await context.abort_with_status(deadline_status(correlation_id))
        caller = self.identity.resolve(metadata)
        CALLER.set(caller.model_copy(update={"correlation_id": correlation_id}))
        return correlation_id

    async def _fail(
        self, exc: Exception, request: Any, context: aio.ServicerContext[Any, Any], method: str
    ) -> None:
        """Abort the call with the status the error table gives this exception."""
        correlation_id = CORRELATION_ID.get()
        error = as_q2c_error(exc)
        if error is None:
            log.exception("unexpected error in %s (correlation %s)", method, correlation_id)
            await context.abort_with_status(internal_status(correlation_id))
        else:
            log.info("%s failed: %s %s (correlation %s)", method, error.kind, error.reason, correlation_id)
            if self.rejections is not None and CALLER.get(None) is not None:
                await self.rejections.record(method, request, error)
            await context.abort_with_status(status_for(error, correlation_id))

    def _wrap_unary(self, behaviour: Unary, method: str) -> Unary:
        async def wrapped(request: Any, context: aio.ServicerContext[Any, Any]) -> Any:
            try:
                await self._enter(context, method)
                return await behaviour(request, context)
            except aio.AbortError:
                raise
            except Exception as exc:
                await self._fail(exc, request, context, method)

        return wrapped

    def _wrap_stream(self, behaviour: Streaming, method: str) -> Streaming:
        async def wrapped(request: Any, context: aio.ServicerContext[Any, Any]) -> AsyncIterator[Any]:
            try:
                await self._enter(context, method)
                async for item in behaviour(request, context):
                    yield item
            except aio.AbortError:
                raise
            except Exception as exc:
                await self._fail(exc, request, context, method)

        return wrapped
