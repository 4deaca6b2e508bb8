"""The security_events table: append refused calls, list them newest first."""

from __future__ import annotations

from dataclasses import asdict, replace

from sqlalchemy import Connection, Row, insert, select

from q2c_core.adapters.store import schema as s
from q2c_core.adapters.store._paging import keyset_page
from q2c_core.adapters.store.schema import utc
from q2c_core.app.records import Page, SecurityEventRow


def insert_event(conn: Connection, row: SecurityEventRow) -> None:
    """Append one event (its event_id is assigned by the database)."""
    values = asdict(row)
    values.pop("event_id")
    conn.execute(insert(s.security_events), [values])


def _row(row: Row[object]) -> SecurityEventRow:
    values = dict(row._mapping)
    event = SecurityEventRow(**values)
    return replace(event, occurred_at=utc(event.occurred_at))


def list_events(
    conn: Connection, tenant_ids: list[str], page_size: int, page_token: str
) -> Page[SecurityEventRow]:
    """Events of the given tenants ("" = refusals with no verified tenant), newest first."""
    t = s.security_events
    query = select(t).where(t.c.tenant_id.in_(tenant_ids))
    return keyset_page(
        conn, query, [t.c.event_id], page_size, page_token, _row, lambda r: (r.event_id,), descending=True
    )
