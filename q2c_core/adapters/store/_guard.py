"""The one place where SQLAlchemy errors become store errors."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import Engine, and_, func, or_, select
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError

from q2c_core.adapters.store import schema as s
from q2c_core.adapters.store.database import READ_ONLY
from q2c_core.app.records import WriteBatch
from q2c_core.app.store_errors import (
    ConcurrencyConflict,
    DuplicateRequestId,
    StoreError,
    StoreUnavailable,
)

_TARGET = re.compile(r'^\s*(?:INSERT\s+INTO|UPDATE)\s+"?(\w+)"?', re.IGNORECASE)
_SQLITE_FAILED = re.compile(r"constraint failed: (\w+)\.")
Key = tuple[str, str]


@dataclass(slots=True)
class Attempt:
    """What a commit attempt wrote so a failure can be attributed to streams / request ids."""

    batch: WriteBatch
    audit_heads: dict[Key, int] = field(default_factory=dict)
    """The seq each audit stream's chain was appended after."""
    new_heads: dict[Key, tuple[int, str]] = field(default_factory=dict)
    """(seq, hash) of each audit stream's last record written, for the head cache after commit."""
    cached_heads: bool = False
    """Whether any head came from the process's head cache rather than the database."""
    conflict_table: str = ""
    """The table whose unique key a failed attempt violated."""


@contextmanager
def guard(engine: Engine, attempt: Attempt | None = None) -> Iterator[None]:
    """Translate IntegrityError / OperationalError raised inside the block into StoreErrors."""
    try:
        yield
    except StoreError:
        raise
    except IntegrityError as exc:
        raise _integrity(engine, exc, attempt) from exc
    except (OperationalError, InterfaceError) as exc:
        raise StoreUnavailable(str(exc.orig)) from exc
    except DBAPIError as exc:
        if exc.connection_invalidated:
            raise StoreUnavailable(str(exc.orig)) from exc
        raise StoreError(str(exc.orig)) from exc


def target_table(exc: DBAPIError) -> str:
    """The table whose constraint failed, as the driver reports it (psycopg's diagnostics,
    SQLite's "UNIQUE constraint failed: <table>.<column>"), else the table the failing
    INSERT/UPDATE statement targeted ('' if unknown)."""
    diag = getattr(exc.orig, "diag", None)
    if table := getattr(diag, "table_name", None):
        return str(table).lower()
    if failed := _SQLITE_FAILED.search(str(exc.orig)):
        return failed.group(1).lower()
    match = _TARGET.match(exc.statement or "")
    return match.group(1).lower() if match else ""


def _integrity(engine: Engine, exc: IntegrityError, attempt: Attempt | None) -> StoreError:
    """Map a unique/PK violation to ConcurrencyConflict or DuplicateRequestId."""
    table = target_table(exc)
    if attempt is None:
        return StoreError(f"integrity error on {table or 'unknown table'}: {exc.orig}")
    attempt.conflict_table = table
    batch = attempt.batch
    try:
        if table == s.idempotency.name:
            dups = _existing_request_ids(engine, batch)
            return DuplicateRequestId(dups[0], dups)
        if table == s.events.name:
            return ConcurrencyConflict(_taken_event_streams(engine, batch), "event seq taken")
        if table == s.audit_records.name:
            return ConcurrencyConflict(_moved_audit_streams(engine, attempt), "audit seq taken")
    except (DBAPIError, IndexError):
        pass  # attribution is best effort; fall back to every candidate below
    if table == s.idempotency.name:
        ids = [i.request_id for i in batch.idempotency]
        return DuplicateRequestId(ids[0] if ids else "", ids)
    if table == s.events.name:
        return ConcurrencyConflict(_unique(e.stream_id for e in batch.events), "event seq taken")
    if table == s.audit_records.name:
        return ConcurrencyConflict(_unique(a.stream_id for a in batch.audit), "audit seq taken")
    if table == s.customers.name:
        ids = _unique(c.customer_id for c in batch.customers if c.version == 1)
        return ConcurrencyConflict(ids, "customer already exists")
    if table == s.bill_runs.name:
        ids = _unique(b.bill_run_id for b in batch.bill_runs if b.version == 1)
        return ConcurrencyConflict(ids, "bill run already exists")
    if table == s.rate_cards.name:
        return ConcurrencyConflict(
            _unique(r.rate_card_id for r in batch.rate_cards), "rate card revision exists"
        )
    return StoreError(f"integrity error on {table or 'unknown table'}: {exc.orig}")


def _unique(items: Iterator[str] | list[str]) -> list[str]:
    """Distinct items in first-seen order."""
    return list(dict.fromkeys(items))


def _existing_request_ids(engine: Engine, batch: WriteBatch) -> list[str]:
    """Request ids of the batch that are duplicated in the batch or already stored."""
    seen: set[Key] = set()
    dups: list[str] = []
    for rec in batch.idempotency:
        key = (rec.tenant_id, rec.request_id)
        if key in seen:
            dups.append(rec.request_id)
        seen.add(key)
    if not seen:
        return dups
    t = s.idempotency
    cond = or_(*(and_(t.c.tenant_id == k[0], t.c.request_id == k[1]) for k in seen))
    with engine.connect().execution_options(**{READ_ONLY: True}) as conn:
        stored = {tuple(r) for r in conn.execute(select(t.c.tenant_id, t.c.request_id).where(cond))}
    dups += [r.request_id for r in batch.idempotency if (r.tenant_id, r.request_id) in stored]
    return _unique(dups)


def _taken_event_streams(engine: Engine, batch: WriteBatch) -> list[str]:
    """Streams whose (tenant, stream, seq) from the batch is already in the journal."""
    if not batch.events:
        return []
    t = s.events
    cond = or_(
        *(
            and_(t.c.tenant_id == e.tenant_id, t.c.stream_id == e.stream_id, t.c.seq == e.seq)
            for e in batch.events
        )
    )
    with engine.connect().execution_options(**{READ_ONLY: True}) as conn:
        taken = {r[0] for r in conn.execute(select(t.c.stream_id).where(cond).distinct())}
    return _unique(e.stream_id for e in batch.events if e.stream_id in taken) or _unique(
        e.stream_id for e in batch.events
    )


def _moved_audit_streams(engine: Engine, attempt: Attempt) -> list[str]:
    """Audit streams whose head moved since the attempt read it."""
    t = s.audit_records
    keys = attempt.audit_heads
    if not keys:
        return _unique(a.stream_id for a in attempt.batch.audit)
    cond = or_(*(and_(t.c.tenant_id == k[0], t.c.stream_id == k[1]) for k in keys))
    query = (
        select(t.c.tenant_id, t.c.stream_id, func.max(t.c.seq))
        .where(cond)
        .group_by(t.c.tenant_id, t.c.stream_id)
    )
    with engine.connect().execution_options(**{READ_ONLY: True}) as conn:
        now = {(r[0], r[1]): r[2] for r in conn.execute(query)}
    moved = [k[1] for k, head in keys.items() if now.get(k, 0) != head]
    return _unique(moved) or _unique(k[1] for k in keys)
