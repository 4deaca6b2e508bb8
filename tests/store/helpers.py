"""Builders for store test records."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from q2c_core.adapters.store import (
    AuditEntry,
    CustomerRow,
    EngagementRow,
    EventRecord,
    ExceptionRow,
    IdempotencyRecord,
    RateCardRow,
)

T0 = datetime(2026, 1, 1, 12, 0, 0, 123456, tzinfo=UTC)


def uid(prefix: str) -> str:
    """A unique id with a readable prefix."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def ev(tenant: str, stream: str, seq: int, etype: str = "Touched", **payload: Any) -> EventRecord:
    """An event at seq."""
    return EventRecord(
        tenant_id=tenant,
        stream_id=stream,
        seq=seq,
        event_type=etype,
        payload={"n": seq, **payload},
        principal="alice",
        correlation_id="corr-1",
        request_id=f"req-{stream}-{seq}",
        occurred_at=T0 + timedelta(seconds=seq),
    )


def audit(
    tenant: str,
    stream: str,
    command: str = "Touch",
    *,
    outcome: str = "ACCEPTED",
    event_ids: tuple[str, ...] = (),
    request_id: str | None = None,
) -> AuditEntry:
    """An audit entry."""
    return AuditEntry(
        tenant_id=tenant,
        stream_id=stream,
        principal="alice",
        command_type=command,
        request_id=request_id,
        correlation_id="corr-1",
        payload_digest="d" * 64,
        outcome=outcome,  # type: ignore[arg-type]
        rejection_reason=None if outcome == "ACCEPTED" else "nope",
        comment=None,
        event_ids=event_ids,
        recorded_at=T0,
    )


def idem(tenant: str, request_id: str, stream: str = "s") -> IdempotencyRecord:
    """An idempotency record."""
    return IdempotencyRecord(
        tenant_id=tenant,
        request_id=request_id,
        stream_id=stream,
        command_type="Touch",
        payload_digest="d" * 64,
        response={"ok": True, "stream": stream},
        created_at=T0,
    )


def engagement(
    tenant: str, eid: str, version: int, *, state: str = "DRAFT", customer: str = "cust-1", minute: int = 0
) -> EngagementRow:
    """An engagement read-model row."""
    t = T0 + timedelta(minutes=minute)
    return EngagementRow(
        tenant_id=tenant,
        engagement_id=eid,
        customer_id=customer,
        display_name=f"E {eid}",
        state=state,
        version=version,
        snapshot={"id": eid, "version": version},
        create_time=t,
        update_time=t,
    )


def exception_row(
    tenant: str, xid: str, eid: str, *, state: str = "OPEN", severity: str = "BLOCKING", minute: int = 0
) -> ExceptionRow:
    """A business exception row."""
    return ExceptionRow(
        tenant_id=tenant,
        exception_id=xid,
        engagement_id=eid,
        customer_id="cust-1",
        step="close_won",
        check_name="tax_profile",
        severity=severity,
        state=state,
        data={"id": xid},
        raise_time=T0 + timedelta(minutes=minute),
        resolve_time=None,
    )


def customer(
    tenant: str, cid: str, version: int = 1, *, status: str = "ACTIVE", minute: int = 0
) -> CustomerRow:
    """A customer row."""
    t = T0 + timedelta(minutes=minute)
    return CustomerRow(
        tenant_id=tenant,
        customer_id=cid,
        display_name=f"C {cid}",
        status=status,
        version=version,
        data={"id": cid, "v": version},
        create_time=t,
        update_time=t,
    )


def rate_card(tenant: str, rid: str, revision: int, currency: str = "USD") -> RateCardRow:
    """A rate card revision."""
    return RateCardRow(
        tenant_id=tenant,
        rate_card_id=rid,
        revision=revision,
        currency_code=currency,
        data={"id": rid, "revision": revision},
        create_time=T0,
    )
