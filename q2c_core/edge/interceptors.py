"""The gateway's one wrapper around every q2c.v1 handler: request log, metrics, correlation id,
authentication, scopes, deadlines, limits, error table, in one coroutine per call.

Order on every q2c.v1 call: log fields and metrics -> correlation id -> deadline -> credentials
-> scope -> rate limit -> input bounds (converters/wire_limits.py) (-> stream slot) -> handler.
A call refused for its credentials or scope never reaches a servicer (no effect) and becomes a
security event; a call over its rate budget or stream cap is refused with RESOURCE_EXHAUSTED,
also before anything runs, and leaves no record (a flood must not write one row per refusal);
health and reflection pass through untouched. When the call is over it is counted (metrics.py)
and logged ("rpc handled", request_log.py), refusals included.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
from grpc import aio

from q2c_core.app.messages import Caller
from q2c_core.domain.errors import DeadlineExceededError, ErrorKind, Q2cError
from q2c_core.edge.auth.authenticator import CallAuthenticator, authorizer, check_asserted
from q2c_core.edge.auth.identity import Identity
from q2c_core.edge.auth.security_log import SecurityLog
from q2c_core.edge.call_steps import (
    CORRELATION_KEY,
    Route,
    SecurityRefusal,
    abort,
    code_of,
    peer_certificate,
    read_metadata,
)
from q2c_core.edge.context import (
    CALL_FIELDS,
    CALLER,
    CORRELATION_ID,
    IDENTITY,
    current_caller,
    new_correlation_id,
)
from q2c_core.edge.converters.wire_limits import check_request
from q2c_core.edge.deadlines import set_deadline
from q2c_core.edge.errors import as_q2c_error, internal_status, status_for
from q2c_core.edge.limits import RateLimiter, StreamSlots
from q2c_core.edge.metrics import RPC_METRICS, RpcMetrics
from q2c_core.edge.rejections import RejectionAuditor
from q2c_core.edge.request_log import engagement_of

log = logging.getLogger(__name__)

MIN_REMAINING_SECONDS = 0.005
"""Calls arriving with less time left than this are refused without running anything."""

Q2C_METHOD_PREFIX = "/q2c.v1."
_SECURITY_KINDS = (ErrorKind.UNAUTHENTICATED, ErrorKind.PERMISSION_DENIED)
_NO_EFFECT_KINDS = (ErrorKind.RESOURCE_EXHAUSTED, ErrorKind.DEADLINE_EXCEEDED)
"""Refused before any work started: nothing happened, so nothing is audited."""
CALLER_CACHE_SIZE = 4096
"""Callers kept by (tenant, principal, correlation id) the client sent (cleared when full)."""
Unary = Callable[[Any, aio.ServicerContext[Any, Any]], Awaitable[Any]]
Streaming = Callable[[Any, aio.ServicerContext[Any, Any]], AsyncIterator[Any]]
_PASSED = (aio.AbortError, asyncio.CancelledError)
"""Left to grpc as they are: an abort already sent its status, a cancel has no one to tell."""


class CallContextInterceptor(aio.ServerInterceptor):  # type: ignore[misc]
    """Wraps every q2c.v1 unary and server-streaming handler: one wrapper per call does it all.

    `wrap` wraps a handler once, when the server registers it (`edge/app.py`); as a grpc.aio
    interceptor it wraps the handler the server hands out instead (when test interceptors must
    run inside it), once per method.
    """

    def __init__(
        self,
        authenticator: CallAuthenticator,
        rejections: RejectionAuditor | None = None,
        security_log: SecurityLog | None = None,
        rate_limiter: RateLimiter | None = None,
        streams: StreamSlots | None = None,
        metrics: RpcMetrics = RPC_METRICS,
    ) -> None:
        self.authenticator = authenticator
        self.metrics = metrics
        self.rejections = rejections
        self.security_log = security_log
        self.rate_limiter = rate_limiter
        self.streams = streams
        self._handlers: dict[str, tuple[grpc.RpcMethodHandler, grpc.RpcMethodHandler]] = {}
        self._callers: dict[tuple[str, str, str], Caller] = {}

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        """Return the handler with its behaviour wrapped (unary-unary and unary-stream).

        A method's handler is wrapped once and reused for as long as the server hands out the
        same handler for it; only q2c.v1 methods with a handler are remembered (bounded).
        """
        handler = await continuation(handler_call_details)
        method = getattr(handler_call_details, "method", "")
        known = self._handlers.get(method)
        if known is not None and known[0] is handler:
            return known[1]
        method = str(method)
        if handler is None or not method.startswith(Q2C_METHOD_PREFIX):
            return handler
        wrapped = self.wrap(handler, method)
        self._handlers[method] = (handler, wrapped)
        return wrapped

    def wrap(self, handler: grpc.RpcMethodHandler, method: str) -> grpc.RpcMethodHandler:
        """`handler` of `method` with the edge around its unary or server-streaming behaviour."""
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

    async def _enter(self, request: Any, context: aio.ServicerContext[Any, Any], route: Route) -> None:
        """Set correlation id, then authenticate and authorize; refuse late calls."""
        CALLER.set(None)
        IDENTITY.set(None)
        metadata, asserted = read_metadata(context)
        correlation_id = metadata.get(CORRELATION_KEY, "").strip()[:128]
        sent = bool(correlation_id)
        if not sent:
            correlation_id = new_correlation_id()
        CORRELATION_ID.set(correlation_id)
        remaining = context.time_remaining()
        if remaining is not None and remaining < MIN_REMAINING_SECONDS:
            raise DeadlineExceededError(
                "DEADLINE_EXCEEDED", "deadline expired before the call was dispatched"
            )
        set_deadline(remaining)
        identity: Identity | None = None
        authenticator = self.authenticator
        try:
            certificate = peer_certificate(context) if authenticator.needs_certificate(metadata) else None
            if authenticator.may_block(metadata):  # a JWKS fetch must not stall every other call
                identity = await asyncio.to_thread(authenticator.authenticate, metadata, certificate)
            else:
                identity = authenticator.authenticate(metadata, certificate)
            if asserted and authenticator.enabled:
                check_asserted(asserted, identity)
            route.authorize(identity, request)
        except Q2cError as error:
            if error.kind in _SECURITY_KINDS:
                raise SecurityRefusal(error, identity) from error
            raise
        self._admit(identity, request, route)
        echo = ((CORRELATION_KEY, correlation_id),)
        if route.streaming:  # a stream's first message may come much later: echo it at once
            await context.send_initial_metadata(echo)
        else:
            # A unary reply echoes it in its trailing metadata, sent with the reply and status
            # in one batch: sending initial metadata on its own costs a batch, a write and a
            # wake-up per call. A refusal or error replaces it with its own (echo included).
            context.set_trailing_metadata(echo)
        IDENTITY.set(identity)
        CALLER.set(self._caller(identity, correlation_id, sent))
        check_request(request)  # every field within its bound before any servicer sees it

    def _caller(self, identity: Identity, correlation_id: str, sent: bool) -> Caller:
        """The Caller (a validated model: worth keeping while a client reuses its correlation id)."""
        if not sent:  # a fresh id never comes back
            return Caller(
                tenant_id=identity.tenant_id, principal=identity.principal, correlation_id=correlation_id
            )
        key = (identity.tenant_id, identity.principal, correlation_id)
        caller = self._callers.get(key)
        if caller is None:
            if len(self._callers) >= CALLER_CACHE_SIZE:
                self._callers.clear()
            caller = self._callers[key] = Caller(
                tenant_id=identity.tenant_id, principal=identity.principal, correlation_id=correlation_id
            )
        return caller

    def _admit(self, identity: Identity, request: Any, route: Route) -> None:
        """Spend one token of the caller's read or mutation budget, or refuse (RATE_LIMITED)."""
        if self.rate_limiter is None:
            return
        throttled = self.rate_limiter.admit(identity.tenant_id, identity.principal, route.kind_of(request))
        if throttled is not None:
            raise throttled.error()

    async def _refuse(
        self, refusal: SecurityRefusal, context: aio.ServicerContext[Any, Any], method: str
    ) -> grpc.Status:
        """Record the refusal as a security event; returns the status to abort with."""
        IDENTITY.set(refusal.identity)  # the request log names who was refused, when known
        error, correlation_id = refusal.error, CORRELATION_ID.get()
        if self.security_log is not None:
            who = refusal.identity
            await self.security_log.refused(
                method=method,
                code=error.kind.value,
                reason=error.reason,
                message=error.message,
                peer=context.peer() or "",
                correlation_id=correlation_id,
                tenant_id=who.tenant_id if who else "",
                principal=who.principal if who else "",
            )
        return status_for(error, correlation_id)

    async def _fail(
        self, exc: Exception, request: Any, context: aio.ServicerContext[Any, Any], method: str
    ) -> grpc.Status:
        """Log, audit or record the failure; returns the status the error table gives it."""
        if isinstance(exc, SecurityRefusal):
            return await self._refuse(exc, context, method)
        correlation_id = CORRELATION_ID.get()
        error = as_q2c_error(exc)
        if error is None:
            log.exception("unexpected error in %s (correlation %s)", method, correlation_id)
            return internal_status(correlation_id)
        else:
            level = logging.DEBUG if error.kind is ErrorKind.RESOURCE_EXHAUSTED else logging.INFO
            log.log(
                level, "%s failed: %s %s (correlation %s)", method, error.kind, error.reason, correlation_id
            )
            audit = error.kind not in _NO_EFFECT_KINDS and CALLER.get() is not None
            if self.rejections is not None and audit:
                await self.rejections.record(method, request, error)
            return status_for(error, correlation_id)

    def _route(self, method: str, grpc_type: str) -> Route:
        metrics = self.metrics.route(method, grpc_type)
        return Route(method, authorizer(method), metrics, streaming=grpc_type == "server_stream")

    def _wrap_unary(self, behaviour: Unary, method: str) -> Unary:
        route, enter, fail = self._route(method, "unary"), self._enter, self._fail
        start = route.metrics.start

        async def wrapped(request: Any, context: aio.ServicerContext[Any, Any]) -> Any:
            started = start()
            fields = CALL_FIELDS.set((method, engagement_of(request)))
            error: BaseException | None = None
            counted = False
            try:
                try:
                    await enter(request, context, route)
                    return await behaviour(request, context)
                except _PASSED:
                    raise
                except Exception as exc:
                    status = await fail(exc, request, context, method)
                    route.finish(status.code, None, started, fields)  # before the status is sent
                    counted = True
                    await abort(context, status)
            except BaseException as exc:
                error = exc
                raise
            finally:
                if not counted:
                    route.finish(code_of(context), error, started, fields)

        return wrapped

    def _wrap_stream(self, behaviour: Streaming, method: str) -> Streaming:
        route, enter, fail = self._route(method, "server_stream"), self._enter, self._fail

        async def wrapped(request: Any, context: aio.ServicerContext[Any, Any]) -> AsyncIterator[Any]:
            holder: str | None = None
            started = route.metrics.start()
            fields = CALL_FIELDS.set((method, engagement_of(request)))
            error: BaseException | None = None
            counted = False
            try:
                try:
                    await enter(request, context, route)
                    if self.streams is not None:
                        tenant_id = current_caller().tenant_id
                        self.streams.acquire(tenant_id)
                        holder = tenant_id
                    async for item in behaviour(request, context):
                        yield item
                except _PASSED:
                    raise
                except Exception as exc:
                    status = await fail(exc, request, context, method)
                    route.finish(status.code, None, started, fields)  # before the status is sent
                    counted = True
                    await abort(context, status)
            except BaseException as exc:  # GeneratorExit too: the stream was closed
                error = exc
                raise
            finally:
                if not counted:
                    route.finish(code_of(context), error, started, fields)
                # Runs however the stream ends: done, error, cancel or deadline (the task is
                # cancelled), or the generator closed after the client went away.
                if holder is not None and self.streams is not None:
                    self.streams.release(holder)

        return wrapped
