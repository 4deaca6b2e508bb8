"""DeliveryStore: the outbox cursor, delivery items and their attempts (sync, thread-safe).

The events table is the outbox. Planning reads events after the cursor (every tenant, in
position order), inserts their delivery items (a repeat of a (tenant, destination, key) is
ignored) and moves the cursor in one transaction, with a compare-and-set on the old position:
two planners can never both plan the same events, and a crash in between plans them again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, and_, case, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from q2c_core.adapters.store import _queries as q
from q2c_core.adapters.store import schema as s
from q2c_core.adapters.store._guard import guard
from q2c_core.adapters.store._paging import keyset_page
from q2c_core.adapters.store.database import READ_ONLY
from q2c_core.adapters.store.delivery_retry import item_filters, retry_dead_audited, revive_dead
from q2c_core.adapters.store.schema import EVENTS, utc
from q2c_core.app.delivery.model import (
    DeliveryAttempt,
    DeliveryItem,
    DeliveryStatus,
    Destination,
    DestinationStats,
    Operation,
    Outcome,
    PlannedDelivery,
    RetryFilter,
    RetryOutcome,
)
from q2c_core.app.records import IdempotencyRecord, Page, StoredEvent, WriteBatch
from q2c_core.app.store_errors import ConcurrencyConflict

D = s.deliveries
MAX_TEXT = 4000  # error messages and malformed payloads are kept up to this many characters


def _clip(text: str | None) -> str | None:
    return None if text is None else text[:MAX_TEXT]


def to_item(r: Any) -> DeliveryItem:
    """A DeliveryItem from a deliveries row."""
    m = r._mapping
    return DeliveryItem(
        delivery_id=m["delivery_id"],
        tenant_id=m["tenant_id"],
        destination=Destination(m["destination"]),
        operation=Operation(m["operation"]),
        key=m["key"],
        engagement_id=m["engagement_id"],
        subject_id=m["subject_id"],
        invoice_id=m["invoice_id"],
        source_position=m["source_position"],
        status=DeliveryStatus(m["status"]),
        attempts=m["attempts"],
        next_attempt_time=utc(m["next_attempt_time"]),
        failure_kind=m["failure_kind"],
        last_error=m["last_error"],
        last_http_status=m["last_http_status"],
        last_payload=m["last_payload"],
        document_number=m["document_number"],
        create_time=utc(m["create_time"]),
        update_time=utc(m["update_time"]),
        delivered_time=utc(m["delivered_time"]),
        dead_time=utc(m["dead_time"]),
    )


class DeliveryStore:
    """Reads and writes of the delivery tables; each method is one transaction."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with guard(self.engine), self.engine.connect() as conn:
            conn.execution_options(**{READ_ONLY: True})
            with conn.begin():
                yield conn

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        with guard(self.engine), self.engine.begin() as conn:
            yield conn

    # -- planning -----------------------------------------------------------------------------

    def cursor(self, consumer: str) -> int:
        """The last event position `consumer` has planned (0 before the first)."""
        c = s.delivery_cursors
        with self._read() as conn:
            found = conn.execute(select(c.c.position).where(c.c.consumer == consumer)).scalar()
        return int(found or 0)

    def read_outbox(self, after_position: int, limit: int, event_types: Sequence[str]) -> list[StoredEvent]:
        """Events of every tenant after a position, in position order, only of `event_types`."""
        e = s.events
        query = (
            select(e)
            .where(e.c.position > after_position, e.c.event_type.in_(list(event_types)))
            .order_by(e.c.position)
            .limit(limit)
        )
        with self._read() as conn:
            return [EVENTS.record(r) for r in conn.execute(query)]

    def last_position(self) -> int:
        """The highest event position written so far (0 when there is none)."""
        with self._read() as conn:
            return int(conn.execute(select(func.max(s.events.c.position))).scalar() or 0)

    def enqueue(
        self,
        consumer: str,
        from_position: int,
        to_position: int,
        planned: Sequence[PlannedDelivery],
        now: datetime,
    ) -> int:
        """Insert the items (repeats ignored) and move the cursor from `from_position` to
        `to_position`, atomically; returns how many items were new.

        Raises ConcurrencyConflict when the cursor is no longer at `from_position`.
        """
        with self._write() as conn:
            self._advance(conn, consumer, from_position, to_position, now)
            if not planned:
                return 0
            rows = [
                {
                    "tenant_id": p.tenant_id,
                    "destination": p.destination.value,
                    "operation": p.operation.value,
                    "key": p.key,
                    "engagement_id": p.engagement_id,
                    "subject_id": p.subject_id,
                    "invoice_id": p.invoice_id,
                    "source_position": p.source_position,
                    "status": DeliveryStatus.PENDING.value,
                    "attempts": 0,
                    "next_attempt_time": now,
                    "create_time": now,
                    "update_time": now,
                }
                for p in planned
            ]
            dialect = sqlite if conn.dialect.name == "sqlite" else postgresql
            statement = (
                dialect.insert(D)
                .on_conflict_do_nothing(index_elements=["tenant_id", "destination", "key"])
                .returning(D.c.delivery_id)
            )
            return len(conn.execute(statement, rows).all())

    @staticmethod
    def _advance(conn: Connection, consumer: str, old: int, new: int, now: datetime) -> None:
        c = s.delivery_cursors
        if old == 0:
            exists = conn.execute(select(c.c.position).where(c.c.consumer == consumer)).scalar()
            if exists is None:
                conn.execute(insert(c).values(consumer=consumer, position=new, update_time=now))
                return
        moved = conn.execute(
            update(c)
            .where(c.c.consumer == consumer, c.c.position == old)
            .values(position=new, update_time=now)
        )
        if moved.rowcount != 1:
            raise ConcurrencyConflict([f"delivery-cursor:{consumer}"], f"moved past {old}")

    # -- dispatching --------------------------------------------------------------------------

    def due(
        self, destination: Destination, now: datetime, limit: int, busy: Sequence[int] = ()
    ) -> list[DeliveryItem]:
        """Up to `limit` PENDING items of `destination` due by `now`, oldest first, each the
        first undelivered item of its engagement there (FIFO per engagement), skipping `busy`
        items and any engagement that has one of them in flight.
        """
        with self._read() as conn:
            query = (
                select(D)
                .where(
                    D.c.status == DeliveryStatus.PENDING.value,
                    D.c.destination == destination.value,
                    D.c.next_attempt_time <= now,
                )
                .order_by(D.c.delivery_id)
                .limit(limit * 4 + len(busy))
            )
            candidates = [to_item(r) for r in conn.execute(query)]
            if not candidates:
                return []
            engagements = sorted({c.engagement_id for c in candidates})
            heads = conn.execute(
                select(D.c.tenant_id, D.c.engagement_id, func.min(D.c.delivery_id))
                .where(
                    D.c.destination == destination.value,
                    D.c.engagement_id.in_(engagements),
                    D.c.status != DeliveryStatus.DELIVERED.value,
                )
                .group_by(D.c.tenant_id, D.c.engagement_id)
            ).all()
        first = {(t, e): int(m) for t, e, m in heads}
        busy_ids = set(busy)
        chosen = [
            c
            for c in candidates
            if c.delivery_id not in busy_ids and first.get((c.tenant_id, c.engagement_id)) == c.delivery_id
        ]
        return chosen[:limit]

    def record(self, outcomes: Sequence[Outcome], now: datetime) -> None:
        """Record attempts' outcomes on their PENDING items (one transaction). An outcome for an
        item that is no longer PENDING (retried or delivered meanwhile by another worker) is
        recorded in the attempt history only.
        """
        if not outcomes:
            return
        history: list[dict[str, Any]] = []
        with self._write() as conn:
            for o in outcomes:
                values: dict[str, Any] = {"attempts": D.c.attempts + 1, "update_time": now}
                if o.delivered:
                    values |= {
                        "status": DeliveryStatus.DELIVERED.value,
                        "document_number": o.document_number,
                        "delivered_time": now,
                    }
                else:
                    values |= {
                        "failure_kind": o.kind,
                        "last_error": _clip(o.message),
                        "last_http_status": o.http_status,
                        "last_payload": _clip(o.payload),
                    }
                    if o.dead:
                        values |= {"status": DeliveryStatus.DEAD.value, "dead_time": now}
                    else:
                        values["next_attempt_time"] = o.next_attempt_time or now
                attempt = conn.execute(
                    update(D)
                    .where(D.c.delivery_id == o.delivery_id, D.c.status == DeliveryStatus.PENDING.value)
                    .values(**values)
                    .returning(D.c.attempts)
                ).scalar()
                if attempt is None:  # no longer PENDING: history only
                    attempt = conn.execute(
                        select(D.c.attempts).where(D.c.delivery_id == o.delivery_id)
                    ).scalar()
                history.append(
                    {
                        "delivery_id": o.delivery_id,
                        "attempt": int(attempt or 0),
                        "attempt_time": now,
                        "outcome": "DELIVERED" if o.delivered else o.kind,
                        "message": _clip(o.message) or "",
                        "http_status": o.http_status,
                        "payload": _clip(o.payload),
                    }
                )
            conn.execute(insert(s.delivery_attempts), history)

    def document_number(self, tenant_id: str, destination: Destination, key: str) -> str | None:
        """The document number a delivered item of this key got (None if not delivered)."""
        with self._read() as conn:
            return conn.execute(
                select(D.c.document_number).where(
                    D.c.tenant_id == tenant_id,
                    D.c.destination == destination.value,
                    D.c.key == key,
                    D.c.status == DeliveryStatus.DELIVERED.value,
                )
            ).scalar()

    # -- operations (tenant-scoped) ------------------------------------------------------------

    def get(self, tenant_id: str, delivery_id: int) -> DeliveryItem | None:
        """One item of the tenant, or None."""
        with self._read() as conn:
            row = conn.execute(
                select(D).where(D.c.tenant_id == tenant_id, D.c.delivery_id == delivery_id)
            ).first()
        return None if row is None else to_item(row)

    def attempts(self, delivery_id: int) -> list[DeliveryAttempt]:
        """Every recorded attempt of an item, oldest first (across retries of a dead letter)."""
        a = s.delivery_attempts
        with self._read() as conn:
            rows = conn.execute(
                select(a).where(a.c.delivery_id == delivery_id).order_by(a.c.attempt_id)
            ).all()
        return [
            DeliveryAttempt(
                delivery_id=r.delivery_id,
                attempt=r.attempt,
                attempt_time=utc(r.attempt_time),
                outcome=r.outcome,
                message=r.message,
                http_status=r.http_status,
                payload=r.payload,
            )
            for r in rows
        ]

    def list_items(
        self,
        tenant_id: str,
        *,
        status: DeliveryStatus | None = None,
        destination: Destination | None = None,
        operation: Operation | None = None,
        engagement_id: str | None = None,
        page_size: int = 50,
        page_token: str = "",
    ) -> Page[DeliveryItem]:
        """The tenant's items by delivery_id, filtered; raises ValueError('page_token')."""
        query = select(D).where(
            D.c.tenant_id == tenant_id, *item_filters(status, destination, operation, engagement_id)
        )
        with self._read() as conn:
            return keyset_page(
                conn, query, [D.c.delivery_id], page_size, page_token, to_item, lambda i: (i.delivery_id,)
            )

    def retry_dead(
        self,
        tenant_id: str,
        now: datetime,
        *,
        delivery_id: int | None = None,
        destination: Destination | None = None,
        operation: Operation | None = None,
        engagement_id: str | None = None,
    ) -> list[int]:
        """Dead letters of the tenant (one, or all matching) back to PENDING, due now, with a
        fresh allowance of attempts; returns their ids (history is kept). DeliveryService uses
        `retry_dead_audited`, which does the same with its audit record."""
        with self._write() as conn:
            return revive_dead(conn, tenant_id, now, delivery_id, destination, operation, engagement_id)

    def retry_dead_audited(
        self,
        tenant_id: str,
        wanted: RetryFilter,
        now: datetime,
        audit: Callable[[list[int]], WriteBatch],
    ) -> RetryOutcome:
        """`retry_dead` for `wanted`, committing `audit(moved_ids)` in the same transaction (see
        `delivery_retry.retry_dead_audited`)."""
        return retry_dead_audited(self.engine, tenant_id, wanted, now, audit)

    def find_idempotency(self, tenant_id: str, request_ids: Sequence[str]) -> dict[str, IdempotencyRecord]:
        """Stored idempotency records by request id (how an audited retry is replayed)."""
        with self._read() as conn:
            return q.find_idempotency(conn, tenant_id, request_ids)

    def stats(self, tenant_id: str | None, now: datetime) -> list[DestinationStats]:
        """Per destination: items by status, due now, attempts made, the oldest pending item.
        `tenant_id` None: every tenant (the worker's own view)."""
        scope = [] if tenant_id is None else [D.c.tenant_id == tenant_id]
        pending = D.c.status == DeliveryStatus.PENDING.value
        query = (
            select(
                D.c.destination,
                func.sum(_flag(pending)),
                func.sum(_flag(and_(pending, D.c.next_attempt_time <= now))),
                func.sum(_flag(D.c.status == DeliveryStatus.DELIVERED.value)),
                func.sum(_flag(D.c.status == DeliveryStatus.DEAD.value)),
                func.coalesce(func.sum(D.c.attempts), 0),
            )
            .where(*scope)
            .group_by(D.c.destination)
        )
        oldest = (
            select(D.c.destination, func.min(D.c.create_time))
            .where(*scope, pending)
            .group_by(D.c.destination)
        )
        with self._read() as conn:
            counts = {r[0]: r[1:] for r in conn.execute(query)}
            first = {r[0]: utc(r[1]) for r in conn.execute(oldest)}
        attempted = self._attempt_counts(tenant_id)
        result = []
        for destination in Destination:
            row = counts.get(destination.value, (0, 0, 0, 0, 0))
            result.append(
                DestinationStats(
                    destination=destination.value,
                    pending=int(row[0] or 0),
                    due=int(row[1] or 0),
                    delivered=int(row[2] or 0),
                    dead=int(row[3] or 0),
                    attempts=attempted.get(destination.value, 0),
                    oldest_pending_time=first.get(destination.value),
                )
            )
        return result

    def _attempt_counts(self, tenant_id: str | None) -> dict[str, int]:
        a = s.delivery_attempts
        query = select(D.c.destination, func.count()).select_from(
            a.join(D, a.c.delivery_id == D.c.delivery_id)
        )
        if tenant_id is not None:
            query = query.where(D.c.tenant_id == tenant_id)
        with self._read() as conn:
            return {r[0]: int(r[1]) for r in conn.execute(query.group_by(D.c.destination))}


def _flag(condition: Any) -> Any:
    """1 where the condition holds, else 0 (for SUM)."""
    return case((condition, 1), else_=0)
