"""Hash chain over each stream's audit records: hash = sha256(prev_hash + canonical record).

Chain version 2 (every record written since migration 0007) also covers the events the command
produced: the canonical record carries `events_digest`, a sha256 over the canonical JSON of each
event it names, recomputed from the events table at verify time. Version 1 records (written
before) are verified as they were hashed. A signed checkpoint (q2c_core.app.audit.anchor) pins each
stream's head, so rewriting and re-hashing, truncating or deleting a stream is detected too.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from json.encoder import encode_basestring
from typing import Any

from q2c_core.app.audit.anchor import Checkpoint
from q2c_core.app.audit.canonical_json import canonical_text
from q2c_core.app.records import AuditEntry, AuditRecord, EventRecord

GENESIS_HASH = "0" * 64
CHAIN_V1 = 1
CHAIN_V2 = 2
CURRENT_CHAIN_VERSION = CHAIN_V2

# Machine-readable reasons a verification fails (VerifyResult.reason).
RECORD_MODIFIED = "RECORD_MODIFIED"
CHAIN_LINK_BROKEN = "CHAIN_LINK_BROKEN"
RECORDS_MISSING = "RECORDS_MISSING"
RECORD_REORDERED = "RECORD_REORDERED"
EVENT_PAYLOAD_MODIFIED = "EVENT_PAYLOAD_MODIFIED"
CHAIN_DOWNGRADED = "CHAIN_VERSION_DOWNGRADED"
HEAD_REWRITTEN = "HEAD_REWRITTEN"
TAIL_DELETED = "TAIL_DELETED"
STREAM_DELETED = "STREAM_DELETED"

Checked = tuple[AuditRecord, str | None]
"""A record and the events digest recomputed from the events table (None: not checked)."""


_LAST_FORMATTED: list[tuple[datetime | None, str]] = [(None, "")]


def format_utc(value: datetime) -> str:
    """Render a datetime as UTC `YYYY-MM-DDTHH:MM:SS.ffffffZ` (naive means UTC).

    A command's audit record and its events carry the same time: the last one is kept."""
    last, text = _LAST_FORMATTED[0]
    if value is last:
        return text
    aware = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if aware.year >= 1000:  # isoformat pads the year to four digits, strftime's %Y does not
        text = aware.isoformat(timespec="microseconds")[:-6] + "Z"  # less "+00:00"
    else:
        text = aware.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    _LAST_FORMATTED[0] = (value, text)
    return text


def _json(value: Any) -> bytes:
    return canonical_text(value).encode()


def canonical(entry: AuditEntry, seq: int, events_digest: str | None = None) -> bytes:
    """Canonical JSON bytes of an audit entry at `seq` (sorted keys, no whitespace).

    Without `events_digest` this is the version 1 form; with it, version 2.
    """
    s = _scalar
    first = '{"command_type":' if events_digest is None else f'{{"chain_version":{CHAIN_V2},"command_type":'
    digest = "" if events_digest is None else f'"events_digest":{s(events_digest)},'
    # the fields of the version 1 form (and 2's two more) in sorted order, as `_json` writes them
    return (
        f'{first}{s(entry.command_type)},"comment":{s(entry.comment)},'
        f'"correlation_id":{s(entry.correlation_id)},"event_ids":[{",".join(map(s, entry.event_ids))}],'
        f'{digest}"outcome":{s(entry.outcome)},"payload_digest":{s(entry.payload_digest)},'
        f'"principal":{s(entry.principal)},"recorded_at":"{format_utc(entry.recorded_at)}",'
        f'"rejection_reason":{s(entry.rejection_reason)},"request_id":{s(entry.request_id)},'
        f'"seq":{_int(seq)},"stream_id":{s(entry.stream_id)},"tenant_id":{s(entry.tenant_id)}}}'
    ).encode()


def chain_hash(prev_hash: str, canonical_bytes: bytes) -> str:
    """sha256(prev_hash + canonical bytes) as lowercase hex."""
    return hashlib.sha256(prev_hash.encode() + canonical_bytes).hexdigest()


def record_hash(record: AuditRecord) -> str:
    """Recompute a stored record's hash from its own fields and prev_hash."""
    digest = record.events_digest if record.chain_version >= CHAIN_V2 else None
    return chain_hash(record.prev_hash, canonical(record, record.seq, digest))


def canonical_event(event: EventRecord) -> Any:
    """The JSON value of one event that an events digest covers (everything but its position)."""
    return {
        "tenant_id": event.tenant_id,
        "stream_id": event.stream_id,
        "seq": event.seq,
        "event_id": event.event_id,
        "event_type": event.event_type,
        "payload": event.payload,
        "principal": event.principal,
        "correlation_id": event.correlation_id,
        "request_id": event.request_id,
        "occurred_at": format_utc(event.occurred_at),
    }


