"""Typed exceptions for q2c call failures: one class per status code and per ErrorInfo reason.

Every q2c error carries exactly one `google.rpc.ErrorInfo` (domain `q2c.v1`); `error_from_rpc`
turns a failed call into the most specific class for its reason, falling back to the class of
its status code for reasons this SDK does not know yet (so new server reasons never break code
that catches by status).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import grpc


@dataclass(frozen=True)
class FieldViolation:
    """One invalid input field (`google.rpc.BadRequest`), e.g. `entries[3].hours`."""

    field: str
    description: str


@dataclass(frozen=True)
class PreconditionViolation:
    """One failed condition (`google.rpc.PreconditionFailure`), e.g. a readiness blocker."""

    type: str
    subject: str
    description: str


class Q2cError(Exception):
    """Root of every error the SDK raises for a failed call.

    Attributes: `code` (grpc.StatusCode), `reason` (ErrorInfo reason, "" when the failure carried
    none, e.g. a connection refused), `domain`, `metadata` (ErrorInfo metadata), the
    `field_violations` and `precondition_violations` of the status, `message` (for humans),
    `correlation_id` (the one the server echoed, else the one sent), `request_id` (the
    idempotency key sent with a mutation, "" for reads or when opted out) and `retry_delay`
    (seconds, from a `google.rpc.RetryInfo` detail: how long the server asks the caller to wait;
    None when it named none).
    """

    default_code: grpc.StatusCode = grpc.StatusCode.UNKNOWN

    def __init__(
        self,
        message: str,
        *,
        code: grpc.StatusCode | None = None,
        reason: str = "",
        domain: str = "",
        metadata: Mapping[str, str] | None = None,
        field_violations: tuple[FieldViolation, ...] = (),
        precondition_violations: tuple[PreconditionViolation, ...] = (),
        correlation_id: str = "",
        request_id: str = "",
        retry_delay: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code if code is not None else self.default_code
        self.reason = reason
        self.domain = domain
        self.metadata: Mapping[str, str] = MappingProxyType(dict(metadata or {}))
        self.field_violations = field_violations
        self.precondition_violations = precondition_violations
        self.correlation_id = correlation_id
        self.request_id = request_id
        self.retry_delay = retry_delay

    @property
    def retryable(self) -> bool:
        """True when the same call may be retried as is (UNAVAILABLE)."""
        return bool(self.code == grpc.StatusCode.UNAVAILABLE)

    def __str__(self) -> str:
        name = self.code.name if isinstance(self.code, grpc.StatusCode) else str(self.code)
        reason = f" {self.reason}" if self.reason else ""
        return f"{name}{reason}: {self.message} (correlation id {self.correlation_id or '-'})"


# -- one class per status code ------------------------------------------------------------------


class InvalidArgumentError(Q2cError):
    """INVALID_ARGUMENT: the request is malformed; see `field_violations`."""

    default_code = grpc.StatusCode.INVALID_ARGUMENT


class NotFoundError(Q2cError):
    """NOT_FOUND: a resource the request names does not exist (in the caller's tenant)."""

    default_code = grpc.StatusCode.NOT_FOUND


class AlreadyExistsError(Q2cError):
    """ALREADY_EXISTS: in q2c, a request_id reused with a different payload."""

    default_code = grpc.StatusCode.ALREADY_EXISTS


class FailedPreconditionError(Q2cError):
    """FAILED_PRECONDITION: the resource's state does not allow the call; see `reason`."""

    default_code = grpc.StatusCode.FAILED_PRECONDITION


class AbortedError(Q2cError):
    """ABORTED: a concurrency conflict; re-read and try again."""

    default_code = grpc.StatusCode.ABORTED


class UnavailableError(Q2cError):
    """UNAVAILABLE: transient; safe to retry reads and mutations that carry a request_id."""

    default_code = grpc.StatusCode.UNAVAILABLE


class UnauthenticatedError(Q2cError):
    """UNAUTHENTICATED: the call carries no usable identity."""

    default_code = grpc.StatusCode.UNAUTHENTICATED


class PermissionDeniedError(Q2cError):
    """PERMISSION_DENIED: the caller may not do this."""

    default_code = grpc.StatusCode.PERMISSION_DENIED


class DeadlineExceededError(Q2cError):
    """DEADLINE_EXCEEDED: the call's deadline passed (a mutation may or may not have happened)."""

    default_code = grpc.StatusCode.DEADLINE_EXCEEDED


class CancelledError(Q2cError):
    """CANCELLED: the call was cancelled."""

    default_code = grpc.StatusCode.CANCELLED


class ResourceExhaustedError(Q2cError):
    """RESOURCE_EXHAUSTED: a quota or message-size limit was hit."""

    default_code = grpc.StatusCode.RESOURCE_EXHAUSTED


class UnimplementedError(Q2cError):
    """UNIMPLEMENTED: the server does not implement the method."""

    default_code = grpc.StatusCode.UNIMPLEMENTED


class InternalError(Q2cError):
    """INTERNAL: a server bug; details are in the server log under `correlation_id`."""

    default_code = grpc.StatusCode.INTERNAL


class UnknownError(Q2cError):
    """UNKNOWN (or any status this SDK has no class for)."""

    default_code = grpc.StatusCode.UNKNOWN


STATUS_CLASSES: Mapping[grpc.StatusCode, type[Q2cError]] = MappingProxyType(
    {
        cls.default_code: cls
        for cls in (
            InvalidArgumentError,
            NotFoundError,
            AlreadyExistsError,
            FailedPreconditionError,
            AbortedError,
            UnavailableError,
            UnauthenticatedError,
            PermissionDeniedError,
            DeadlineExceededError,
            CancelledError,
            ResourceExhaustedError,
            UnimplementedError,
            InternalError,
            UnknownError,
        )
    }
)
"""The class raised for each status code when the reason has no class of its own."""
