"""Hash chain over each stream's audit records: hash = sha256(prev_hash + canonical record)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from q2c_core.store.records import AuditEntry, AuditRecord

GENESIS_HASH = "0" * 64


def format_utc(value: datetime) -> str:
    """Render a datetime as UTC `YYYY-MM-DDTHH:MM:SS.ffffffZ` (naive means UTC)."""
    aware = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return aware.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(entry: AuditEntry, seq: int) -> bytes:
    """Canonical JSON bytes of an audit entry at `seq` (sorted keys, no whitespace)."""
    fields = {
        "tenant_id": entry.tenant_id,
        "stream_id": entry.stream_id,
        "seq": seq,
        "principal": entry.principal,
        "command_type": entry.command_type,
        "request_id": entry.request_id,
        "correlation_id": entry.correlation_id,
        "payload_digest": entry.payload_digest,
        "outcome": entry.outcome,
        "rejection_reason": entry.rejection_reason,
        "comment": entry.comment,
        "event_ids": list(entry.event_ids),
        "recorded_at": format_utc(entry.recorded_at),
    }
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def chain_hash(prev_hash: str, canonical_bytes: bytes) -> str:
    """sha256(prev_hash + canonical bytes) as lowercase hex."""
    return hashlib.sha256(prev_hash.encode() + canonical_bytes).hexdigest()


def record_hash(record: AuditRecord) -> str:
    """Recompute a stored record's hash from its own fields and prev_hash."""
    return chain_hash(record.prev_hash, canonical(record, record.seq))


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """Outcome of a chain verification; first_invalid is the first bad record, if any."""

    ok: bool
    records_checked: int
    first_invalid: AuditRecord | None = None
    problem: str = ""


def verify(records: Iterable[AuditRecord]) -> VerifyResult:
    """Verify records given in (stream_id, seq) order; one or many streams, consumed lazily."""
    checked = 0
    stream: str | None = None
    expected_seq = 1
    prev = GENESIS_HASH
    for rec in records:
        checked += 1
        if rec.stream_id != stream:
            stream, expected_seq, prev = rec.stream_id, 1, GENESIS_HASH
        problem = _check(rec, expected_seq, prev)
        if problem:
            return VerifyResult(False, checked, rec, problem)
        expected_seq, prev = rec.seq + 1, rec.hash
    return VerifyResult(True, checked)


def _check(rec: AuditRecord, expected_seq: int, prev: str) -> str:
    """Describe what is wrong with one record given its predecessor, or return ''."""
    if rec.seq != expected_seq:
        kind = "missing records (deleted?)" if rec.seq > expected_seq else "out of order"
        return f"seq {rec.seq} where {expected_seq} expected: {kind}"
    if rec.prev_hash != prev:
        return f"prev_hash does not match the hash of seq {rec.seq - 1} (deleted or reordered)"
    if record_hash(rec) != rec.hash:
        return "hash mismatch: record content was modified"
    return ""
