"""Invoices, bill runs and billable engagements: row conversion, reads and writes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Row, insert, select, update

from q2c_core.adapters.store import schema as s
from q2c_core.adapters.store._paging import keyset_page
from q2c_core.adapters.store._rows import Params, utc
from q2c_core.app.records import BillRunRow, InvoiceRow, Page
from q2c_core.app.store_errors import ConcurrencyConflict

BILLABLE_STATES = ("ACTIVE", "COMPLETED")


def invoice_params(i: InvoiceRow) -> Params:
    """Upsert parameters for an invoice row."""
    return {
        "tenant_id": i.tenant_id,
        "invoice_id": i.invoice_id,
        "engagement_id": i.engagement_id,
        "customer_id": i.customer_id,
        "state": i.state,
        "period_key": i.period_key,
        "bill_run_id": i.bill_run_id,
        "currency": i.currency,
        "total": i.total,
        "data": i.data,
        "create_time": utc(i.create_time),
        "update_time": utc(i.update_time),
    }


def to_invoice(r: Row[Any]) -> InvoiceRow:
    """An InvoiceRow from a row."""
    m = r._mapping
    return InvoiceRow(
        **{k: m[k] for k in (c.name for c in s.invoices.columns) if k not in ("create_time", "update_time")},
        create_time=utc(m["create_time"]),
        update_time=utc(m["update_time"]),
    )


def bill_run_params(b: BillRunRow) -> Params:
    """Insert/update parameters for a bill run row."""
    return {
        "tenant_id": b.tenant_id,
        "bill_run_id": b.bill_run_id,
        "period_key": b.period_key,
        "state": b.state,
        "version": b.version,
        "data": b.data,
        "create_time": utc(b.create_time),
        "update_time": utc(b.update_time),
    }


def to_bill_run(r: Row[Any]) -> BillRunRow:
    """A BillRunRow from a row."""
    m = r._mapping
    return BillRunRow(
        tenant_id=m["tenant_id"],
        bill_run_id=m["bill_run_id"],
        period_key=m["period_key"],
        state=m["state"],
        version=m["version"],
        data=m["data"],
        create_time=utc(m["create_time"]),
        update_time=utc(m["update_time"]),
    )


def write_bill_runs(conn: Connection, rows: Sequence[BillRunRow]) -> None:
    """Insert version-1 runs; update others only from version n-1 (else ConcurrencyConflict)."""
    t = s.bill_runs
    for b in rows:
        if b.version < 1:
            raise ValueError("BillRunRow.version must be >= 1")
        if b.version == 1:
            conn.execute(insert(t), [bill_run_params(b)])
            continue
        values = bill_run_params(b)
        for k in ("tenant_id", "bill_run_id", "create_time"):
            values.pop(k)
        result = conn.execute(
            update(t)
            .where(
                t.c.tenant_id == b.tenant_id, t.c.bill_run_id == b.bill_run_id, t.c.version == b.version - 1
            )
            .values(**values)
        )
        if result.rowcount != 1:
            raise ConcurrencyConflict([b.bill_run_id], f"bill run is not at version {b.version - 1}")


def get_invoice(conn: Connection, tenant_id: str, invoice_id: str) -> InvoiceRow | None:
    """One invoice row or None."""
    i = s.invoices
    row = conn.execute(select(i).where(i.c.tenant_id == tenant_id, i.c.invoice_id == invoice_id)).first()
    return to_invoice(row) if row else None


def list_invoices(
    conn: Connection, tenant_id: str, filters: dict[str, str | None], page_size: int, page_token: str
) -> Page[InvoiceRow]:
    """Invoices by (create_time, invoice_id), filtered on the non-empty column values given."""
    i = s.invoices
    query = select(i).where(i.c.tenant_id == tenant_id)
    for column, value in filters.items():
        if value:
            query = query.where(i.c[column] == value)
    return keyset_page(
        conn,
        query,
        [i.c.create_time, i.c.invoice_id],
        page_size,
        page_token,
        to_invoice,
        lambda r: (r.create_time, r.invoice_id),
    )


def get_bill_run(conn: Connection, tenant_id: str, bill_run_id: str) -> BillRunRow | None:
    """One bill run row or None."""
    b = s.bill_runs
    row = conn.execute(select(b).where(b.c.tenant_id == tenant_id, b.c.bill_run_id == bill_run_id)).first()
    return to_bill_run(row) if row else None


def list_bill_runs(conn: Connection, tenant_id: str, page_size: int, page_token: str) -> Page[BillRunRow]:
    """Bill runs newest first: (create_time, bill_run_id) descending."""
    b = s.bill_runs
    return keyset_page(
        conn,
        select(b).where(b.c.tenant_id == tenant_id),
        [b.c.create_time, b.c.bill_run_id],
        page_size,
        page_token,
        to_bill_run,
        lambda r: (r.create_time, r.bill_run_id),
        descending=True,
    )


def billable_engagements(
    conn: Connection, tenant_id: str, customer_ids: Sequence[str], currency: str | None
) -> list[str]:
    """Ids of ACTIVE / COMPLETED engagements (optionally of these customers, in this currency)."""
    e = s.engagements
    query = select(e.c.engagement_id).where(e.c.tenant_id == tenant_id, e.c.state.in_(BILLABLE_STATES))
    if customer_ids:
        query = query.where(e.c.customer_id.in_(set(customer_ids)))
    if currency:
        query = query.where(e.c.currency == currency)
    return list(conn.execute(query.order_by(e.c.engagement_id)).scalars())
