"""The audit trail of refused command attempts, bounded so rejections cannot flood it.

What a REJECTED record keeps (`bounded_rejection`): every caller-controlled string (stream id,
principal, command type, request id, correlation id, reason, comment) cut to
`MAX_AUDIT_TEXT` characters (`MAX_ID_LENGTH` for ids) with control characters replaced, and the
payload only as its sha256 digest. A stream id that is not a plausible id (too long, control
characters) is recorded on the `unassigned` stream instead of opening a chain of its own.

How many (`RejectionThrottle`, per process): an attempt identical to one recorded within
`REPEAT_WINDOW_SECONDS` (same tenant, principal, stream, command type, reason and payload
digest) is not written again, and each (tenant, principal) may write at most `BURST` rejected
records, refilled at `PER_SECOND`. What was not written is counted, and the next record written
for that (tenant, principal) says so in its comment ("N rejected attempts not recorded ...").
Only rejections are ever throttled: an accepted command is always audited in its own commit.
"""

from __future__ import annotations

import hashlib
import threading
import time
import unicodedata
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import TypeVar

from q2c_core.app.messages import Caller
from q2c_core.app.ports import Store
from q2c_core.app.records import AuditEntry, WriteBatch
from q2c_core.app.store_errors import ConcurrencyConflict
from q2c_core.app.token_bucket import TokenBucket
from q2c_core.domain.base import Frozen
from q2c_core.domain.limits import MAX_ID_LENGTH

K = TypeVar("K")
V = TypeVar("V")

ATTEMPTS = 3
UNASSIGNED_STREAM = "unassigned"
"""The chain for refused attempts that name no plausible resource (e.g. a malformed create)."""
MAX_AUDIT_TEXT = 256
"""Longest reason, command type or comment a rejected record keeps (characters)."""
REPEAT_WINDOW_SECONDS = 60.0
BURST = 100
PER_SECOND = 5.0
MAX_TRACKED = 10_000
"""Keys (repeats and principals) the throttle remembers; the oldest are forgotten first."""


def _now() -> datetime:
    return datetime.now(UTC)


def bounded_text(value: str | None, limit: int = MAX_AUDIT_TEXT) -> str | None:
    """`value` with control / format characters replaced by '?' and cut to `limit` characters
    (the cut marked with a trailing '…')."""
    if not value:
        return value
    clean = "".join("?" if unicodedata.category(c) in ("Cc", "Cf", "Cs") else c for c in value[: limit + 1])
    return clean if len(clean) <= limit else clean[: limit - 1] + "…"


def bounded_stream(stream_id: str) -> str:
    """The stream a rejection is chained on: the id when plausible, else `unassigned`."""
    if not stream_id or len(stream_id) > MAX_ID_LENGTH or not stream_id.isprintable():
        return UNASSIGNED_STREAM
    return stream_id


def bounded_rejection(entry: AuditEntry) -> AuditEntry:
    """A REJECTED audit entry with every caller-controlled field bounded and sanitised."""
    return replace(
        entry,
        stream_id=bounded_stream(entry.stream_id),
        principal=bounded_text(entry.principal, MAX_ID_LENGTH) or "",
        command_type=bounded_text(entry.command_type, MAX_ID_LENGTH) or "",
        request_id=bounded_text(entry.request_id, MAX_ID_LENGTH),
        correlation_id=bounded_text(entry.correlation_id, MAX_ID_LENGTH) or "",
        payload_digest=_digest_only(entry.payload_digest),
        rejection_reason=bounded_text(entry.rejection_reason),
        comment=bounded_text(entry.comment),
    )


def _digest_only(value: str) -> str:
    """A hex sha256 stays; anything else is replaced by its own digest."""
    if len(value) == 64 and all(c in "0123456789abcdef" for c in value):
        return value
    return hashlib.sha256(value.encode()).hexdigest()


class RejectionThrottle:
    """Decides which rejected attempts get an audit record (thread-safe, bounded memory)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._recent: OrderedDict[tuple[str, ...], float] = OrderedDict()  # repeat key -> written at
        self._buckets: OrderedDict[tuple[str, str], tuple[TokenBucket, int]] = OrderedDict()
        # (tenant, principal) -> (its bucket, attempts not recorded since the last record)

    def admit(self, entry: AuditEntry) -> AuditEntry | None:
        """The entry to write (noting attempts dropped before it), or None to drop this one."""
        now = self._clock()
        repeat = (entry.tenant_id, entry.principal, entry.stream_id, entry.command_type,
                  entry.rejection_reason or "", entry.payload_digest)  # fmt: skip
        who = (entry.tenant_id, entry.principal)
        with self._lock:
            bucket, dropped = (
                self._buckets.pop(who)
                if who in self._buckets
                else (TokenBucket.full(PER_SECOND, BURST, now), 0)
            )
            seen = self._recent.get(repeat)
            if (seen is not None and now - seen < REPEAT_WINDOW_SECONDS) or not bucket.take(now):
                self._remember(self._buckets, who, (bucket, dropped + 1))
                return None
            self._remember(self._buckets, who, (bucket, 0))
            self._recent.pop(repeat, None)
            self._remember(self._recent, repeat, now)
        if not dropped:
            return entry
        note = f"{dropped} rejected attempt(s) of this principal not recorded before this one"
        comment = f"{note}; {entry.comment}" if entry.comment else note
        return replace(entry, comment=bounded_text(comment))

    @staticmethod
    def _remember(table: OrderedDict[K, V], key: K, value: V) -> None:
        table[key] = value
        while len(table) > MAX_TRACKED:
            table.popitem(last=False)


class RejectionLog:
    """Audits command attempts refused before reaching a host (malformed input, catalog errors)."""

    def __init__(self, store: Store, throttle: RejectionThrottle | None = None) -> None:
        self._store = store
        self.throttle = throttle or RejectionThrottle()

    def record(self, caller: Caller, entry: RejectedAttempt) -> bool:
        """Append one bounded REJECTED record to the stream's chain (retrying a lost race);
        False when the throttle dropped it (counted on the principal's next record)."""
        audit = bounded_rejection(
            AuditEntry(
                tenant_id=caller.tenant_id,
                stream_id=entry.stream_id,
                principal=caller.principal,
                command_type=entry.command_type,
                request_id=entry.request_id or None,
                correlation_id=caller.correlation_id,
                payload_digest=entry.payload_digest,
                outcome="REJECTED",
                rejection_reason=entry.reason,
                recorded_at=_now(),
            )
        )
        admitted = self.throttle.admit(audit)
        if admitted is None:
            return False
        for _ in range(ATTEMPTS):
            try:
                self._store.commit(WriteBatch(audit=[admitted]))
                return True
            except ConcurrencyConflict:
                continue
        return False


class RejectedAttempt(Frozen):
    """A refused command attempt: which stream, which command, which payload, and why."""

    stream_id: str
    command_type: str
    request_id: str = ""
    payload_digest: str
    reason: str
