"""The one server interceptor: correlation id, authentication, scopes, deadlines, error table.

Order on every q2c.v1 call: correlation id -> deadline -> credentials -> scope -> rate limit
-> input bounds (converters/wire_limits.py) (-> stream slot) -> handler. A call refused for
its credentials or scope never reaches a servicer (no effect) and becomes a security event; a
call over its rate budget or stream cap is refused with RESOURCE_EXHAUSTED, also before
anything runs, and leaves no record (a flood must not write one row per refusal); health and
reflection pass through untouched.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import grpc
from grpc import aio

from q2c_core.app.messages import Caller
from q2c_core.domain.errors import ErrorKind, Q2cError
from q2c_core.edge.auth.authenticator import (
    PRINCIPAL_KEY,
    TENANT_KEY,
    Authorize,
    CallAuthenticator,
    authorizer,
    check_asserted,
)
from q2c_core.edge.auth.identity import Identity
from q2c_core.edge.auth.security_log import SecurityLog
from q2c_core.edge.context import CALLER, CORRELATION_ID, IDENTITY, current_caller, new_correlation_id
from q2c_core.edge.converters.wire_limits import check_request
from q2c_core.edge.deadlines import set_deadline
from q2c_core.edge.errors import as_q2c_error, deadline_status, internal_status, status_for
from q2c_core.edge.limits import Kind, RateLimiter, StreamSlots
from q2c_core.edge.metrics import RPC_METRICS, RouteMetrics, RpcMetrics
from q2c_core.edge.rejections import RejectionAuditor, is_mutation

log = logging.getLogger(__name__)

MIN_REMAINING_SECONDS = 0.005
"""Calls arriving with less time left than this are refused without running anything."""

CORRELATION_KEY = "x-correlation-id"
PEER_CERTIFICATE_KEY = "x509_pem_cert"
Q2C_METHOD_PREFIX = "/q2c.v1."
_SECURITY_KINDS = (ErrorKind.UNAUTHENTICATED, ErrorKind.PERMISSION_DENIED)
_NO_EFFECT_KINDS = (ErrorKind.RESOURCE_EXHAUSTED, ErrorKind.DEADLINE_EXCEEDED)
"""Refused before any work started: nothing happened, so nothing is audited."""
_ASSERTED_KEYS = frozenset({TENANT_KEY, PRINCIPAL_KEY})
CALLER_CACHE_SIZE = 4096
"""Callers kept by (tenant, principal, correlation id) the client sent (cleared when full)."""
Unary = Callable[[Any, aio.ServicerContext[Any, Any]], Awaitable[Any]]
Streaming = Callable[[Any, aio.ServicerContext[Any, Any]], AsyncIterator[Any]]


def _read_metadata(context: aio.ServicerContext[Any, Any]) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """One pass over the call's metadata: the first text value of each key, and every
    x-tenant-id / x-principal value (a repeated hint is still checked in full)."""
    found: dict[str, str] = {}
    asserted: list[tuple[str, str]] = []
    for key, value in context.invocation_metadata() or ():
        if isinstance(value, str):
            if key not in found:
                found[key] = value
            if key in _ASSERTED_KEYS:
                asserted.append((key, value))
    return found, asserted


def _peer_certificate(context: aio.ServicerContext[Any, Any]) -> bytes | None:
    """The client certificate the TLS layer verified (mTLS), if any."""
    certificates = (context.auth_context() or {}).get(PEER_CERTIFICATE_KEY) or []
    return certificates[0] if certificates else None


async def _abort(context: aio.ServicerContext[Any, Any], status: grpc.Status) -> None:
    """Abort with `status`, echoing the correlation id in the trailing metadata too.

    Before admission no initial metadata has been sent, so a refused call's only echo of its
    correlation id is here (and in the ErrorInfo metadata).
    """
    echo = ((CORRELATION_KEY, CORRELATION_ID.get()),)
    await context.abort_with_status(status._replace(trailing_metadata=(*status.trailing_metadata, *echo)))


def _code(context: aio.ServicerContext[Any, Any]) -> grpc.StatusCode | None:
    """The status the call was aborted with; None when it was not (OK). Stand-in contexts of
    tests and benchmarks may have no code()."""
    code = getattr(context, "code", None)
    return code() if code is not None else None


@dataclass(slots=True)
class _Route:
    """What the interceptor needs of one RPC, worked out once: its scope check and, at its
    first request, which budget (read or mutation) its calls spend."""

    method: str
    authorize: Authorize
    metrics: RouteMetrics
    kind: Kind | None = None

    def kind_of(self, request: Any) -> Kind:
        """Mutation or read (an RPC's request type never changes)."""
        if self.kind is None:
            self.kind = "mutation" if is_mutation(request) else "read"
        return self.kind


class SecurityRefusal(Exception):
    """Credentials or scope refused: the wrapped error is reported and logged as a security event."""

    def __init__(self, error: Q2cError, identity: Identity | None) -> None:
        super().__init__(str(error))
        self.error = error
        self.identity = identity


class CallContextInterceptor(aio.ServerInterceptor):  # type: ignore[misc]
    """Wraps every q2c.v1 unary and server-streaming handler."""

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
        wrapped = self._wrap(handler, method)
        self._handlers[method] = (handler, wrapped)
        return wrapped

    def _wrap(self, handler: grpc.RpcMethodHandler, method: str) -> grpc.RpcMethodHandler:
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

    async def _enter(self, request: Any, context: aio.ServicerContext[Any, Any], route: _Route) -> None:
        """Set correlation id, then authenticate and authorize; refuse late calls."""
        CALLER.set(None)
        IDENTITY.set(None)
        metadata, asserted = _read_metadata(context)
        correlation_id = metadata.get(CORRELATION_KEY, "").strip()[:128]
        sent = bool(correlation_id)
        if not sent:
            correlation_id = new_correlation_id()
        CORRELATION_ID.set(correlation_id)
        remaining = context.time_remaining()
        if remaining is not None and remaining < MIN_REMAINING_SECONDS:
            log.info("refused %s: deadline already expired (correlation %s)", route.method, correlation_id)
            await _abort(context, deadline_status(correlation_id))
        set_deadline(remaining)
        identity: Identity | None = None
        authenticator = self.authenticator
        try:
            certificate = _peer_certificate(context) if authenticator.needs_certificate(metadata) else None
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
        # Only an admitted call pays for its own headers frame; a refusal is one trailers-only
        # reply that carries the correlation id in its trailing metadata (see _abort).
        await context.send_initial_metadata(((CORRELATION_KEY, correlation_id),))
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

    def _admit(self, identity: Identity, request: Any, route: _Route) -> None:
        """Spend one token of the caller's read or mutation budget, or refuse (RATE_LIMITED)."""
        if self.rate_limiter is None:
            return
        throttled = self.rate_limiter.admit(identity.tenant_id, identity.principal, route.kind_of(request))
        if throttled is not None:
            raise throttled.error()

    async def _refuse(
        self, refusal: SecurityRefusal, context: aio.ServicerContext[Any, Any], method: str
    ) -> None:
        """Record the refusal as a security event, then abort with its status."""
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
        await _abort(context, status_for(error, correlation_id))

    async def _fail(
        self, exc: Exception, request: Any, context: aio.ServicerContext[Any, Any], method: str
    ) -> None:
        """Abort the call with the status the error table gives this exception."""
        if isinstance(exc, SecurityRefusal):
            await self._refuse(exc, context, method)
            return
        correlation_id = CORRELATION_ID.get()
        error = as_q2c_error(exc)
        if error is None:
            log.exception("unexpected error in %s (correlation %s)", method, correlation_id)
            await _abort(context, internal_status(correlation_id))
        else:
            level = logging.DEBUG if error.kind is ErrorKind.RESOURCE_EXHAUSTED else logging.INFO
            log.log(
                level, "%s failed: %s %s (correlation %s)", method, error.kind, error.reason, correlation_id
            )
            audit = error.kind not in _NO_EFFECT_KINDS and CALLER.get() is not None
            if self.rejections is not None and audit:
                await self.rejections.record(method, request, error)
            await _abort(context, status_for(error, correlation_id))

    def _wrap_unary(self, behaviour: Unary, method: str) -> Unary:
        route = _Route(method, authorizer(method), self.metrics.route(method, "unary"))

        async def wrapped(request: Any, context: aio.ServicerContext[Any, Any]) -> Any:
            started, cancelled = route.metrics.start(), False
            try:
                await self._enter(request, context, route)
                return await behaviour(request, context)
            except aio.AbortError:
                raise
            except asyncio.CancelledError:
                cancelled = True
                raise
            except Exception as exc:
                await self._fail(exc, request, context, method)
            finally:
                route.metrics.done(grpc.StatusCode.CANCELLED if cancelled else _code(context), started)

        return wrapped

    def _wrap_stream(self, behaviour: Streaming, method: str) -> Streaming:
        route = _Route(method, authorizer(method), self.metrics.route(method, "server_stream"))

        async def wrapped(request: Any, context: aio.ServicerContext[Any, Any]) -> AsyncIterator[Any]:
            holder: str | None = None
            started, cancelled = route.metrics.start(), False
            try:
                await self._enter(request, context, route)
                if self.streams is not None:
                    tenant_id = current_caller().tenant_id
                    self.streams.acquire(tenant_id)
                    holder = tenant_id
                async for item in behaviour(request, context):
                    yield item
            except aio.AbortError:
                raise
            except asyncio.CancelledError:
                cancelled = True
                raise
            except Exception as exc:
                await self._fail(exc, request, context, method)
            finally:
                route.metrics.done(grpc.StatusCode.CANCELLED if cancelled else _code(context), started)
                # Runs however the stream ends: done, error, cancel or deadline (the task is
                # cancelled), or the generator closed after the client went away.
                if holder is not None and self.streams is not None:
                    self.streams.release(holder)

        return wrapped
