"""Audited, idempotent writes outside the engagement hosts (catalog, bill runs)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from q2c_core.app.messages import Caller
from q2c_core.app.ports import IdempotencyRecords
from q2c_core.app.records import AuditEntry, IdempotencyRecord, WriteBatch
from q2c_core.domain.errors import RequestIdReusedError


def stored_response(
    store: IdempotencyRecords, caller: Caller, request_id: str | None, digest: str
) -> dict[str, Any] | None:
    """The reply recorded for this request_id, or None; another payload -> RequestIdReusedError."""
    if not request_id:
        return None
    record = store.find_idempotency(caller.tenant_id, [request_id]).get(request_id)
    if record is None:
        return None
    if record.payload_digest != digest:
        raise RequestIdReusedError(request_id)
    return record.response


def record_accepted(
    batch: WriteBatch,
    caller: Caller,
    *,
    request_id: str | None,
    digest: str,
    command_type: str,
    stream_id: str,
    now: datetime,
    response: dict[str, Any],
    comment: str | None = None,
) -> WriteBatch:
    """Add the ACCEPTED audit record (and the idempotency record) a write commits with."""
    batch.audit.append(
        AuditEntry(
            tenant_id=caller.tenant_id,
            stream_id=stream_id,
            principal=caller.principal,
            command_type=command_type,
            request_id=request_id,
            correlation_id=caller.correlation_id,
            payload_digest=digest,
            outcome="ACCEPTED",
            comment=comment or None,
            recorded_at=now,
        )
    )
    if request_id:
        batch.idempotency.append(
            IdempotencyRecord(
                tenant_id=caller.tenant_id,
                request_id=request_id,
                stream_id=stream_id,
                command_type=command_type,
                payload_digest=digest,
                response=response,
                created_at=now,
            )
        )
    return batch
