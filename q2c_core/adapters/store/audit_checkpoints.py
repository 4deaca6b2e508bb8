"""Audit verification reads (records with their events' digests recomputed) and the
audit_checkpoints table (signed stream heads)."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import Connection, Row, and_, func, insert, select, tuple_
from sqlalchemy.exc import IntegrityError

from q2c_core.adapters.store import schema as s
from q2c_core.adapters.store._paging import after, keyset_page
from q2c_core.adapters.store._write import read_events_by_id
from q2c_core.adapters.store.schema import AUDIT, utc
from q2c_core.app.audit.anchor import Checkpoint, Sign, StreamHead
from q2c_core.app.audit.chain import Checked, events_digest
from q2c_core.app.records import AuditRecord, EventRecord, Page
from q2c_core.app.store_errors import ConcurrencyConflict


def iter_checked(
    conn: Connection, tenant_id: str, stream_id: str | None, chunk: int = 1000
) -> Iterator[Checked]:
    """Audit records in (stream_id, seq) order, each with its events' digest recomputed from
    the events table (None for a version 1 record, which does not cover events)."""
    return iter(CheckedPage(conn, tenant_id, stream_id, chunk=chunk))


class CheckedPage:
    """Iterates like `iter_checked`, from after `start` (stream_id, seq), stopping once
    `max_records` were read or, after a chunk, `seconds` have passed; `cut` then says so."""

    def __init__(
        self,
        conn: Connection,
        tenant_id: str,
        stream_id: str | None,
        start: tuple[str, int] | None = None,
        max_records: int | None = None,
        seconds: float | None = None,
        chunk: int = 1000,
    ) -> None:
        self._conn, self._tenant_id, self._stream_id = conn, tenant_id, stream_id
        self._last: list[object] | None = list(start) if start else None
        self._left = max_records
        self._until = None if seconds is None else time.monotonic() + seconds
        self._chunk = chunk
        self.cut = False

    def __iter__(self) -> Iterator[Checked]:
        a = s.audit_records
        cols = [a.c.stream_id, a.c.seq]
        base = select(a).where(a.c.tenant_id == self._tenant_id)
        if self._stream_id is not None:
            base = base.where(a.c.stream_id == self._stream_id)
        while True:
            size = self._chunk if self._left is None else min(self._chunk, self._left)
            query = base if self._last is None else base.where(after(cols, self._last))
            records = [AUDIT.record(r) for r in self._conn.execute(query.order_by(*cols).limit(size)).all()]
            yield from _with_digests(self._conn, self._tenant_id, records)
            if len(records) < size:
                return
            self._last = [records[-1].stream_id, records[-1].seq]
            if self._left is not None:
                self._left -= len(records)
            if self._left == 0 or (self._until is not None and time.monotonic() >= self._until):
                self.cut = True
                return


def _with_digests(conn: Connection, tenant_id: str, records: list[AuditRecord]) -> Iterator[Checked]:
    wanted = {i for r in records if r.chain_version >= 2 for i in r.event_ids}
    events: dict[str, EventRecord] = {e.event_id: e for e in read_events_by_id(conn, tenant_id, wanted)}
    for rec in records:
        yield rec, events_digest(rec.event_ids, events) if rec.chain_version >= 2 else None


def head_hashes(
    conn: Connection, tenant_id: str, heads: Sequence[StreamHead], chunk: int = 500
) -> dict[str, dict[int, str]]:
    """For the streams `heads` name: {last seq: hash} plus {the head's seq: hash} where that
    record exists (what `audit_chain.compare_heads` compares a checkpoint with)."""
    a = s.audit_records
    only = heads[0].stream_id if len({h.stream_id for h in heads}) == 1 else None
    latest = {h.stream_id: {h.seq: h.hash} for h in audit_heads(conn, tenant_id, only)}
    seen: dict[str, dict[int, str]] = {}
    for i in range(0, len(heads), chunk):
        part = [h for h in heads[i : i + chunk] if h.stream_id in latest]
        if not part:
            continue
        query = select(a.c.stream_id, a.c.seq, a.c.hash).where(
            a.c.tenant_id == tenant_id,
            tuple_(a.c.stream_id, a.c.seq).in_([(h.stream_id, h.seq) for h in part]),
        )
        for row in conn.execute(query):
            seen.setdefault(str(row[0]), {})[int(row[1])] = str(row[2])
    return {sid: latest[sid] | seen.get(sid, {}) for sid in {h.stream_id for h in heads} if sid in latest}


def audit_heads(conn: Connection, tenant_id: str, stream_id: str | None = None) -> list[StreamHead]:
    """The last record (seq, hash) of every audit stream of the tenant (or of one), by stream_id."""
    a = s.audit_records
    scope = [a.c.tenant_id == tenant_id] + ([a.c.stream_id == stream_id] if stream_id is not None else [])
    mx = select(a.c.stream_id, func.max(a.c.seq).label("mx")).where(*scope).group_by(a.c.stream_id).subquery()
    query = (
        select(a.c.stream_id, a.c.seq, a.c.hash)
        .join(mx, and_(a.c.stream_id == mx.c.stream_id, a.c.seq == mx.c.mx))
        .where(a.c.tenant_id == tenant_id)
        .order_by(a.c.stream_id)
    )
    return [StreamHead(r[0], int(r[1]), str(r[2])) for r in conn.execute(query)]


def audit_tenants(conn: Connection) -> list[str]:
    """Every tenant with at least one audit record, sorted."""
    a = s.audit_records
    return [str(t) for t in conn.execute(select(a.c.tenant_id).distinct().order_by(a.c.tenant_id)).scalars()]


def _checkpoint(row: Row[Any]) -> Checkpoint:
    m = row._mapping
    return Checkpoint(
        tenant_id=m["tenant_id"],
        sequence=int(m["sequence"]),
        created_at=utc(m["created_at"]),
        heads=tuple(StreamHead(str(h[0]), int(h[1]), str(h[2])) for h in m["heads"]),
        root=m["root"],
        key_id=m["key_id"],
        signature=m["signature"],
        format=int(m["format"]),
        request_id=m["request_id"],
    )


def get_checkpoint(conn: Connection, tenant_id: str, sequence: int | None) -> Checkpoint | None:
    """One checkpoint by sequence (None = the latest), or None."""
    c = s.audit_checkpoints
    query = select(c).where(c.c.tenant_id == tenant_id)
    if sequence is not None:
        query = query.where(c.c.sequence == sequence)
    row = conn.execute(query.order_by(c.c.sequence.desc()).limit(1)).first()
    return _checkpoint(row) if row else None


def list_checkpoints(conn: Connection, tenant_id: str, page_size: int, page_token: str) -> Page[Checkpoint]:
    """The tenant's checkpoints, newest first."""
    c = s.audit_checkpoints
    query = select(c).where(c.c.tenant_id == tenant_id)
    return keyset_page(
        conn,
        query,
        [c.c.sequence],
        page_size,
        page_token,
        _checkpoint,
        lambda cp: (cp.sequence,),
        descending=True,
    )


def append_checkpoint(
    conn: Connection, tenant_id: str, request_id: str | None, sign: Sign, if_changed: bool = False
) -> Checkpoint:
    """Sign the tenant's current heads as the next checkpoint and insert it.

    A request_id already used by one of the tenant's checkpoints returns that checkpoint; so does
    `if_changed` when the heads are those of the latest checkpoint. Raises ConcurrencyConflict
    when a concurrent call took the sequence number (or the request_id).
    """
    c = s.audit_checkpoints
    if request_id:
        row = conn.execute(select(c).where(c.c.tenant_id == tenant_id, c.c.request_id == request_id)).first()
        if row is not None:
            return _checkpoint(row)
    latest = get_checkpoint(conn, tenant_id, None)
    heads = audit_heads(conn, tenant_id)
    if if_changed and latest is not None and latest.heads == tuple(heads):
        return latest
    checkpoint = sign((latest.sequence if latest else 0) + 1, heads)
    values = {
        "tenant_id": tenant_id,
        "sequence": checkpoint.sequence,
        "created_at": utc(checkpoint.created_at),
        "heads": [[h.stream_id, h.seq, h.hash] for h in checkpoint.heads],
        "root": checkpoint.root,
        "key_id": checkpoint.key_id,
        "signature": checkpoint.signature,
        "format": checkpoint.format,
        "request_id": request_id or None,
    }
    try:
        conn.execute(insert(c), [values])
    except IntegrityError as exc:
        raise ConcurrencyConflict([tenant_id], "audit checkpoint sequence taken") from exc
    return checkpoint
