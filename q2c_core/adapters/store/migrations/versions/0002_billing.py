"""Billing read side: invoices, bill runs, and the engagements' contract currency.

Existing engagements are backfilled from their snapshots (currency, invoices).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 00:00:00
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INVOICE_INDEXES = (
    ("engagement_id",),
    ("customer_id",),
    ("state",),
    ("bill_run_id",),
    ("create_time", "invoice_id"),
)


def _s(name: str, nullable: bool = False) -> sa.Column[str]:
    """A string column."""
    return sa.Column(name, sa.String(), nullable=nullable)


def _t(name: str) -> sa.Column[object]:
    """A non-null timezone-aware timestamp column."""
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False)


def upgrade() -> None:
    """Create the tables (when missing), add engagements.currency, backfill."""
    inspector = sa.inspect(op.get_bind())
    tables = set(inspector.get_table_names())
    if "currency" not in {c["name"] for c in inspector.get_columns("engagements")}:
        op.add_column("engagements", _s("currency", True))
    if "invoices" not in tables:
        _create_invoices()
    if "bill_runs" not in tables:
        _create_bill_runs()
    _backfill()


def _create_invoices() -> None:
    op.create_table(
        "invoices",
        *(_s(n) for n in ("tenant_id", "invoice_id", "engagement_id", "customer_id", "state")),
        *(_s(n) for n in ("period_key", "bill_run_id", "currency", "total")),
        sa.Column("data", sa.JSON(), nullable=False),
        _t("create_time"),
        _t("update_time"),
        sa.PrimaryKeyConstraint("tenant_id", "invoice_id", name="pk_invoices"),
    )
    for cols in INVOICE_INDEXES:
        op.create_index(f"ix_invoices_tenant_id_{'_'.join(cols)}", "invoices", ["tenant_id", *cols])


def _create_bill_runs() -> None:
    op.create_table(
        "bill_runs",
        *(_s(n) for n in ("tenant_id", "bill_run_id", "period_key", "state")),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        _t("create_time"),
        _t("update_time"),
        sa.PrimaryKeyConstraint("tenant_id", "bill_run_id", name="pk_bill_runs"),
    )
    op.create_index(
        "ix_bill_runs_tenant_id_create_time_bill_run_id",
        "bill_runs",
        ["tenant_id", "create_time", "bill_run_id"],
    )


def _snapshots(conn: sa.Connection, chunk: int = 500) -> Iterator[Sequence[sa.Row[Any]]]:
    """Engagements with a contract and no currency yet, in chunks."""
    e = sa.table("engagements", *(sa.column(n) for n in ("tenant_id", "engagement_id", "currency")))
    snap = sa.column("snapshot", sa.JSON())
    last = ("", "")
    while True:
        rows = conn.execute(
            sa.select(e.c.tenant_id, e.c.engagement_id, snap)
            .select_from(e)
            .where(e.c.currency.is_(None), sa.tuple_(e.c.tenant_id, e.c.engagement_id) > last)
            .order_by(e.c.tenant_id, e.c.engagement_id)
            .limit(chunk)
        ).all()
        if not rows:
            return
        last = (rows[-1][0], rows[-1][1])
        yield rows


def _backfill() -> None:
    """Currency and invoice rows of engagements written before this revision."""
    conn = op.get_bind()
    for rows in _snapshots(conn):
        for row in rows:
            tenant_id, engagement_id, snapshot = tuple(row)
            contract = snapshot.get("contract") if isinstance(snapshot, dict) else None
            if contract:
                conn.execute(
                    sa.text(
                        "UPDATE engagements SET currency = :c WHERE tenant_id = :t AND engagement_id = :e"
                    ),
                    {"c": contract["currency"], "t": tenant_id, "e": engagement_id},
                )
            for invoice in (snapshot.get("invoices") or {}).values() if isinstance(snapshot, dict) else ():
                _insert_invoice(conn, tenant_id, invoice)


_INVOICES = sa.table(
    "invoices",
    *(
        sa.column(name)
        for name in (
            "tenant_id",
            "invoice_id",
            "engagement_id",
            "customer_id",
            "state",
            "period_key",
            "bill_run_id",
            "currency",
            "total",
            "create_time",
            "update_time",
        )
    ),
    sa.column("data", sa.JSON()),
)
"""The invoices table as this revision creates it (a frozen copy: the live schema may move on)."""


def _insert_invoice(conn: sa.Connection, tenant_id: str, invoice: dict[str, Any]) -> None:
    invoices = _INVOICES
    exists = conn.execute(
        sa.select(sa.func.count())
        .select_from(invoices)
        .where(invoices.c.tenant_id == tenant_id, invoices.c.invoice_id == invoice["invoice_id"])
    ).scalar()
    if exists:
        return
    period = invoice["period"]
    conn.execute(
        sa.insert(invoices),
        {
            "tenant_id": tenant_id,
            "invoice_id": invoice["invoice_id"],
            "engagement_id": invoice["engagement_id"],
            "customer_id": invoice["customer_id"],
            "state": invoice["state"],
            "period_key": _period_key(period["start"], period["end"]),
            "bill_run_id": invoice.get("bill_run_id", ""),
            "currency": invoice["currency"],
            "total": str(invoice["total"]["amount"]),
            "data": invoice,
            "create_time": _ts(invoice["create_time"]),
            "update_time": _ts(invoice.get("update_time") or invoice["create_time"]),
        },
    )


def _ts(text: str) -> Any:
    from datetime import datetime

    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _period_key(start: str, end: str) -> str:
    """A period's key as the domain defined it at this revision (a frozen copy): "2026-01" for a
    whole calendar month, else "2026-01-01..2026-01-15"."""
    from calendar import monthrange
    from datetime import date

    first, last = date.fromisoformat(start), date.fromisoformat(end)
    whole_month = first.day == 1 and last == first.replace(day=monthrange(first.year, first.month)[1])
    return first.strftime("%Y-%m") if whole_month else f"{first.isoformat()}..{last.isoformat()}"


def downgrade() -> None:
    """Drop the billing tables and the currency column."""
    op.drop_table("bill_runs")
    op.drop_table("invoices")
    with op.batch_alter_table("engagements") as batch:
        batch.drop_column("currency")
