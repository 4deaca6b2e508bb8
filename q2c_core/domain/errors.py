"""Domain errors: one root type; each kind maps to one gRPC status in the gateway's table."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class ErrorKind(StrEnum):
    """The kinds of failure; the gateway maps each to exactly one gRPC status code."""

    VALIDATION = "VALIDATION"  # INVALID_ARGUMENT
    NOT_FOUND = "NOT_FOUND"  # NOT_FOUND
    PRECONDITION = "PRECONDITION"  # FAILED_PRECONDITION
    CONFLICT = "CONFLICT"  # ABORTED
    REQUEST_ID_REUSED = "REQUEST_ID_REUSED"  # ALREADY_EXISTS
    UNAVAILABLE = "UNAVAILABLE"  # UNAVAILABLE
    INTERNAL = "INTERNAL"  # INTERNAL
    UNAUTHENTICATED = "UNAUTHENTICATED"  # UNAUTHENTICATED
    PERMISSION_DENIED = "PERMISSION_DENIED"  # PERMISSION_DENIED
    RESOURCE_EXHAUSTED = "RESOURCE_EXHAUSTED"  # RESOURCE_EXHAUSTED
    DEADLINE_EXCEEDED = "DEADLINE_EXCEEDED"  # DEADLINE_EXCEEDED


class FieldViolation(BaseModel):
    """One invalid field: a dotted path into the request and what is wrong with it."""

    model_config = ConfigDict(frozen=True)

    field: str
    description: str


class Q2cError(Exception):
    """Root of every q2c error: a machine reason, a human message and dynamic metadata."""

    kind: ErrorKind = ErrorKind.INTERNAL
    retryable: bool = False
    audited: bool = False  # set once the attempt has its audit record (host-side rejections)

    def __init__(
        self,
        reason: str,
        message: str,
        metadata: dict[str, str] | None = None,
        field_violations: list[FieldViolation] | None = None,
    ) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.metadata = dict(metadata or {})
        self.field_violations = list(field_violations or [])

    def to_payload(self) -> ErrorPayload:
        """A picklable, JSON-able value carrying this error (results cross Ray, not raises)."""
        return ErrorPayload(
            kind=self.kind,
            reason=self.reason,
            message=self.message,
            metadata=self.metadata,
            field_violations=self.field_violations,
        )


class ValidationError(Q2cError):
    """Malformed or out-of-range input; carries field violations."""

    kind = ErrorKind.VALIDATION

    def __init__(self, violations: list[FieldViolation], message: str | None = None) -> None:
        text = message or "; ".join(f"{v.field}: {v.description}" for v in violations)
        super().__init__("VALIDATION_FAILED", text, {}, violations)

    @classmethod
    def one(cls, field: str, description: str) -> ValidationError:
        """A validation error about a single field."""
        return cls([FieldViolation(field=field, description=description)])


class NotFoundError(Q2cError):
    """An id that names nothing in this tenant."""

    kind = ErrorKind.NOT_FOUND

    def __init__(self, resource: str, resource_id: str) -> None:
        super().__init__(
            f"{resource.upper()}_NOT_FOUND",
            f"{resource} {resource_id!r} not found",
            {"resource": resource, "id": resource_id},
        )


class PreconditionError(Q2cError):
    """The command is well-formed but the resource's state does not allow it."""

    kind = ErrorKind.PRECONDITION


class InvalidStateError(PreconditionError):
    """The lifecycle table rejects this command in the current state."""

    def __init__(self, command: str, state: str, detail: str) -> None:
        super().__init__(
            "INVALID_STATE",
            f"{command} is not allowed in state {state}: {detail}",
            {"command": command, "state": state},
        )


class ConflictError(Q2cError):
    """Lost an optimistic-concurrency race or an etag mismatch; retry after re-reading."""

    kind = ErrorKind.CONFLICT
    retryable = True


class RequestIdReusedError(Q2cError):
    """The request_id was already used with a different payload."""

    kind = ErrorKind.REQUEST_ID_REUSED

    def __init__(self, request_id: str) -> None:
        super().__init__(
            "REQUEST_ID_REUSED",
            f"request_id {request_id!r} was already used with a different payload",
            {"request_id": request_id},
        )


class UnavailableError(Q2cError):
    """The store or an actor cannot be reached right now; safe to retry with a request_id."""

    kind = ErrorKind.UNAVAILABLE
    retryable = True


class UnauthenticatedError(Q2cError):
    """The call carries no valid credentials (missing, malformed, expired or untrusted)."""

    kind = ErrorKind.UNAUTHENTICATED


class PermissionDeniedError(Q2cError):
    """The caller is known but may not do this (scope missing, other tenant, own approval)."""

    kind = ErrorKind.PERMISSION_DENIED


class ResourceExhaustedError(Q2cError):
    """A server limit refused the call before it ran (rate, open streams); retry later."""

    kind = ErrorKind.RESOURCE_EXHAUSTED
    retryable = True


class DeadlineExceededError(Q2cError):
    """Too little of the caller's deadline is left to start the work; nothing was done."""

    kind = ErrorKind.DEADLINE_EXCEEDED


_KIND_TO_CLASS: dict[ErrorKind, type[Q2cError]] = {
    ErrorKind.VALIDATION: ValidationError,
    ErrorKind.NOT_FOUND: NotFoundError,
    ErrorKind.PRECONDITION: PreconditionError,
    ErrorKind.CONFLICT: ConflictError,
    ErrorKind.REQUEST_ID_REUSED: RequestIdReusedError,
    ErrorKind.UNAVAILABLE: UnavailableError,
    ErrorKind.INTERNAL: Q2cError,
    ErrorKind.UNAUTHENTICATED: UnauthenticatedError,
    ErrorKind.PERMISSION_DENIED: PermissionDeniedError,
    ErrorKind.RESOURCE_EXHAUSTED: ResourceExhaustedError,
    ErrorKind.DEADLINE_EXCEEDED: DeadlineExceededError,
}


class ErrorPayload(BaseModel):
    """A domain error as a value: what crosses process boundaries and is stored for replays."""

    model_config = ConfigDict(frozen=True)

    kind: ErrorKind
    reason: str
    message: str
    metadata: dict[str, str] = {}
    field_violations: list[FieldViolation] = []

    def to_error(self) -> Q2cError:
        """Rebuild a raisable error of the right kind."""
        error = Q2cError.__new__(_KIND_TO_CLASS[self.kind])
        Q2cError.__init__(error, self.reason, self.message, self.metadata, list(self.field_violations))
        error.kind = self.kind
        return error
