"""Retrying dead letters and auditing the retry in one transaction (DeliveryService).

`DeliveryStore.retry_dead` moves dead letters on its own (both use `deliveries.revive_dead`);
an operator's retry must also leave its audit and idempotency records, and both or neither
must happen: a crash in between would otherwise leave a retry nobody can see, or an
idempotent reply for a retry that never ran.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine, select

from q2c_core.adapters.store import schema as s
from q2c_core.adapters.store._guard import Attempt, guard
from q2c_core.adapters.store._write import write_batch
from q2c_core.adapters.store.deliveries import revive_dead
from q2c_core.app.delivery.model import DeliveryStatus, Destination, Operation
from q2c_core.app.records import WriteBatch

D = s.deliveries


@dataclass(frozen=True, slots=True)
class RetryFilter:
    """Which dead letters of a tenant to retry: one by id, or all matching the filters."""

    delivery_id: int | None = None
    destination: Destination | None = None
    operation: Operation | None = None
    engagement_id: str | None = None


@dataclass(frozen=True, slots=True)
class RetryOutcome:
    """What a retry did: the ids moved to PENDING, and for a one-item retry that moved nothing,
    the item's status (None: the tenant has no such item)."""

    moved: list[int] = field(default_factory=list)
    status: DeliveryStatus | None = None


def retry_dead_audited(
    engine: Engine,
    tenant_id: str,
    wanted: RetryFilter,
    now: datetime,
    audit: Callable[[list[int]], WriteBatch],
) -> RetryOutcome:
    """Move the wanted dead letters back to PENDING (due now, attempts reset) and commit
    `audit(moved_ids)` in the same transaction. A one-item retry that finds no DEAD item writes
    nothing and reports the item's status instead.

    Raises ConcurrencyConflict (the audit chain moved), DuplicateRequestId or StoreUnavailable;
    on any error nothing is written.
    """
    attempt = Attempt(WriteBatch())
    with guard(engine, attempt), engine.begin() as conn:
        moved = revive_dead(
            conn,
            tenant_id,
            now,
            wanted.delivery_id,
            wanted.destination,
            wanted.operation,
            wanted.engagement_id,
        )
        if wanted.delivery_id is not None and not moved:
            found = conn.execute(
                select(D.c.status).where(D.c.tenant_id == tenant_id, D.c.delivery_id == wanted.delivery_id)
            ).scalar()
            return RetryOutcome([], None if found is None else DeliveryStatus(found))
        attempt.batch = audit(moved)
        write_batch(conn, attempt)
    return RetryOutcome(moved)
