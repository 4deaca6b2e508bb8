"""Record <-> row-dict conversion; all timestamps are written as UTC and read back aware."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, overload

from sqlalchemy import Row

from q2c_core.app.records import (
    AuditEntry,
    AuditRecord,
    CustomerRow,
    EngagementRow,
    EventRecord,
    ExceptionRow,
    IdempotencyRecord,
    RateCardRow,
    StoredEvent,
)

Params = dict[str, Any]


@overload
def utc(value: datetime) -> datetime: ...
@overload
def utc(value: None) -> None: ...
def utc(value: datetime | None) -> datetime | None:
    """Aware UTC datetime; naive input (as SQLite returns) is taken to be UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def event_params(e: EventRecord) -> Params:
    """Insert parameters for an event."""
    return {
        "tenant_id": e.tenant_id,
        "stream_id": e.stream_id,
        "seq": e.seq,
        "event_id": e.event_id,
        "event_type": e.event_type,
        "payload": e.payload,
        "principal": e.principal,
        "correlation_id": e.correlation_id,
        "request_id": e.request_id,
        "occurred_at": utc(e.occurred_at),
    }


def to_event(r: Row[Any]) -> StoredEvent:
    """A StoredEvent from an events row."""
    m = r._mapping
    return StoredEvent(
        tenant_id=m["tenant_id"],
        stream_id=m["stream_id"],
        seq=m["seq"],
        event_type=m["event_type"],
        payload=m["payload"],
        principal=m["principal"],
        correlation_id=m["correlation_id"],
        request_id=m["request_id"],
        occurred_at=utc(m["occurred_at"]),
        position=m["position"],
    )


def audit_params(
    a: AuditEntry, seq: int, prev_hash: str, hash_: str, events_digest: str | None = None
) -> Params:
    """Insert parameters for an audit entry at seq with its chain hashes (and, for chain
    version 2, the digest of its events)."""
    return {
        "tenant_id": a.tenant_id,
        "stream_id": a.stream_id,
        "seq": seq,
        "principal": a.principal,
        "command_type": a.command_type,
        "request_id": a.request_id,
        "correlation_id": a.correlation_id,
        "payload_digest": a.payload_digest,
        "outcome": a.outcome,
        "rejection_reason": a.rejection_reason,
        "comment": a.comment,
        "event_ids": list(a.event_ids),
        "recorded_at": utc(a.recorded_at),
        "prev_hash": prev_hash,
        "hash": hash_,
        "events_digest": events_digest,
        "chain_version": 1 if events_digest is None else 2,
    }


def to_audit(r: Row[Any] | Params) -> AuditRecord:
    """An AuditRecord from an audit_records row (or insert params plus record_id)."""
    m = r._mapping if isinstance(r, Row) else r
    return AuditRecord(
        tenant_id=m["tenant_id"],
        stream_id=m["stream_id"],
        principal=m["principal"],
        command_type=m["command_type"],
        request_id=m["request_id"],
        correlation_id=m["correlation_id"],
        payload_digest=m["payload_digest"],
        outcome=m["outcome"],
        rejection_reason=m["rejection_reason"],
        comment=m["comment"],
        event_ids=tuple(m["event_ids"]),
        recorded_at=utc(m["recorded_at"]),
        record_id=m["record_id"],
        seq=m["seq"],
        prev_hash=m["prev_hash"],
        hash=m["hash"],
        events_digest=m["events_digest"],
        chain_version=m["chain_version"],
    )


def idem_params(i: IdempotencyRecord) -> Params:
    """Insert parameters for an idempotency record."""
    return {
        "tenant_id": i.tenant_id,
        "request_id": i.request_id,
        "stream_id": i.stream_id,
        "command_type": i.command_type,
        "payload_digest": i.payload_digest,
        "response": i.response,
        "created_at": utc(i.created_at),
    }


def to_idem(r: Row[Any]) -> IdempotencyRecord:
    """An IdempotencyRecord from a row."""
    m = r._mapping
    return IdempotencyRecord(
        tenant_id=m["tenant_id"],
        request_id=m["request_id"],
        stream_id=m["stream_id"],
        command_type=m["command_type"],
        payload_digest=m["payload_digest"],
        response=m["response"],
        created_at=utc(m["created_at"]),
    )


