"""Signed audit checkpoints and security events <-> proto."""

from __future__ import annotations

from datetime import UTC

from q2c.v1 import audit_pb2
from q2c_core.app.audit.anchor import CHECKPOINT_FORMAT, Checkpoint, StreamHead
from q2c_core.app.records import SecurityEventRow
from q2c_core.domain.errors import ValidationError
from q2c_core.edge.converters.convert_common import timestamp_out

_PROBLEM = "AUDIT_PROBLEM_"


def checkpoint_out(checkpoint: Checkpoint) -> audit_pb2.AuditCheckpoint:
    """Signed checkpoint -> proto."""
    return audit_pb2.AuditCheckpoint(
        tenant_id=checkpoint.tenant_id,
        sequence=checkpoint.sequence,
        create_time=timestamp_out(checkpoint.created_at),
        stream_heads=[
            audit_pb2.AuditStreamHead(stream_id=h.stream_id, sequence=h.seq, hash=h.hash)
            for h in checkpoint.heads
        ],
        root_hash=checkpoint.root,
        key_id=checkpoint.key_id,
        signature=checkpoint.signature,
        format=checkpoint.format,
    )


def checkpoint_in(message: audit_pb2.AuditCheckpoint, path: str = "checkpoint") -> Checkpoint:
    """A checkpoint the caller supplies (its signature is checked later, by the ledger)."""
    if message.sequence <= 0 or not message.HasField("create_time") or not message.signature:
        raise ValidationError.one(path, "needs sequence > 0, create_time and signature")
    try:
        created_at = message.create_time.ToDatetime(tzinfo=UTC)
    except (ValueError, OverflowError):
        raise ValidationError.one(f"{path}.create_time", "is not a valid timestamp") from None
    return Checkpoint(
        tenant_id=message.tenant_id,
        sequence=message.sequence,
        created_at=created_at,
        heads=tuple(StreamHead(h.stream_id, h.sequence, h.hash) for h in message.stream_heads),
        root=message.root_hash,
        key_id=message.key_id,
        signature=message.signature,
        format=message.format or CHECKPOINT_FORMAT,
    )


def problem_out(reason: str) -> audit_pb2.AuditProblem:
    """A VerifyResult reason code -> AuditProblem (UNSPECIFIED for '' or an unknown code)."""
    name = _PROBLEM + reason
    if reason and name in audit_pb2.AuditProblem.DESCRIPTOR.values_by_name:
        problem: audit_pb2.AuditProblem = audit_pb2.AuditProblem.Value(name)
        return problem
    return audit_pb2.AUDIT_PROBLEM_UNSPECIFIED


def security_event_out(row: SecurityEventRow) -> audit_pb2.SecurityEvent:
    """Security log row -> proto."""
    return audit_pb2.SecurityEvent(
        event_id=str(row.event_id),
        tenant_id=row.tenant_id,
        principal=row.principal,
        method=row.method,
        code=row.code,
        reason=row.reason,
        message=row.message,
        peer=row.peer,
        correlation_id=row.correlation_id,
        suppressed_before=row.suppressed_before,
        event_time=timestamp_out(row.occurred_at),
    )