def events_digest(event_ids: Sequence[str], events: Mapping[str, EventRecord]) -> str:
    """sha256 over the canonical events named by `event_ids`, in order (null for an absent id):
    the canonical JSON of the list of their `canonical_event` values."""
    body = ",".join(_event_text(events[i]) if i in events else "null" for i in event_ids)
    return hashlib.sha256(f"[{body}]".encode()).hexdigest()


def _event_text(event: EventRecord) -> str:
    """`canonical_event(event)`'s canonical JSON text, the payload's text reused when it has one
    (a JsonText): the keys in sorted order, as `_json` writes them."""
    return (
        f'{{"correlation_id":{_scalar(event.correlation_id)},"event_id":{_scalar(event.event_id)},'
        f'"event_type":{_scalar(event.event_type)},"occurred_at":"{format_utc(event.occurred_at)}",'
        f'"payload":{canonical_text(event.payload)},"principal":{_scalar(event.principal)},'
        f'"request_id":{_scalar(event.request_id)},'
        f'"seq":{_int(event.seq)},'
        f'"stream_id":{_scalar(event.stream_id)},"tenant_id":{_scalar(event.tenant_id)}}}'
    )


def _int(value: int) -> str:
    """An int's JSON (what json writes: int.__repr__, also for an int subclass)."""
    return int.__repr__(value) if isinstance(value, int) and not isinstance(value, bool) else _scalar(value)


def _scalar(value: object) -> str:
    """A field's canonical JSON (strings and None, the usual cases, written directly)."""
    if type(value) is str:
        return encode_basestring(value)
    return "null" if value is None else canonical_text(value)


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """Outcome of a verification; first_invalid is the first bad record, if any.

    `reason` is a machine-readable code (empty when ok), `problem` the human explanation,
    `stream_id` the stream it concerns (also for a deleted stream or tail, which have no
    record), and `checkpoint` the signed checkpoint the heads were compared with, if any.
    """

    ok: bool
    records_checked: int
    first_invalid: AuditRecord | None = None
    problem: str = ""
    reason: str = ""
    stream_id: str = ""
    checkpoint: Checkpoint | None = None
    resume: ChainCursor | None = None
    """Set when a budget cut the verification short: where the next page resumes."""


@dataclass(frozen=True, slots=True)
class ChainCursor:
    """The last record a bounded verification checked: the next page continues its chain from
    here (seq + 1 must link to `hash`), and `checked` counts the records of every page so far."""

    stream_id: str
    seq: int
    hash: str
    chain_version: int
    checked: int


def verify(records: Iterable[AuditRecord]) -> VerifyResult:
    """Verify records given in (stream_id, seq) order; one or many streams."""
    return verify_checked((r, None) for r in records)


def verify_checked(
    checked: Iterable[Checked], checkpoint: Checkpoint | None = None, stream_id: str | None = None
) -> VerifyResult:
    """Verify (record, recomputed events digest) pairs in (stream_id, seq) order, then compare the
    stream heads with `checkpoint` (only `stream_id`'s head when one stream is verified)."""
    seen: dict[str, dict[int, str]] = {}
    wanted = {h.stream_id: h.seq for h in checkpoint.heads} if checkpoint else {}

    def note(stream: list[Checked]) -> None:
        first, last = stream[0][0], stream[-1][0]
        at = wanted.get(first.stream_id)
        seen[first.stream_id] = {last.seq: last.hash} | {r.seq: r.hash for r, _ in stream if r.seq == at}

    result = verify_chain(checked, None, note)
    if not result.ok:
        return VerifyResult(
            False,
            result.records_checked,
            result.first_invalid,
            result.problem,
            result.reason,
            result.stream_id,
            checkpoint,
        )
    if checkpoint is None:
        return VerifyResult(True, result.records_checked)
    return compare_heads(checkpoint, seen, result.records_checked, stream_id)


def verify_chain(
    checked: Iterable[Checked],
    start: ChainCursor | None = None,
    note: Callable[[list[Checked]], None] | None = None,
) -> VerifyResult:
    """Verify the chain alone, continuing from `start` (a previous page's last record) when the
    first stream is its stream; `resume` of an ok result is the last record checked (None if
    none). `note` sees each verified stream's records."""
    count = start.checked if start else 0
    cursor = start
    for stream in _by_stream(checked):
        first = stream[0][0]
        bad = _verify_stream(stream, start if start and start.stream_id == first.stream_id else None)
        if bad is not None:
            rec, reason, problem = bad
            count += [r.seq for r, _ in stream].index(rec.seq) + 1
            return VerifyResult(False, count, rec, problem, reason, rec.stream_id)
        count += len(stream)
        last = stream[-1][0]
        cursor = ChainCursor(last.stream_id, last.seq, last.hash, last.chain_version, count)
        if note is not None:
            note(stream)
    return VerifyResult(True, count, resume=cursor)


