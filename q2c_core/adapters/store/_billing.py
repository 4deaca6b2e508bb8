"""Invoices, bill runs and billable engagements: reads (their writes are in _write.py)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, select

from q2c_core.adapters.store import schema as s
from q2c_core.adapters.store._paging import keyset_page
from q2c_core.app.records import BillRunRow, InvoiceRow, Page

BILLABLE_STATES = ("ACTIVE", "COMPLETED")


def get_invoice(conn: Connection, tenant_id: str, invoice_id: str) -> InvoiceRow | None:
    """One invoice row or None."""
    i = s.invoices
    row = conn.execute(select(i).where(i.c.tenant_id == tenant_id, i.c.invoice_id == invoice_id)).first()
    return s.INVOICES.record(row) if row else None


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
        s.INVOICES.record,
        lambda r: (r.create_time, r.invoice_id),
    )


def get_bill_run(conn: Connection, tenant_id: str, bill_run_id: str) -> BillRunRow | None:
    """One bill run row or None."""
    b = s.bill_runs
    row = conn.execute(select(b).where(b.c.tenant_id == tenant_id, b.c.bill_run_id == bill_run_id)).first()
    return s.BILL_RUNS.record(row) if row else None


def list_bill_runs(conn: Connection, tenant_id: str, page_size: int, page_token: str) -> Page[BillRunRow]:
    """Bill runs newest first: (create_time, bill_run_id) descending."""
    b = s.bill_runs
    return keyset_page(
        conn,
        select(b).where(b.c.tenant_id == tenant_id),
        [b.c.create_time, b.c.bill_run_id],
        page_size,
        page_token,
        s.BILL_RUNS.record,
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
