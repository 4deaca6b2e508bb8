"""Deadlines checked again before expensive work, not only when a call arrives.

The interceptor records when the call's deadline falls; a servicer about to start something
costly (a bill run, a tenant-wide audit verification, a reconciliation) first asks
`require_time`, and a caller with too little time left gets DEADLINE_EXCEEDED
(reason DEADLINE_TOO_SHORT) before the work starts, rather than work nobody waits for.
"""

from __future__ import annotations

import math
import time
from contextvars import ContextVar

from q2c_core.domain.errors import DeadlineExceededError

DEADLINE_AT: ContextVar[float | None] = ContextVar("q2c_deadline_at", default=None)
"""time.monotonic() at which the call being served times out (None: no deadline)."""

START_BILL_RUN_SECONDS = 1.0
"""A bill run start creates the run record and its coordinator (a Ray actor: ~0.5 s)."""
VERIFY_AUDIT_PAGE_SECONDS = 0.25
"""Recomputing a page of hash chains (and comparing heads with a checkpoint on the last)."""
AUDIT_CHECKPOINT_SECONDS = 0.25
"""Reading every stream head of a tenant and signing them."""
RECONCILIATION_SECONDS = 2.0
"""A reconciliation reads the tenant's postings and asks the ERP about each."""
TENANT_STATS_SECONDS = 0.1
"""Counting a tenant's deliveries and outbox lag."""


def set_deadline(remaining_seconds: float | None) -> None:
    """Remember when the current call times out (`remaining_seconds` from now; None: never)."""
    DEADLINE_AT.set(None if remaining_seconds is None else time.monotonic() + remaining_seconds)


def time_left() -> float | None:
    """Seconds until the current call's deadline (None: no deadline)."""
    deadline = DEADLINE_AT.get()
    return None if deadline is None else deadline - time.monotonic()


def require_time(work: str, needed_seconds: float) -> None:
    """Raise DEADLINE_EXCEEDED unless at least `needed_seconds` of the deadline are left for `work`."""
    left = time_left()
    if left is None or left >= needed_seconds:
        return
    left_ms, needed_ms = max(0, math.floor(left * 1000)), math.ceil(needed_seconds * 1000)
    raise DeadlineExceededError(
        "DEADLINE_TOO_SHORT",
        f"{left_ms} ms of the deadline left, {work} needs at least {needed_ms} ms: not started",
        {"work": work, "remaining_ms": str(left_ms), "needed_ms": str(needed_ms)},
    )
