"""One log line per q2c.v1 call ("rpc handled"), and the call's rpc and engagement id on every
line written while it runs.

`logged_handler` wraps a method handler; `RequestLogInterceptor` applies it around the one
CallContextInterceptor (it must come first in the server's list, so it sees refusals too and
times the whole call). The caller's tenant, principal and correlation id come from
`edge/context.py`, which the CallContextInterceptor fills in.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

import grpc
from grpc import aio

from q2c_core.edge.context import call_log_fields
from q2c_core.logs import log_context

log = logging.getLogger("q2c.rpc")

Q2C_METHOD_PREFIX = "/q2c.v1."
Unary = Callable[[Any, aio.ServicerContext[Any, Any]], Awaitable[Any]]
Streaming = Callable[[Any, aio.ServicerContext[Any, Any]], AsyncIterator[Any]]
_CODES = {code.value[0]: code for code in grpc.StatusCode}


def engagement_of(request: Any) -> str:
    """The engagement id a request names ('' when it names none)."""
    value = getattr(request, "engagement_id", "")
    return value if isinstance(value, str) else ""


def outcome_of(context: aio.ServicerContext[Any, Any], error: BaseException | None) -> str:
    """The call's gRPC code name: what the handler set or aborted with, else OK or UNKNOWN."""
    if isinstance(error, asyncio.CancelledError | GeneratorExit):  # the client went away
        return "CANCELLED"
    code = context.code()
    if isinstance(code, int):
        code = _CODES.get(code)
    if isinstance(code, grpc.StatusCode):
        return str(code.name)
    return "OK" if error is None else "UNKNOWN"


@contextmanager
def handling(method: str, request: Any, context: aio.ServicerContext[Any, Any]) -> Iterator[None]:
    """Bind the call's rpc and engagement id; on the way out, write the "rpc handled" line."""
    started = time.perf_counter()
    with log_context(rpc=method, engagement_id=engagement_of(request)):
        error: BaseException | None = None
        try:
            yield
        except BaseException as exc:
            error = exc
            raise
        finally:
            if log.isEnabledFor(logging.INFO):
                duration_ms = round((time.perf_counter() - started) * 1000, 3)
                _handled(outcome_of(context, error), duration_ms)


def _handled(outcome: str, duration_ms: float) -> None:
    """The "rpc handled" line; tenant and principal always present ("": nobody verified)."""
    who = call_log_fields()
    extra = {
        "tenant": who.get("tenant", ""),
        "principal": who.get("principal", ""),
        "outcome": outcome,
        "duration_ms": duration_ms,
    }
    log.info("rpc handled", extra=extra)


def _wrap_unary(behaviour: Unary, method: str) -> Unary:
    async def wrapped(request: Any, context: aio.ServicerContext[Any, Any]) -> Any:
        with handling(method, request, context):
            return await behaviour(request, context)

    return wrapped


def _wrap_stream(behaviour: Streaming, method: str) -> Streaming:
    async def wrapped(request: Any, context: aio.ServicerContext[Any, Any]) -> AsyncIterator[Any]:
        with handling(method, request, context):
            async for item in behaviour(request, context):
                yield item

    return wrapped


def logged_handler(handler: grpc.RpcMethodHandler, method: str) -> grpc.RpcMethodHandler:
    """`handler` with its unary or server-streaming behaviour logged (others unchanged)."""
    if handler.unary_unary is not None:
        return grpc.unary_unary_rpc_method_handler(
            _wrap_unary(handler.unary_unary, method),
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )
    if handler.unary_stream is not None:
        return grpc.unary_stream_rpc_method_handler(
            _wrap_stream(handler.unary_stream, method),
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )
    return handler


class RequestLogInterceptor(aio.ServerInterceptor):  # type: ignore[misc]
    """Logs every q2c.v1 call; health and reflection pass through untouched."""

    def __init__(self) -> None:
        self._handlers: dict[str, tuple[grpc.RpcMethodHandler, grpc.RpcMethodHandler]] = {}

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        """The handler wrapped once per method (and again only if the server hands out another)."""
        handler = await continuation(handler_call_details)
        method = str(getattr(handler_call_details, "method", ""))
        if handler is None or not method.startswith(Q2C_METHOD_PREFIX):
            return handler
        known = self._handlers.get(method)
        if known is not None and known[0] is handler:
            return known[1]
        wrapped = logged_handler(handler, method)
        self._handlers[method] = (handler, wrapped)
        return wrapped
