"""The one error table: q2c errors -> gRPC status with google.rpc rich details."""

from __future__ import annotations

import logging

import grpc
from google.protobuf import any_pb2, duration_pb2  # type: ignore[import-untyped, unused-ignore]
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from q2c_core.app.store_errors import StoreUnavailable
from q2c_core.domain.errors import ErrorKind, Q2cError, UnavailableError

ERROR_DOMAIN = "q2c.v1"
RETRY_AFTER_KEY = "retry_after_ms"
"""ErrorInfo metadata of a RESOURCE_EXHAUSTED error that also becomes a RetryInfo detail."""
log = logging.getLogger(__name__)


STATUS_OF_KIND: dict[ErrorKind, int] = {
    ErrorKind.VALIDATION: code_pb2.INVALID_ARGUMENT,
    ErrorKind.NOT_FOUND: code_pb2.NOT_FOUND,
    ErrorKind.PRECONDITION: code_pb2.FAILED_PRECONDITION,
    ErrorKind.CONFLICT: code_pb2.ABORTED,
    ErrorKind.REQUEST_ID_REUSED: code_pb2.ALREADY_EXISTS,
    ErrorKind.UNAVAILABLE: code_pb2.UNAVAILABLE,
    ErrorKind.INTERNAL: code_pb2.INTERNAL,
    ErrorKind.UNAUTHENTICATED: code_pb2.UNAUTHENTICATED,
    ErrorKind.PERMISSION_DENIED: code_pb2.PERMISSION_DENIED,
    ErrorKind.RESOURCE_EXHAUSTED: code_pb2.RESOURCE_EXHAUSTED,
    ErrorKind.DEADLINE_EXCEEDED: code_pb2.DEADLINE_EXCEEDED,
}
"""The table itself (STYLE.md §5)."""

BLOCKER_DESCRIPTIONS: dict[str, str] = {
    "MISSING_PO_REFERENCE": "the customer requires a PO reference and the contract has none",
    "OPEN_BLOCKING_EXCEPTIONS": "the engagement has open blocking business exceptions",
    "MISSING_TAX_PROFILE": "the customer has no tax profile, so tax cannot be computed",
    "UNPRICED_TIME": "approved hours have no rate on the rate card in force on their work date",
}
"""Human text for each stopping readiness blocker a NOT_READY error names (one violation each)."""


def _packed(message: object) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(message)
    return packed


def _error_info(reason: str, metadata: dict[str, str], correlation_id: str) -> any_pb2.Any:
    meta = {key: str(value) for key, value in metadata.items()}
    if correlation_id:
        meta["correlation_id"] = correlation_id
    return _packed(error_details_pb2.ErrorInfo(reason=reason, domain=ERROR_DOMAIN, metadata=meta))


def _extra_details(error: Q2cError) -> list[any_pb2.Any]:
    """BadRequest for invalid input, PreconditionFailure for a refused state change."""
    if error.kind is ErrorKind.VALIDATION:
        violations = [
            error_details_pb2.BadRequest.FieldViolation(field=v.field, description=v.description)
            for v in error.field_violations
        ]
        return [_packed(error_details_pb2.BadRequest(field_violations=violations))]
    if error.kind is ErrorKind.PRECONDITION:
        return [_packed(error_details_pb2.PreconditionFailure(violations=_precondition_violations(error)))]
    if error.kind is ErrorKind.RESOURCE_EXHAUSTED and RETRY_AFTER_KEY in error.metadata:
        return [_packed(_retry_info(int(error.metadata[RETRY_AFTER_KEY])))]
    return []


def _retry_info(milliseconds: int) -> error_details_pb2.RetryInfo:
    """How long the caller should wait before trying again."""
    delay = duration_pb2.Duration(seconds=milliseconds // 1000, nanos=(milliseconds % 1000) * 1_000_000)
    return error_details_pb2.RetryInfo(retry_delay=delay)


def _precondition_violations(error: Q2cError) -> list[error_details_pb2.PreconditionFailure.Violation]:
    """One violation per failed condition: each readiness blocker of NOT_READY, else the reason."""
    subject = _subject(error.metadata)
    blockers = [kind for kind in error.metadata.get("blockers", "").split(",") if kind]
    if error.reason != "NOT_READY" or not blockers:
        return [
            error_details_pb2.PreconditionFailure.Violation(
                type=error.reason, subject=subject, description=error.message
            )
        ]
    return [
        error_details_pb2.PreconditionFailure.Violation(
            type=kind, subject=subject, description=BLOCKER_DESCRIPTIONS.get(kind, error.message)
        )
        for kind in blockers
    ]


def _subject(metadata: dict[str, str]) -> str:
    """The resource a precondition failed on, e.g. `engagements/<id>`, `deliveries/<id>`."""
    if "engagement_id" in metadata:
        return f"engagements/{metadata['engagement_id']}"
    if "delivery_id" in metadata:
        return f"deliveries/{metadata['delivery_id']}"
    return metadata.get("id", metadata.get("exception_id", metadata.get("milestone_id", "")))


def as_q2c_error(exc: BaseException) -> Q2cError | None:
    """The q2c error an exception stands for, or None when it is unexpected (-> INTERNAL)."""
    if isinstance(exc, Q2cError):
        return exc
    if isinstance(exc, StoreUnavailable):
        return UnavailableError("STORE_UNAVAILABLE", "the store is unavailable; retry")
    return None


def status_for(error: Q2cError, correlation_id: str = "") -> grpc.Status:
    """The gRPC status (code, message, details) for a q2c error."""
    code = STATUS_OF_KIND.get(error.kind, code_pb2.INTERNAL)
    if code == code_pb2.INTERNAL:
        return internal_status(correlation_id)
    details = [_error_info(error.reason, error.metadata, correlation_id), *_extra_details(error)]
    status = status_pb2.Status(code=code, message=error.message, details=details)
    return rpc_status.to_status(status)


def internal_status(correlation_id: str) -> grpc.Status:
    """A generic INTERNAL status: what went wrong stays in the log, keyed by correlation id."""
    message = f"internal error (correlation id {correlation_id})" if correlation_id else "internal error"
    details = [_error_info("INTERNAL", {}, correlation_id)]
    return rpc_status.to_status(status_pb2.Status(code=code_pb2.INTERNAL, message=message, details=details))