def _by_stream(checked: Iterable[Checked]) -> Iterable[list[Checked]]:
    """Group consecutive pairs of the same stream (each list is one stream's records)."""
    current: list[Checked] = []
    for pair in checked:
        if current and pair[0].stream_id != current[0][0].stream_id:
            yield current
            current = []
        current.append(pair)
    if current:
        yield current


def _verify_stream(
    stream: list[Checked], start: ChainCursor | None = None
) -> tuple[AuditRecord, str, str] | None:
    """The first bad record of one stream (continuing after `start`) with its reason code and
    problem, or None."""
    later = {rec.hash: rec.seq for rec, _ in stream}
    expected, prev, version = 1, GENESIS_HASH, CHAIN_V1
    if start is not None:
        expected, prev, version = start.seq + 1, start.hash, start.chain_version
    for rec, actual in stream:
        found = _check(rec, expected, prev, version, later) or _check_events(rec, actual)
        if found:
            return (rec, *found)
        expected, prev, version = rec.seq + 1, rec.hash, rec.chain_version
    return None


def _check(
    rec: AuditRecord, expected: int, prev: str, version: int, later: Mapping[str, int]
) -> tuple[str, str] | None:
    """(reason, problem) for one record given its predecessor, or None."""
    if rec.seq > expected:
        return RECORDS_MISSING, f"seq {rec.seq} where {expected} expected: missing records (deleted?)"
    if rec.seq < expected:
        return RECORD_REORDERED, f"seq {rec.seq} where {expected} expected: out of order"
    if rec.prev_hash != prev:
        moved = later.get(rec.prev_hash, 0)
        if moved > rec.seq:
            return RECORD_REORDERED, (
                f"seq {rec.seq} links to the record now at seq {moved}: records were reordered"
            )
        return CHAIN_LINK_BROKEN, (
            f"prev_hash does not match the hash of seq {rec.seq - 1} (rewritten, deleted or reordered)"
        )
    if rec.chain_version not in (CHAIN_V1, CHAIN_V2):
        return RECORD_MODIFIED, f"hash mismatch: unknown chain version {rec.chain_version}"
    if rec.chain_version < version:
        return CHAIN_DOWNGRADED, f"seq {rec.seq} is chain version {rec.chain_version} after version {version}"
    if record_hash(rec) != rec.hash:
        return RECORD_MODIFIED, "hash mismatch: record content was modified"
    return None


def _check_events(rec: AuditRecord, actual: str | None) -> tuple[str, str] | None:
    """EVENT_PAYLOAD_MODIFIED when the events the record names no longer hash to its digest."""
    if actual is None or rec.chain_version < CHAIN_V2 or actual == rec.events_digest:
        return None
    ids = ", ".join(rec.event_ids)
    return EVENT_PAYLOAD_MODIFIED, (
        f"events {ids} no longer match the digest recorded at seq {rec.seq}: "
        "an event was replaced, edited or deleted"
    )


def compare_heads(
    checkpoint: Checkpoint, seen: Mapping[str, Mapping[int, str]], count: int, stream_id: str | None
) -> VerifyResult:
    """Every head the checkpoint names must still be there, with the same hash at its seq.

    `seen` maps each stream to {its last seq: hash} plus {the checkpoint's seq: hash} when
    that record exists (only `stream_id`'s head is compared when one stream is verified)."""
    label = f"checkpoint {checkpoint.sequence}"
    for head in checkpoint.heads:
        if stream_id is not None and head.stream_id != stream_id:
            continue
        hashes = seen.get(head.stream_id)
        reason, problem = "", ""
        if hashes is None:
            reason = STREAM_DELETED
            problem = f"stream {head.stream_id} is in {label} (seq {head.seq}) but has no records: deleted"
        elif max(hashes) < head.seq:
            reason = TAIL_DELETED
            problem = (
                f"stream {head.stream_id} ends at seq {max(hashes)} but {label} has seq {head.seq}: "
                "records were deleted from its end"
            )
        elif hashes.get(head.seq) != head.hash:
            reason = HEAD_REWRITTEN
            problem = (
                f"stream {head.stream_id} seq {head.seq} hash differs from {label}: records up to it "
                "were rewritten and re-hashed"
            )
        if reason:
            return VerifyResult(False, count, None, problem, reason, head.stream_id, checkpoint)
    return VerifyResult(True, count, checkpoint=checkpoint)
