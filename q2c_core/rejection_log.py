"""The audit trail of command attempts refused before they reached a host."""

from __future__ import annotations

from datetime import UTC, datetime

from q2c_core.domain.base import Frozen
from q2c_core.messages import Caller
from q2c_core.store import AuditEntry, ConcurrencyConflict, Store, WriteBatch

ATTEMPTS = 3


def _now() -> datetime:
    return datetime.now(UTC)


class RejectionLog:
    """Audits command attempts refused before reaching a host (malformed input, catalog errors)."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def record(self, caller: Caller, entry: RejectedAttempt) -> None:
        """Append one REJECTED audit record to the stream's chain (retrying a lost race)."""
        audit = AuditEntry(
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
        for _ in range(ATTEMPTS):
            try:
                self._store.commit(WriteBatch(audit=[audit]))
                return
            except ConcurrencyConflict:
                continue


class RejectedAttempt(Frozen):
    """A refused command attempt: which stream, which command, which payload, and why."""

    stream_id: str
    command_type: str
    request_id: str = ""
    payload_digest: str
    reason: str