def engagement_params(e: EngagementRow) -> Params:
    """Upsert parameters for an engagement row."""
    return {
        "tenant_id": e.tenant_id,
        "engagement_id": e.engagement_id,
        "customer_id": e.customer_id,
        "display_name": e.display_name,
        "state": e.state,
        "version": e.version,
        "create_time": utc(e.create_time),
        "update_time": utc(e.update_time),
        "currency": e.currency,
        **({"snapshot": e.snapshot, "snapshot_version": e.snapshot_at} if e.snapshot is not None else {}),
    }


def to_engagement(r: Row[Any]) -> EngagementRow:
    """An EngagementRow from a row."""
    m = r._mapping
    return EngagementRow(
        tenant_id=m["tenant_id"],
        engagement_id=m["engagement_id"],
        customer_id=m["customer_id"],
        display_name=m["display_name"],
        state=m["state"],
        version=m["version"],
        snapshot=m["snapshot"],
        create_time=utc(m["create_time"]),
        update_time=utc(m["update_time"]),
        currency=m["currency"],
        snapshot_version=m["snapshot_version"],
    )


def exception_params(x: ExceptionRow) -> Params:
    """Upsert parameters for an exception row."""
    return {
        "tenant_id": x.tenant_id,
        "exception_id": x.exception_id,
        "engagement_id": x.engagement_id,
        "customer_id": x.customer_id,
        "step": x.step,
        "check_name": x.check_name,
        "severity": x.severity,
        "state": x.state,
        "data": x.data,
        "raise_time": utc(x.raise_time),
        "resolve_time": utc(x.resolve_time),
        "owner_queue": x.owner_queue,
        "sla_due_time": utc(x.sla_due_time),
    }


def to_exception(r: Row[Any]) -> ExceptionRow:
    """An ExceptionRow from a row."""
    m = r._mapping
    return ExceptionRow(
        tenant_id=m["tenant_id"],
        exception_id=m["exception_id"],
        engagement_id=m["engagement_id"],
        customer_id=m["customer_id"],
        step=m["step"],
        check_name=m["check_name"],
        severity=m["severity"],
        state=m["state"],
        data=m["data"],
        raise_time=utc(m["raise_time"]),
        resolve_time=utc(m["resolve_time"]),
        owner_queue=m["owner_queue"],
        sla_due_time=utc(m["sla_due_time"]),
    )


def customer_params(c: CustomerRow) -> Params:
    """Insert/update parameters for a customer row."""
    return {
        "tenant_id": c.tenant_id,
        "customer_id": c.customer_id,
        "display_name": c.display_name,
        "status": c.status,
        "version": c.version,
        "data": c.data,
        "create_time": utc(c.create_time),
        "update_time": utc(c.update_time),
    }


def to_customer(r: Row[Any]) -> CustomerRow:
    """A CustomerRow from a row."""
    m = r._mapping
    return CustomerRow(
        tenant_id=m["tenant_id"],
        customer_id=m["customer_id"],
        display_name=m["display_name"],
        status=m["status"],
        version=m["version"],
        data=m["data"],
        create_time=utc(m["create_time"]),
        update_time=utc(m["update_time"]),
    )


def rate_card_params(c: RateCardRow) -> Params:
    """Insert parameters for a rate card revision."""
    return {
        "tenant_id": c.tenant_id,
        "rate_card_id": c.rate_card_id,
        "revision": c.revision,
        "currency_code": c.currency_code,
        "data": c.data,
        "create_time": utc(c.create_time),
    }


def to_rate_card(r: Row[Any]) -> RateCardRow:
    """A RateCardRow from a row."""
    m = r._mapping
    return RateCardRow(
        tenant_id=m["tenant_id"],
        rate_card_id=m["rate_card_id"],
        revision=m["revision"],
        currency_code=m["currency_code"],
        data=m["data"],
        create_time=utc(m["create_time"]),
    )
