"""A scripted q2c server on `grpc_testing.channel`: the test plays the server, call by call.

The client under test runs in a worker thread (its calls block until the test answers);
`FakeQ2c.take` draws the next call the client made and `answer` / `fail` terminate it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import grpc
import grpc_testing  # type: ignore[import-untyped]
from google.protobuf import any_pb2  # type: ignore[import-untyped, unused-ignore]
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

from q2c.v1 import (
    audit_pb2,
    billing_pb2,
    customer_pb2,
    delivery_pb2,
    engagement_pb2,
    event_pb2,
    exception_pb2,
    rate_card_pb2,
)
from q2c_sdk import Q2cClient, RetryPolicy

SERVICES = (
    customer_pb2.DESCRIPTOR.services_by_name["CustomerService"],
    rate_card_pb2.DESCRIPTOR.services_by_name["RateCardService"],
    engagement_pb2.DESCRIPTOR.services_by_name["EngagementService"],
    exception_pb2.DESCRIPTOR.services_by_name["ExceptionService"],
    audit_pb2.DESCRIPTOR.services_by_name["AuditService"],
    billing_pb2.DESCRIPTOR.services_by_name["BillingService"],
    event_pb2.DESCRIPTOR.services_by_name["EventService"],
    delivery_pb2.DESCRIPTOR.services_by_name["DeliveryService"],
)
FAST_RETRIES = RetryPolicy(max_attempts=4, initial_backoff=0.001, max_backoff=0.005)


def method(service: str, name: str) -> Any:
    """The method descriptor of `service.name`, e.g. ("EngagementService", "SubmitTimeEntries")."""
    for descriptor in SERVICES:
        if descriptor.name == service:
            return descriptor.methods_by_name[name]
    raise KeyError(service)


def rich_failure(
    code: grpc.StatusCode,
    reason: str,
    message: str = "refused",
    metadata: dict[str, str] | None = None,
    *extra: Any,
) -> tuple[tuple[tuple[str, bytes], ...], grpc.StatusCode, str]:
    """Trailing metadata, code and details of a q2c error: one ErrorInfo plus `extra` details."""
    details = [error_details_pb2.ErrorInfo(reason=reason, domain="q2c.v1", metadata=metadata or {}), *extra]
    packed = []
    for detail in details:
        any_detail = any_pb2.Any()
        any_detail.Pack(detail)
        packed.append(any_detail)
    status = rpc_status.to_status(status_pb2.Status(code=code.value[0], message=message, details=packed))
    return tuple(status.trailing_metadata), status.code, status.details


def bad_request(*fields: str) -> error_details_pb2.BadRequest:
    """A BadRequest with one violation per field path."""
    return error_details_pb2.BadRequest(
        field_violations=[
            error_details_pb2.BadRequest.FieldViolation(field=f, description=f"{f} is invalid")
            for f in fields
        ]
    )


def precondition_failure(
    *types: str, subject: str = "engagements/e-1"
) -> error_details_pb2.PreconditionFailure:
    """A PreconditionFailure with one violation per type."""
    return error_details_pb2.PreconditionFailure(
        violations=[
            error_details_pb2.PreconditionFailure.Violation(type=t, subject=subject, description=t.lower())
            for t in types
        ]
    )


@dataclass
class Taken:
    """One call the client made: its metadata, request and the handle to answer it."""

    metadata: dict[str, str]
    request: Any
    rpc: Any

    def answer(self, response: Any, initial: tuple[tuple[str, str], ...] = ()) -> None:
        """Reply OK with `response` (after `initial` metadata, e.g. an echoed correlation id)."""
        if initial:
            self.rpc.send_initial_metadata(initial)
        self.rpc.terminate(response, (), grpc.StatusCode.OK, "")

    def fail(
        self,
        failure: tuple[tuple[tuple[str, bytes], ...], grpc.StatusCode, str],
        initial: tuple[tuple[str, str], ...] = (),
    ) -> None:
        """Terminate with a failure from `rich_failure` (or a bare one built by `bare`)."""
        trailing, code, details = failure
        if initial:
            self.rpc.send_initial_metadata(initial)
        self.rpc.terminate(None, trailing, code, details)


def bare(code: grpc.StatusCode, details: str = "connection reset") -> tuple[tuple[()], grpc.StatusCode, str]:
    """A failure without rich details, as a transport error looks."""
    return (), code, details


class RecordingChannel:
    """Wraps the testing channel to record each call's timeout (grpc_testing drops it)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.timeouts: list[float | None] = []

    def unary_unary(self, path: str, *args: Any, **kwargs: Any) -> Any:
        """A unary multi-callable recording timeouts."""
        return _Recorded(self.inner.unary_unary(path, *args, **kwargs), self.timeouts)

    def unary_stream(self, path: str, *args: Any, **kwargs: Any) -> Any:
        """A server-streaming multi-callable recording timeouts."""
        return _Recorded(self.inner.unary_stream(path, *args, **kwargs), self.timeouts)


class _Recorded:
    def __init__(self, inner: Any, timeouts: list[float | None]) -> None:
        self.inner = inner
        self.timeouts = timeouts

    def __call__(self, request: Any, timeout: float | None = None, metadata: Any = None) -> Any:
        self.timeouts.append(timeout)
        return self.inner(request, timeout=timeout, metadata=metadata)

    def with_call(self, request: Any, timeout: float | None = None, metadata: Any = None) -> Any:
        self.timeouts.append(timeout)
        return self.inner.with_call(request, timeout=timeout, metadata=metadata)


class FakeQ2c:
    """The scripted server, the recording channel and a worker thread for client calls."""

    def __init__(self) -> None:
        self.channel = grpc_testing.channel(SERVICES, grpc_testing.strict_real_time())
        self.recording = RecordingChannel(self.channel)
        self.pool = ThreadPoolExecutor(max_workers=2)

    def client(self, retries: RetryPolicy = FAST_RETRIES, **kwargs: Any) -> Q2cClient:
        """A client over the fake channel."""
        kwargs.setdefault("tenant_id", "acme")
        kwargs.setdefault("principal", "alice")
        return Q2cClient(channel=self.recording, retries=retries, **kwargs)

    def run(self, call: Callable[[], Any]) -> Future[Any]:
        """Start a client call in the worker thread."""
        return self.pool.submit(call)

    def take(self, service: str, name: str) -> Taken:
        """The next unary call of `service.name` the client made (blocks until it does)."""
        metadata, request, rpc = self.channel.take_unary_unary(method(service, name))
        return Taken(dict(_strings(metadata)), request, rpc)

    def take_stream(self, service: str, name: str) -> Taken:
        """The next server-streaming call of `service.name`."""
        metadata, request, rpc = self.channel.take_unary_stream(method(service, name))
        return Taken(dict(_strings(metadata)), request, rpc)

    def close(self) -> None:
        """Stop the worker thread (calls still blocked are abandoned)."""
        self.pool.shutdown(wait=False, cancel_futures=True)


def _strings(metadata: Any) -> Iterator[tuple[str, str]]:
    for key, value in metadata or ():
        if isinstance(value, str):
            yield key, value
