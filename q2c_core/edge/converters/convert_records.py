"""Business exceptions, audit records and chain verification -> proto; their list filters in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from google.protobuf.duration_pb2 import Duration  # type: ignore[import-untyped, unused-ignore]

from q2c.v1 import audit_pb2, common_pb2, exception_pb2
from q2c_core.app.audit.chain import VerifyResult
from q2c_core.app.records import AuditRecord
from q2c_core.domain.entities import BusinessException, ExceptionState, OwnerQueue, Severity
from q2c_core.domain.errors import ValidationError
from q2c_core.edge.converters.convert_audit import checkpoint_out, problem_out
from q2c_core.edge.converters.convert_common import enum_in, enum_out, timestamp_out

_SEVERITY = "EXCEPTION_SEVERITY_"
_STATE = "EXCEPTION_STATE_"
_QUEUE = "OWNER_QUEUE_"


@dataclass(frozen=True, slots=True)
class ExceptionFilters:
    """What ListExceptions asks for: filters (None = any) and the order."""

    state: ExceptionState | None
    severity: Severity | None
    engagement_id: str | None
    owner_queue: OwnerQueue | None
    newest_first: bool


def exception_out(exception: BusinessException, now: datetime) -> exception_pb2.BusinessException:
    """Business exception -> proto; age and sla_breached are computed as of `now`."""
    age = Duration()
    age.FromTimedelta(exception.age(now))
    return exception_pb2.BusinessException(
        exception_id=exception.exception_id,
        engagement_id=exception.engagement_id,
        customer_id=exception.customer_id,
        step=enum_out(common_pb2.GatedStep, "GATED_STEP_", exception.step),
        check=exception.check,
        severity=enum_out(exception_pb2.ExceptionSeverity, _SEVERITY, exception.severity),
        state=enum_out(exception_pb2.ExceptionState, _STATE, exception.state),
        message=exception.message,
        correction=exception.correction,
        resolution_note=exception.resolution_note,
        resolved_by=exception.resolved_by,
        raise_time=timestamp_out(exception.raise_time),
        resolve_time=timestamp_out(exception.resolve_time),
        owner_queue=enum_out(exception_pb2.OwnerQueue, _QUEUE, exception.owner_queue),
        sla_due_time=timestamp_out(exception.sla_due_time),
        age=age,
        sla_breached=exception.sla_breached(now),
    )


def exception_filters(request: exception_pb2.ListExceptionsRequest) -> ExceptionFilters:
    """ListExceptionsRequest filters (UNSPECIFIED / empty = any) and order (UNSPECIFIED = oldest first)."""
    state = enum_in(exception_pb2.ExceptionState, _STATE, request.state, ExceptionState, "state")
    severity = enum_in(exception_pb2.ExceptionSeverity, _SEVERITY, request.severity, Severity, "severity")
    queue = enum_in(exception_pb2.OwnerQueue, _QUEUE, request.owner_queue, OwnerQueue, "owner_queue")
    orders = exception_pb2.ExceptionOrder
    if request.order_by not in (
        orders.EXCEPTION_ORDER_UNSPECIFIED,
        orders.EXCEPTION_ORDER_OLDEST_FIRST,
        orders.EXCEPTION_ORDER_NEWEST_FIRST,
    ):
        raise ValidationError.one("order_by", f"unknown enum value {request.order_by}")
    newest = request.order_by == orders.EXCEPTION_ORDER_NEWEST_FIRST
    return ExceptionFilters(state, severity, request.engagement_id or None, queue, newest)


def audit_record_out(record: AuditRecord) -> audit_pb2.AuditRecord:
    """Stored audit record -> proto."""
    return audit_pb2.AuditRecord(
        record_id=str(record.record_id),
        stream_id=record.stream_id,
        sequence=record.seq,
        principal=record.principal,
        tenant_id=record.tenant_id,
        command_type=record.command_type,
        request_id=record.request_id or "",
        correlation_id=record.correlation_id,
        payload_digest=record.payload_digest,
        outcome=audit_pb2.AuditOutcome.Value(f"AUDIT_OUTCOME_{record.outcome}"),
        rejection_reason=record.rejection_reason or "",
        comment=record.comment or "",
        event_ids=list(record.event_ids),
        record_time=timestamp_out(record.recorded_at),
        previous_hash=record.prev_hash,
        hash=record.hash,
    )


def verify_out(result: VerifyResult) -> audit_pb2.VerifyAuditLogResponse:
    """Chain (and checkpoint) verification result -> proto."""
    invalid = result.first_invalid
    checkpoint = result.checkpoint
    return audit_pb2.VerifyAuditLogResponse(
        ok=result.ok,
        records_checked=result.records_checked,
        first_invalid_record=audit_record_out(invalid) if invalid else None,
        problem=result.problem,
        reason=problem_out(result.reason),
        checkpoint=checkpoint_out(checkpoint) if checkpoint else None,
        problem_stream_id=result.stream_id,
    )
