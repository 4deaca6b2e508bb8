"""Reading a failed call's `google.rpc.Status` into a typed `Q2cError`."""

from __future__ import annotations

import logging
from typing import Any

import grpc
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

from q2c_sdk.errors import STATUS_CLASSES, FieldViolation, PreconditionViolation, Q2cError, UnknownError
from q2c_sdk.reasons import REASON_CLASSES

CORRELATION_KEY = "x-correlation-id"
"""Call metadata key of the correlation id (sent by the client, echoed by the server)."""

log = logging.getLogger(__name__)


def error_class(code: grpc.StatusCode, reason: str) -> type[Q2cError]:
    """The class for a reason when it travels with its documented code, else the code's class."""
    by_reason = REASON_CLASSES.get(reason)
    if by_reason is not None and by_reason.default_code == code:
        return by_reason
    return STATUS_CLASSES.get(code, UnknownError)


def error_from_rpc(error: grpc.RpcError, *, correlation_id: str = "", request_id: str = "") -> Q2cError:
    """The typed exception for a failed call; `correlation_id` is the one sent with it."""
    code = _call(error, "code") or grpc.StatusCode.UNKNOWN
    message = _call(error, "details") or ""
    status = _rich_status(error)
    info = _first(status, error_details_pb2.ErrorInfo)
    metadata = dict(info.metadata) if info is not None else {}
    echoed = _echoed_correlation_id(error) or metadata.get("correlation_id", "")
    cls = error_class(code, info.reason if info is not None else "")
    retry = _first(status, error_details_pb2.RetryInfo)
    return cls(
        message,
        code=code,
        reason=info.reason if info is not None else "",
        domain=info.domain if info is not None else "",
        metadata=metadata,
        field_violations=_field_violations(status),
        precondition_violations=_precondition_violations(status),
        correlation_id=echoed or correlation_id,
        request_id=request_id,
        retry_delay=retry.retry_delay.ToTimedelta().total_seconds() if retry is not None else None,
    )


def _call(error: grpc.RpcError, attribute: str) -> Any:
    """A grpc.Call accessor of the error, or None when the error is not a Call."""
    accessor = getattr(error, attribute, None)
    return accessor() if callable(accessor) else None


def _rich_status(error: grpc.RpcError) -> status_pb2.Status | None:
    if not isinstance(error, grpc.Call):
        return None
    try:
        status: status_pb2.Status | None = rpc_status.from_call(error)
    except ValueError:
        # Code or message disagree with the packed status: trust the call, keep the details.
        log.warning("inconsistent grpc-status-details-bin on %s", error.code())
        status = _packed_status(error.trailing_metadata())
    return status


def _packed_status(trailing: Any) -> status_pb2.Status | None:
    for key, value in trailing or ():
        if key == "grpc-status-details-bin":
            return status_pb2.Status.FromString(value)
    return None


def _unpacked(status: status_pb2.Status | None, kind: type[Any]) -> list[Any]:
    found: list[Any] = []
    for detail in status.details if status is not None else ():
        message = kind()
        if detail.Unpack(message):
            found.append(message)
    return found


def _first(status: status_pb2.Status | None, kind: type[Any]) -> Any:
    found = _unpacked(status, kind)
    return found[0] if found else None


def _field_violations(status: status_pb2.Status | None) -> tuple[FieldViolation, ...]:
    return tuple(
        FieldViolation(field=v.field, description=v.description)
        for request in _unpacked(status, error_details_pb2.BadRequest)
        for v in request.field_violations
    )


def _precondition_violations(status: status_pb2.Status | None) -> tuple[PreconditionViolation, ...]:
    return tuple(
        PreconditionViolation(type=v.type, subject=v.subject, description=v.description)
        for failure in _unpacked(status, error_details_pb2.PreconditionFailure)
        for v in failure.violations
    )


def _echoed_correlation_id(error: grpc.RpcError) -> str:
    """The correlation id in the server's initial metadata, "" when there is none."""
    for source in ("initial_metadata", "trailing_metadata"):
        for key, value in _call(error, source) or ():
            if key == CORRELATION_KEY and isinstance(value, str):
                return value
    return ""
