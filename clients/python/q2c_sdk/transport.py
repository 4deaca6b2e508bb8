"""The call engine under every client method: metadata, deadlines, request ids and retries."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol, TypedDict, TypeVar, cast

import grpc
from google.protobuf.message import Message  # type: ignore[import-untyped, unused-ignore]

from q2c_sdk.credentials import TokenProvider, authorization_metadata
from q2c_sdk.details import CORRELATION_KEY, error_from_rpc
from q2c_sdk.errors import DeadlineExceededError, Q2cError
from q2c_sdk.retry import RetryPolicy

log = logging.getLogger(__name__)

T = TypeVar("T", bound=Message)
M = TypeVar("M", bound=Message)
Metadata = Sequence[tuple[str, str]]


class CallOptions(TypedDict, total=False):
    """Per-call options every client method accepts as keyword arguments."""

    timeout: float
    """Deadline of the whole call in seconds, retries and backoff included (default: the client's)."""
    correlation_id: str
    """Sent as `x-correlation-id` (default: the client's, else a fresh one per call)."""
    metadata: Metadata
    """Extra call metadata, sent after the client's."""


class MutationOptions(CallOptions, total=False):
    """Options of mutating methods: `CallOptions` plus the idempotency key."""

    request_id: str | None
    """Idempotency key. Absent: the request's own, else a fresh uuid4 hex, reused on every
    retry. None: send none (the request's own field stays as it is); the call is then not
    retry-safe and UNAVAILABLE is never retried."""


def new_request_id() -> str:
    """A fresh idempotency key (uuid4 hex)."""
    return uuid.uuid4().hex


class Transport:
    """Runs unary and server-streaming calls with q2c's metadata, deadline and retry rules.

    `token` is asked for the bearer token before every attempt (so a rotated token is used as
    soon as it appears); `tenant_id` / `principal` are sent only when given.
    """

    def __init__(
        self,
        *,
        tenant_id: str | None = None,
        principal: str | None = None,
        deadline: float,
        retries: RetryPolicy,
        correlation_id: str | None,
        metadata: Metadata,
        token: TokenProvider | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if deadline <= 0:
            raise ValueError("deadline must be > 0 seconds")
        self.tenant_id = tenant_id
        self.principal = principal
        self.deadline = deadline
        self.retries = retries
        self.correlation_id = correlation_id
        self.metadata = tuple(metadata)
        self.token = token
        self._sleep = sleep
        self._clock = clock

    def read(self, method: Any, request: Message, response_type: type[T], options: CallOptions) -> T:
        """A read: retried on the policy's codes."""
        return self._unary(method, request, response_type, options, request_id="", retryable=True)

    def mutate(self, method: Any, request: Message, response_type: type[T], options: MutationOptions) -> T:
        """A mutation: stamped with a request_id (see MutationOptions), retried only with one."""
        stamped, request_id = with_request_id(request, options)
        return self._unary(
            method, stamped, response_type, options, request_id=request_id, retryable=bool(request_id)
        )

    def stream(
        self, method: Any, request: Message, response_type: type[T], options: CallOptions
    ) -> Iterator[T]:
        """A server stream (a read): re-opened on retryable failures; the budget resets per item."""
        correlation_id, metadata, deadline = self._prepare(options)
        attempt = 0
        while True:
            attempt += 1
            timeout = self._remaining(deadline, correlation_id)
            call = method(request, timeout=timeout, metadata=self._authorized(metadata))
            try:
                for item in call:
                    attempt = 0
                    yield cast(T, item)
                return
            except grpc.RpcError as failure:
                error = error_from_rpc(failure, correlation_id=correlation_id)
                self._back_off_or_raise(error, failure, max(attempt, 1), True, deadline)
            finally:
                call.cancel()

    def _unary(
        self,
        method: Any,
        request: Message,
        response_type: type[T],
        options: CallOptions,
        *,
        request_id: str,
        retryable: bool,
    ) -> T:
        correlation_id, metadata, deadline = self._prepare(options)
        attempt = 0
        while True:
            attempt += 1
            timeout = self._remaining(deadline, correlation_id, request_id)
            try:
                response, _ = method.with_call(request, timeout=timeout, metadata=self._authorized(metadata))
            except grpc.RpcError as failure:
                error = error_from_rpc(failure, correlation_id=correlation_id, request_id=request_id)
                self._back_off_or_raise(error, failure, attempt, retryable, deadline)
                continue
            if not isinstance(response, response_type):
                raise TypeError(f"expected {response_type.__name__}, got {type(response).__name__}")
            return response

    def _prepare(self, options: CallOptions) -> tuple[str, tuple[tuple[str, str], ...], float]:
        correlation_id = options.get("correlation_id") or self.correlation_id or uuid.uuid4().hex
        metadata = (
            *((("x-tenant-id", self.tenant_id),) if self.tenant_id else ()),
            *((("x-principal", self.principal),) if self.principal else ()),
            (CORRELATION_KEY, correlation_id),
            *self.metadata,
            *options.get("metadata", ()),
        )
        timeout = options.get("timeout", self.deadline)
        if timeout <= 0:
            raise ValueError("timeout must be > 0 seconds")
        return correlation_id, metadata, self._clock() + timeout

    def _authorized(self, metadata: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
        """The call's metadata plus the current bearer token, when the client has one."""
        return (*authorization_metadata(self.token), *metadata)

    def _remaining(self, deadline: float, correlation_id: str, request_id: str = "") -> float:
        remaining = deadline - self._clock()
        if remaining <= 0:
            raise DeadlineExceededError(
                "the call's deadline passed before another attempt could start",
                correlation_id=correlation_id,
                request_id=request_id,
            )
        return remaining

    def _back_off_or_raise(
        self, error: Q2cError, failure: grpc.RpcError, attempt: int, retryable: bool, deadline: float
    ) -> None:
        """Sleep before the next attempt, or raise `error` when no retry is allowed or fits.

        A throttled call waits at least the delay the server named (plus the usual jitter, so
        that callers throttled together do not all come back at once).
        """
        throttled = self.retries.waits_out(error.code, error.retry_delay, attempt)
        if not (retryable and (throttled or self.retries.retries(error.code, attempt))):
            raise error from failure
        delay = self.retries.backoff(attempt)
        if throttled and error.retry_delay is not None:
            delay += error.retry_delay
        if self._clock() + delay >= deadline:
            raise error from failure
        log.info(
            "retrying after %s (attempt %d, request_id %r, correlation %s) in %.3fs",
            error.code.name,
            attempt,
            error.request_id,
            error.correlation_id,
            delay,
        )
        self._sleep(delay)


class _Idempotent(Protocol):
    request_id: str


def with_request_id(request: M, options: MutationOptions) -> tuple[M, str]:
    """A copy of the request carrying the request_id the options ask for, and that id."""
    stamped = type(request)()
    stamped.CopyFrom(request)
    keyed = cast(_Idempotent, stamped)
    if "request_id" not in options:
        keyed.request_id = keyed.request_id or new_request_id()
    elif options["request_id"] is not None:
        keyed.request_id = options["request_id"]
    return stamped, keyed.request_id
