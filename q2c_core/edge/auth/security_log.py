"""Every refused call becomes a security event a reviewer can list, within a rate limit.

A flood of bad calls must not fill the disk: a token bucket admits `rate` events per second
(bursts up to `burst`); refusals beyond it are counted, and the next event written carries
that count in `suppressed_before`, so nothing is silently lost from the tally.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime

from q2c_core.app.ports import SecurityEventSink
from q2c_core.app.records import SecurityEventRow
from q2c_core.app.token_bucket import TokenBucket

log = logging.getLogger(__name__)


monotonic = time.monotonic
"""The clock of the security log's bucket (tests substitute a fake one)."""


class SecurityLog:
    """Writes refusals to the store's security_events table, rate-limited."""

    def __init__(self, store: SecurityEventSink, *, rate: float = 20.0, burst: int = 100) -> None:
        self._store = store
        self._clock = monotonic
        self._bucket = TokenBucket.full(rate, burst, self._clock())
        self._suppressed = 0

    async def refused(
        self,
        *,
        method: str,
        code: str,
        reason: str,
        message: str,
        peer: str,
        correlation_id: str,
        tenant_id: str = "",
        principal: str = "",
    ) -> None:
        """Record one refusal (or count it when over the limit); never raises."""
        if not self._bucket.take(self._clock()):  # refused() runs on the gateway's event loop
            self._suppressed += 1
            return
        suppressed, self._suppressed = self._suppressed, 0
        row = SecurityEventRow(
            tenant_id=tenant_id,
            principal=principal,
            method=method,
            code=code,
            reason=reason,
            message=message,
            peer=peer,
            correlation_id=correlation_id,
            suppressed_before=suppressed,
            occurred_at=datetime.now(UTC),
        )
        log.warning("refused %s from %s: %s %s (correlation %s)", method, peer, code, reason, correlation_id)
        try:
            await asyncio.to_thread(self._store.record_security_event, row)
        except Exception:
            self._suppressed += suppressed + 1
            log.exception("could not record a security event")
