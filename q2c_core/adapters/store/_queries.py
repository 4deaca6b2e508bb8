"""Read queries; each takes an open connection and filters on tenant_id."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from sqlalchemy import Connection, Text, and_, cast, func, select

from q2c_core.adapters.store import schema as s
from q2c_core.adapters.store._paging import after, keyset_page
from q2c_core.app.decoding import SnapshotText
from q2c_core.app.records import (
    AuditRecord,
    CustomerRow,
    EngagementRow,
    ExceptionRow,
    IdempotencyRecord,
    Page,
    RateCardRow,
    StoredEvent,
    StreamState,
)


def load_streams(conn: Connection, tenant_id: str, ids: Sequence[str]) -> dict[str, StreamState]:
    """Snapshot rows plus tail events (seq > snapshot version) of many engagements: 2 queries."""
    ids = list(dict.fromkeys(ids))
    if not ids:
        return {}
    e, ev = s.engagements, s.events
    rows = conn.execute(_SNAPSHOT_ROWS.where(e.c.tenant_id == tenant_id, e.c.engagement_id.in_(ids)))
    out: dict[str, StreamState] = {i: (None, []) for i in ids}
    for row in rows:
        values = dict(row._mapping)
        text = values["snapshot"]
        values["snapshot"] = None if text is None or text == "null" else SnapshotText(text)
        out[row.engagement_id] = (s.ENGAGEMENTS.from_values(values), [])
    joined = ev.outerjoin(e, and_(e.c.tenant_id == ev.c.tenant_id, e.c.engagement_id == ev.c.stream_id))
    tail = (
        select(ev)
        .select_from(joined)
        .where(
            ev.c.tenant_id == tenant_id,
            ev.c.stream_id.in_(ids),
            ev.c.seq > func.coalesce(e.c.snapshot_version, 0),
        )
        .order_by(ev.c.stream_id, ev.c.seq)
    )
    for r in conn.execute(tail):
        out[r.stream_id][1].append(s.EVENTS.record(r))
    return out


_SNAPSHOT_ROWS = select(
    *(c for c in s.engagements.c if c.name != "snapshot"),
    cast(s.engagements.c.snapshot, Text).label("snapshot"),
)
"""Engagement rows with the snapshot as its column's JSON text (`SnapshotText`), left for
`decoding.decode_snapshot` to parse straight into an Engagement."""


def read_events(conn: Connection, tenant_id: str, stream_id: str, after_seq: int) -> list[StoredEvent]:
    """Events of one stream with seq > after_seq, in seq order."""
    ev = s.events
    query = (
        select(ev)
        .where(ev.c.tenant_id == tenant_id, ev.c.stream_id == stream_id, ev.c.seq > after_seq)
        .order_by(ev.c.seq)
    )
    return list(map(s.EVENTS.record, conn.execute(query)))


def read_all_events(
    conn: Connection,
    tenant_id: str,
    after_position: int,
    limit: int,
    event_types: Sequence[str] = (),
    stream_id: str | None = None,
) -> list[StoredEvent]:
    """The tenant's events with position > after_position, in position order, optionally
    only of `event_types` (empty = all) and of one stream."""
    ev = s.events
    query = select(ev).where(ev.c.tenant_id == tenant_id, ev.c.position > after_position)
    if event_types:
        query = query.where(ev.c.event_type.in_(sorted(set(event_types))))
    if stream_id is not None:
        query = query.where(ev.c.stream_id == stream_id)
    return list(map(s.EVENTS.record, conn.execute(query.order_by(ev.c.position).limit(limit))))


def find_idempotency(
    conn: Connection, tenant_id: str, request_ids: Sequence[str]
) -> dict[str, IdempotencyRecord]:
    """Stored idempotency records for the given request ids (one query)."""
    if not request_ids:
        return {}
    t = s.idempotency
    query = select(t).where(t.c.tenant_id == tenant_id, t.c.request_id.in_(set(request_ids)))
    return {r.request_id: s.IDEMPOTENCY.record(r) for r in conn.execute(query)}


def get_engagement(conn: Connection, tenant_id: str, engagement_id: str) -> EngagementRow | None:
    """One engagement row or None."""
    e = s.engagements
    row = conn.execute(
        select(e).where(e.c.tenant_id == tenant_id, e.c.engagement_id == engagement_id)
    ).first()
    return s.ENGAGEMENTS.record(row) if row else None


def list_engagements(
    conn: Connection,
    tenant_id: str,
    state: str | None,
    customer_id: str | None,
    page_size: int,
    page_token: str,
) -> Page[EngagementRow]:
    """Engagements ordered by (create_time, engagement_id)."""
    e = s.engagements
    query = select(e).where(e.c.tenant_id == tenant_id)
    if state:
        query = query.where(e.c.state == state)
    if customer_id:
        query = query.where(e.c.customer_id == customer_id)
    return keyset_page(
        conn,
        query,
        [e.c.create_time, e.c.engagement_id],
        page_size,
        page_token,
        s.ENGAGEMENTS.record,
        lambda r: (r.create_time, r.engagement_id),
    )


def get_exception(conn: Connection, tenant_id: str, exception_id: str) -> ExceptionRow | None:
    """One exception row or None."""
    x = s.exceptions
    row = conn.execute(select(x).where(x.c.tenant_id == tenant_id, x.c.exception_id == exception_id)).first()
    return s.EXCEPTIONS.record(row) if row else None


EXCEPTION_ORDERS = ("oldest_first", "newest_first")
"""Orders of list_exceptions: by (raise_time, exception_id) ascending (the default) or descending."""


def list_exceptions(
    conn: Connection,
    tenant_id: str,
    state: str | None,
    severity: str | None,
    engagement_id: str | None,
    page_size: int,
    page_token: str,
    owner_queue: str | None = None,
    order_by: str = "oldest_first",
) -> Page[ExceptionRow]:
    """Exceptions ordered by (raise_time, exception_id): oldest first (the default) or newest first.

    Page tokens are valid only for the order they were made for.
    """
    if order_by not in EXCEPTION_ORDERS:
        raise ValueError(f"order_by must be one of {EXCEPTION_ORDERS}")
    x = s.exceptions
    query = select(x).where(x.c.tenant_id == tenant_id)
    if state:
        query = query.where(x.c.state == state)
    if severity:
        query = query.where(x.c.severity == severity)
    if engagement_id:
        query = query.where(x.c.engagement_id == engagement_id)
    if owner_queue:
        query = query.where(x.c.owner_queue == owner_queue)
    newest = order_by == "newest_first"
    return keyset_page(
        conn,
        query,
        [x.c.raise_time, x.c.exception_id],
        page_size,
        page_token,
        s.EXCEPTIONS.record,
        lambda r: (r.raise_time, r.exception_id),
        descending=newest,
        order=order_by if newest else "",
    )


def get_customer(conn: Connection, tenant_id: str, customer_id: str) -> CustomerRow | None:
    """One customer row or None."""
    c = s.customers
    row = conn.execute(select(c).where(c.c.tenant_id == tenant_id, c.c.customer_id == customer_id)).first()
    return s.CUSTOMERS.record(row) if row else None


def list_customers(
    conn: Connection, tenant_id: str, status: str | None, page_size: int, page_token: str
) -> Page[CustomerRow]:
    """Customers ordered by (create_time, customer_id)."""
    c = s.customers
    query = select(c).where(c.c.tenant_id == tenant_id)
    if status:
        query = query.where(c.c.status == status)
    return keyset_page(
        conn,
        query,
        [c.c.create_time, c.c.customer_id],
        page_size,
        page_token,
        s.CUSTOMERS.record,
        lambda r: (r.create_time, r.customer_id),
    )


def rate_card_revisions(conn: Connection, tenant_id: str, ids: Sequence[str]) -> dict[str, list[RateCardRow]]:
    """All revisions (ascending) of each rate card id; ids with none are absent."""
    if not ids:
        return {}
    r = s.rate_cards
    query = (
        select(r)
        .where(r.c.tenant_id == tenant_id, r.c.rate_card_id.in_(set(ids)))
        .order_by(r.c.rate_card_id, r.c.revision)
    )
    out: dict[str, list[RateCardRow]] = {}
    for row in conn.execute(query):
        out.setdefault(row.rate_card_id, []).append(s.RATE_CARDS.record(row))
    return out


def get_rate_card(
    conn: Connection, tenant_id: str, rate_card_id: str, revision: int | None
) -> RateCardRow | None:
    """One revision of a rate card (None = latest) or None."""
    r = s.rate_cards
    query = select(r).where(r.c.tenant_id == tenant_id, r.c.rate_card_id == rate_card_id)
    if revision is not None:
        query = query.where(r.c.revision == revision)
    row = conn.execute(query.order_by(r.c.revision.desc()).limit(1)).first()
    return s.RATE_CARDS.record(row) if row else None


def list_rate_cards(
    conn: Connection, tenant_id: str, currency_code: str | None, page_size: int, page_token: str
) -> Page[RateCardRow]:
    """Latest revision of each rate card, ordered by rate_card_id."""
    r = s.rate_cards
    latest = (
        select(r.c.rate_card_id, func.max(r.c.revision).label("rev"))
        .where(r.c.tenant_id == tenant_id)
        .group_by(r.c.rate_card_id)
        .subquery()
    )
    query = select(r).join(
        latest, and_(r.c.rate_card_id == latest.c.rate_card_id, r.c.revision == latest.c.rev)
    )
    query = query.where(r.c.tenant_id == tenant_id)
    if currency_code:
        query = query.where(r.c.currency_code == currency_code)
    return keyset_page(
        conn,
        query,
        [r.c.rate_card_id],
        page_size,
        page_token,
        s.RATE_CARDS.record,
        lambda c: (c.rate_card_id,),
    )


def list_audit(
    conn: Connection, tenant_id: str, stream_id: str, page_size: int, page_token: str
) -> Page[AuditRecord]:
    """Audit records of one stream in seq order."""
    a = s.audit_records
    query = select(a).where(a.c.tenant_id == tenant_id, a.c.stream_id == stream_id)
    return keyset_page(conn, query, [a.c.seq], page_size, page_token, s.AUDIT.record, lambda r: (r.seq,))


def iter_audit(
    conn: Connection, tenant_id: str, stream_id: str | None, chunk: int = 1000
) -> Iterator[AuditRecord]:
    """Every audit record of a stream (or of the tenant) in (stream_id, seq) order, chunked."""
    a = s.audit_records
    cols = [a.c.stream_id, a.c.seq]
    base = select(a).where(a.c.tenant_id == tenant_id)
    if stream_id is not None:
        base = base.where(a.c.stream_id == stream_id)
    last: list[object] | None = None
    while True:
        query = base if last is None else base.where(after(cols, last))
        rows = conn.execute(query.order_by(*cols).limit(chunk)).all()
        for row in rows:
            yield s.AUDIT.record(row)
        if len(rows) < chunk:
            return
        last = [rows[-1].stream_id, rows[-1].seq]
