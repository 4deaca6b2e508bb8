"""The write path: one transaction per WriteBatch."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

from sqlalchemy import Connection, Select, Table, and_, bindparam, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from q2c_core.adapters.store import schema as s
from q2c_core.adapters.store._bulk import statements
from q2c_core.adapters.store._guard import Attempt, Key
from q2c_core.adapters.store._reference import bump_versions as bump_reference
from q2c_core.adapters.store._reference import check_versions as check_reference
from q2c_core.adapters.store.notify import CHANNEL
from q2c_core.app.audit.chain import GENESIS_HASH, canonical, chain_hash, events_digest
from q2c_core.app.records import AuditEntry, AuditRecord, BillRunRow, CustomerRow, EventRecord, StoredEvent
from q2c_core.app.store_errors import ConcurrencyConflict

R = TypeVar("R")
V = TypeVar("V", CustomerRow, BillRunRow)
Head = tuple[int, str]

EVENT_ORDER_LOCK_KEY = 7142051134
"""PostgreSQL advisory lock that event-writing transactions hold from their events insert to
commit (the migration lock is 7142051133).

A sequence hands out positions at insert time, but transactions commit in any order, so
without it a reader could see position 12 committed while 11 is still in flight, move its
cursor past 11 and never see it. Holding one transaction-scoped lock from `nextval` to
commit makes commit order equal position order: the committed positions are always a prefix
of the assigned ones (rolled-back positions leave gaps, never late arrivals). The statement
that inserts the events takes the lock itself (`_bulk.Statements.append_events`: its rows are
joined with the lock's result, so no position is drawn before the lock is granted) and is the
transaction's last, so what the lock serializes across shards is that one statement and the
commit, not the rest of the batch. SQLite needs nothing: BEGIN IMMEDIATE already serializes
writers.
"""


class AuditHeads:
    """Audit chain heads this process committed or read: (tenant, stream) -> (seq, hash).

    A hint, never trusted alone: if another process appended to a stream since, the next
    record's (tenant, stream, seq) is taken and the insert fails, so a stale head can only
    cost a retry (Store.commit retries once with heads read in the transaction). Heads are
    advanced only after a commit; a failed attempt forgets its streams. Bounded (~300 bytes a
    head; the limit is above the 20,000 engagements a host keeps resident by default): the least
    recently written heads are dropped first.
    """

    def __init__(self, limit: int = 32_768) -> None:
        self._heads: dict[Key, Head] = {}
        self._limit = limit
        self._lock = threading.Lock()

    def lookup(self, keys: Iterable[Key]) -> dict[Key, Head]:
        """The known heads among `keys`."""
        with self._lock:
            return {k: head for k in keys if (head := self._heads.get(k)) is not None}

    def advance(self, heads: Mapping[Key, Head]) -> None:
        """Record committed heads (never moving one back: a late update must not win)."""
        with self._lock:
            for key, head in heads.items():
                old = self._heads.pop(key, None)
                self._heads[key] = head if old is None or old[0] < head[0] else old
            while len(self._heads) > self._limit:
                del self._heads[next(iter(self._heads))]

    def forget(self, keys: Iterable[Key]) -> None:
        """Drop these streams' heads (their next commit reads them from the database)."""
        with self._lock:
            for key in keys:
                self._heads.pop(key, None)

    def __len__(self) -> int:
        return len(self._heads)


def write_batch(conn: Connection, attempt: Attempt, heads: AuditHeads | None = None) -> list[AuditRecord]:
    """Write everything in the batch on `conn` (inside its transaction); return audit records.

    Audit chains continue from `heads` where it knows them, else from the database.
    """
    batch = attempt.batch
    sql = statements(conn.dialect)
    check_reference(conn, batch.reference_guards)
    _check_versions(conn, batch.version_guards)
    audit = _chain_audit(conn, batch.audit, attempt, heads)
    eng = _last_by_key(batch.engagements, lambda e: (e.tenant_id, e.engagement_id))
    snapshots = [s.ENGAGEMENTS.params(e) for e in eng if e.snapshot is not None]
    columns = [s.ENGAGEMENTS.params(e) for e in eng if e.snapshot is None]
    ids = sql.write(conn, audit, list(map(s.IDEMPOTENCY.params, batch.idempotency)), snapshots, columns)
    _write_versioned(conn, s.CUSTOMERS, batch.customers, "customer")
    if batch.rate_cards:
        conn.execute(insert(s.rate_cards), list(map(s.RATE_CARDS.params, batch.rate_cards)))
    if batch.customers or batch.rate_cards:
        bump_reference(conn, (r.tenant_id for rows in (batch.customers, batch.rate_cards) for r in rows))
    exc = _last_by_key(batch.exceptions, lambda x: (x.tenant_id, x.exception_id))
    _upsert(conn, s.exceptions, list(map(s.EXCEPTIONS.params, exc)), ())
    inv = _last_by_key(batch.invoices, lambda i: (i.tenant_id, i.invoice_id))
    _upsert(conn, s.invoices, list(map(s.INVOICES.params, inv)), ("create_time",))
    _write_versioned(conn, s.BILL_RUNS, batch.bill_runs, "bill run")
    if batch.events:  # last: the order lock is held from here to the commit
        sql.append_events(conn, list(map(s.EVENTS.params, batch.events)), EVENT_ORDER_LOCK_KEY, CHANNEL)
    return [s.AUDIT.from_values({**p, "record_id": rid}) for p, rid in zip(audit, ids, strict=True)]


def _check_versions(conn: Connection, guards: dict[tuple[str, str], int]) -> None:
    """Raise ConcurrencyConflict when an engagement is no longer at the version a decision saw."""
    if not guards:
        return
    keys = {"tenants": sorted({k[0] for k in guards}), "ids": sorted({k[1] for k in guards})}
    current = {(r[0], r[1]): int(r[2]) for r in conn.execute(_VERSIONS, keys)}
    stale = sorted(key[1] for key, version in guards.items() if current.get(key, 0) != version)
    if stale:
        raise ConcurrencyConflict(stale, "decided on a stale version")


def read_heads(conn: Connection, keys: Iterable[Key]) -> dict[Key, tuple[int, str]]:
    """Current (max seq, hash) of each audit stream in `keys`, in one query."""
    keys = set(keys)
    if not keys:
        return {}
    wanted = {"tenants": sorted({k[0] for k in keys}), "streams": sorted({k[1] for k in keys})}
    heads = {(r[0], r[1]): (int(r[2]), str(r[3])) for r in conn.execute(_HEADS, wanted)}
    return {k: v for k, v in heads.items() if k in keys}


def _heads_query() -> Select[Any]:
    t = s.audit_records
    mx = (
        select(t.c.tenant_id, t.c.stream_id, func.max(t.c.seq).label("mx"))
        .where(
            t.c.tenant_id.in_(bindparam("tenants", expanding=True)),
            t.c.stream_id.in_(bindparam("streams", expanding=True)),
        )
        .group_by(t.c.tenant_id, t.c.stream_id)
        .subquery()
    )
    return select(t.c.tenant_id, t.c.stream_id, t.c.seq, t.c.hash).join(
        mx,
        and_(t.c.tenant_id == mx.c.tenant_id, t.c.stream_id == mx.c.stream_id, t.c.seq == mx.c.mx),
    )


# Built once: building a statement costs more than SQLAlchemy's cached compilation of it.
_HEADS = _heads_query()
_VERSIONS = select(s.engagements.c.tenant_id, s.engagements.c.engagement_id, s.engagements.c.version).where(
    s.engagements.c.tenant_id.in_(bindparam("tenants", expanding=True)),
    s.engagements.c.engagement_id.in_(bindparam("ids", expanding=True)),
)


def _chain_audit(
    conn: Connection, entries: Sequence[AuditEntry], attempt: Attempt, cache: AuditHeads | None
) -> list[s.Params]:
    """The entries' rows, in order, with seq / prev_hash / hash after their streams' heads."""
    if not entries:
        return []
    keys = {(a.tenant_id, a.stream_id) for a in entries}
    heads = cache.lookup(keys) if cache is not None else {}
    attempt.cached_heads = bool(heads)
    heads.update(read_heads(conn, keys - heads.keys()))
    attempt.audit_heads = {k: heads.get(k, (0, ""))[0] for k in keys}
    events = _audited_events(conn, entries, attempt.batch.events)
    params: list[s.Params] = []
    for a in entries:
        key = (a.tenant_id, a.stream_id)
        seq, prev = heads.get(key, (0, GENESIS_HASH))
        seq += 1
        covered = events_digest(a.event_ids, events.get(a.tenant_id, {}))
        digest = chain_hash(prev, canonical(a, seq, covered))
        version = 1 if covered is None else 2
        params.append(
            s.AUDIT.params(
                a, seq=seq, prev_hash=prev, hash=digest, events_digest=covered, chain_version=version
            )
        )
        heads[key] = (seq, digest)
    attempt.new_heads = {k: heads[k] for k in keys}
    return params


def _audited_events(
    conn: Connection, entries: Sequence[AuditEntry], batch_events: Sequence[EventRecord]
) -> dict[str, dict[str, EventRecord]]:
    """tenant -> event_id -> event, for every event an entry names: from the batch, else stored."""
    found: dict[str, dict[str, EventRecord]] = {}
    for e in batch_events:
        found.setdefault(e.tenant_id, {})[e.event_id] = e
    missing = {(a.tenant_id, i) for a in entries for i in a.event_ids if i not in found.get(a.tenant_id, {})}
    for tenant in {t for t, _ in missing}:
        ids = [i for t, i in missing if t == tenant]
        for stored in read_events_by_id(conn, tenant, ids):
            found.setdefault(tenant, {})[stored.event_id] = stored
    return found


def read_events_by_id(conn: Connection, tenant_id: str, event_ids: Iterable[str]) -> list[StoredEvent]:
    """Stored events with the given ids (`stream:seq`), looked up through the stream index."""
    ids = set(event_ids)
    keys = [i.rpartition(":") for i in ids]
    streams = {k[0] for k in keys if k[2].isdigit()}
    if not streams:
        return []
    ev = s.events
    query = select(ev).where(
        ev.c.tenant_id == tenant_id,
        ev.c.stream_id.in_(streams),
        ev.c.seq.in_({int(k[2]) for k in keys if k[2].isdigit()}),
    )
    return [e for e in map(s.EVENTS.record, conn.execute(query)) if e.event_id in ids]


def _write_versioned(conn: Connection, rows: s.RowMap[V, V], items: Sequence[V], noun: str) -> None:
    """Insert version-1 rows; update others only from version n-1 (else ConcurrencyConflict)."""
    if any(i.version < 1 for i in items):
        raise ValueError(f"{type(items[0]).__name__}.version must be >= 1")
    t = rows.table
    key = t.primary_key.columns.values()[-1]  # the id after tenant_id
    if new := [rows.params(i) for i in items if i.version == 1]:
        conn.execute(insert(t), new)
    for i in items:
        if i.version == 1:
            continue
        values = rows.params(i)
        tenant, ident = values.pop("tenant_id"), values.pop(key.name)
        del values["create_time"]
        where = (t.c.tenant_id == tenant, key == ident, t.c.version == i.version - 1)
        if conn.execute(update(t).where(*where).values(**values)).rowcount != 1:
            raise ConcurrencyConflict([ident], f"{noun} is not at version {i.version - 1}")


def _upsert(conn: Connection, table: Table, rows: list[s.Params], keep: tuple[str, ...]) -> None:
    """INSERT ... ON CONFLICT (pk) DO UPDATE every non-key column except `keep`."""
    if rows:
        conn.execute(_upsert_statement(conn.dialect.name, table, keep), rows)


@functools.cache
def _upsert_statement(dialect: str, table: Table, keep: tuple[str, ...]) -> Any:
    """The upsert statement, built once (SQLAlchemy then finds its compiled form in its cache)."""
    ins: Any
    if dialect == "postgresql":
        ins = postgresql.insert(table)
    elif dialect == "sqlite":
        ins = sqlite.insert(table)
    else:  # pragma: no cover - only SQLite and PostgreSQL are supported
        raise NotImplementedError(f"upsert on {dialect}")
    pk = [c.name for c in table.primary_key.columns]
    sets = {c.name: ins.excluded[c.name] for c in table.columns if c.name not in (*pk, *keep)}
    return ins.on_conflict_do_update(index_elements=pk, set_=sets)


def _last_by_key(items: Sequence[R], key: Callable[[R], Key]) -> list[R]:
    """Keep the last item per key, sorted by key (stable lock order avoids deadlocks)."""
    last = {key(i): i for i in items}
    return [last[k] for k in sorted(last)]
