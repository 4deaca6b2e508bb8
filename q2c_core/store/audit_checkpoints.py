"""Audit verification reads (records with their events' digests recomputed) and the
audit_checkpoints table (signed stream heads)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from sqlalchemy import Connection, Row, and_, func, insert, select
from sqlalchemy.exc import IntegrityError

from q2c_core.audit_anchor import Checkpoint, StreamHead
from q2c_core.store import schema as s
from q2c_core.store._paging import after, keyset_page
from q2c_core.store._rows import to_audit, utc
from q2c_core.store._write import read_events_by_id
from q2c_core.store.audit_chain import Checked, events_digest
from q2c_core.store.errors import ConcurrencyConflict
from q2c_core.store.records import EventRecord, Page

Sign = Callable[[int, Sequence[StreamHead]], Checkpoint]
"""Makes the signed checkpoint with the given sequence number over the given heads."""


def iter_checked(
    conn: Connection, tenant_id: str, stream_id: str | None, chunk: int = 1000
) -> Iterator[Checked]:
    """Audit records in (stream_id, seq) order, each with its events' digest recomputed from
    the events table (None for a version 1 record, which does not cover events)."""
    a = s.audit_records
    cols = [a.c.stream_id, a.c.seq]
    base = select(a).where(a.c.tenant_id == tenant_id)
    if stream_id is not None:
        base = base.where(a.c.stream_id == stream_id)
    last: list[object] | None = None
    while True:
        query = base if last is None else base.where(after(cols, last))
        records = [to_audit(r) for r in conn.execute(query.order_by(*cols).limit(chunk)).all()]
        wanted = {i for r in records if r.chain_version >= 2 for i in r.event_ids}
        events: dict[str, EventRecord] = {e.event_id: e for e in read_events_by_id(conn, tenant_id, wanted)}
        for rec in records:
            yield rec, events_digest(rec.event_ids, events) if rec.chain_version >= 2 else None
        if len(records) < chunk:
            return
        last = [records[-1].stream_id, records[-1].seq]


def audit_heads(conn: Connection, tenant_id: str) -> list[StreamHead]:
    """The last record (seq, hash) of every audit stream of the tenant, by stream_id."""
    a = s.audit_records
    mx = (
        select(a.c.stream_id, func.max(a.c.seq).label("mx"))
        .where(a.c.tenant_id == tenant_id)
        .group_by(a.c.stream_id)
        .subquery()
    )
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
