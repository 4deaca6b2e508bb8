"""Retrying dead letters, and auditing the retry in the same transaction (DeliveryService).

`DeliveryStore.retry_dead` moves dead letters on its own; an operator's retry
(`DeliveryStore.retry_dead_audited`) must also leave its audit and idempotency records, and
both or neither must happen: a crash in between would otherwise leave a retry nobody can see,
or an idempotent reply for a retry that never ran.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, select, update

from q2c_core.adapters.store import schema as s
from q2c_core.adapters.store._guard import Attempt, guard
from q2c_core.adapters.store._write import write_batch
from q2c_core.app.delivery.model import DeliveryStatus, Destination, Operation, RetryFilter, RetryOutcome
from q2c_core.app.records import WriteBatch

D = s.deliveries


def item_filters(
    status: DeliveryStatus | None,
    destination: Destination | None,
    operation: Operation | None,
    engagement_id: str | None,
) -> list[Any]:
    """WHERE terms selecting delivery items by status, destination, operation and engagement."""
    terms: list[Any] = []
    if status is not None:
        terms.append(D.c.status == status.value)
    if destination is not None:
        terms.append(D.c.destination == destination.value)
    if operation is not None:
        terms.append(D.c.operation == operation.value)
    if engagement_id:
        terms.append(D.c.engagement_id == engagement_id)
    return terms


def revive_dead(
    conn: Connection,
    tenant_id: str,
    now: datetime,
    delivery_id: int | None,
    destination: Destination | None,
    operation: Operation | None,
    engagement_id: str | None,
) -> list[int]:
    """In `conn`'s transaction: the tenant's matching DEAD items back to PENDING, due now, with
    attempts reset; returns their ids in order."""
    where = [
        D.c.tenant_id == tenant_id,
        D.c.status == DeliveryStatus.DEAD.value,
        *item_filters(None, destination, operation, engagement_id),
    ]
    if delivery_id is not None:
        where.append(D.c.delivery_id == delivery_id)
    statement = (
        update(D)
        .where(*where)
        .values(
            status=DeliveryStatus.PENDING.value,
            attempts=0,
            next_attempt_time=now,
            dead_time=None,
            update_time=now,
        )
        .returning(D.c.delivery_id)
    )
    return sorted(int(i) for i in conn.execute(statement).scalars())


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
