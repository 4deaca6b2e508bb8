"""Business-exception routing: exceptions.owner_queue (indexed with tenant_id) and sla_due_time.

Existing rows are backfilled from their data JSON: the routing rules derive the owner queue
and SLA due time from check, step, severity and raise_time (as q2c_core.domain.routing had them), and
the row's data gets the two fields too. The rules are frozen copies in this file.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 00:00:00
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_exceptions_tenant_id_owner_queue"


def upgrade() -> None:
    """Add the columns and index (when missing), then backfill rows without a queue."""
    inspector = sa.inspect(op.get_bind())
    columns = {c["name"] for c in inspector.get_columns("exceptions")}
    if "owner_queue" not in columns:
        with op.batch_alter_table("exceptions") as batch:
            batch.add_column(sa.Column("owner_queue", sa.String(), nullable=False, server_default=""))
    if "sla_due_time" not in columns:
        with op.batch_alter_table("exceptions") as batch:
            batch.add_column(sa.Column("sla_due_time", sa.DateTime(timezone=True), nullable=True))
    if INDEX not in {i["name"] for i in sa.inspect(op.get_bind()).get_indexes("exceptions")}:
        op.create_index(INDEX, "exceptions", ["tenant_id", "owner_queue"])
    _backfill()


def _unrouted(conn: sa.Connection, chunk: int = 500) -> Iterator[Sequence[sa.Row[Any]]]:
    """Rows with no owner queue yet, in (tenant_id, exception_id) chunks."""
    x = sa.table("exceptions", *(sa.column(n) for n in ("tenant_id", "exception_id", "owner_queue")))
    data = sa.column("data", sa.JSON())
    last = ("", "")
    while True:
        rows = conn.execute(
            sa.select(x.c.tenant_id, x.c.exception_id, data)
            .select_from(x)
            .where(x.c.owner_queue == "", sa.tuple_(x.c.tenant_id, x.c.exception_id) > last)
            .order_by(x.c.tenant_id, x.c.exception_id)
            .limit(chunk)
        ).all()
        if not rows:
            return
        last = (rows[-1][0], rows[-1][1])
        yield rows


# The routing rules as they stood at this revision (frozen copies of q2c_core.domain.routing:
# a migration must not change when the domain does).
_SALES, _FINANCE, _DELIVERY = "SALES_OPS", "FINANCE_OPS", "DELIVERY_OPS"
_ROUTES = {
    **dict.fromkeys(("CUSTOMER_ACTIVE", "LEGAL_ENTITY_MAPPED", "SERVICE_LINE_SET"), _SALES),
    **dict.fromkeys(
        (
            "TAX_PROFILE_PRESENT",
            "PO_REFERENCE_FORMAT",
            "PO_REFERENCE_PRESENT",
            "RATE_CARD_CURRENCY",
            "RATE_CARD_EFFECTIVE",
            "CONTRACT_CURRENCY_MATCHES_CUSTOMER",
            "TM_CAP_SET",
            "NOT_TO_EXCEED_CAP",
            "MISSING_PO_REFERENCE",
            "MISSING_TAX_PROFILE",
            "UNPRICED_TIME",
        ),
        _FINANCE,
    ),
    **dict.fromkeys(("START_DATE_SET", "START_DATE_WITHIN_CONTRACT", "DELIVERY_READINESS"), _DELIVERY),
}
_STEP_DEFAULTS = {
    "CLOSE_WON": _SALES,
    "APPROVE_CONTRACT": _FINANCE,
    "ACTIVATE": _DELIVERY,
    "INVOICE": _FINANCE,
}
_SLA_BUSINESS_DAYS = {
    (_SALES, "BLOCKING"): 1,
    (_SALES, "REVIEW"): 3,
    (_FINANCE, "BLOCKING"): 1,
    (_FINANCE, "REVIEW"): 2,
    (_DELIVERY, "BLOCKING"): 1,
    (_DELIVERY, "REVIEW"): 3,
}


def _route(data: Any) -> tuple[str, datetime | None] | None:
    """(owner queue, SLA due time) of a stored exception; None when the data is not one."""
    if not isinstance(data, dict):
        return None
    check, step, severity, raised = (data.get(k) for k in ("check", "step", "severity", "raise_time"))
    if not isinstance(check, str) or step not in _STEP_DEFAULTS or not isinstance(raised, str):
        return None
    try:
        due = datetime.fromisoformat(raised.replace("Z", "+00:00"))
    except ValueError:
        return None
    queue = _ROUTES.get(check) or _STEP_DEFAULTS[step]
    days = _SLA_BUSINESS_DAYS.get((queue, str(severity)))
    if days is None:
        return queue, None
    due = due.astimezone(UTC) if due.tzinfo is not None else due.replace(tzinfo=UTC)
    while days > 0:
        due += timedelta(days=1)
        days -= 1 if due.weekday() < 5 else 0
    return queue, due


def _backfill() -> None:
    """owner_queue, sla_due_time and data of rows written before this revision."""
    x = sa.table(
        "exceptions",
        *(sa.column(n) for n in ("tenant_id", "exception_id", "owner_queue", "sla_due_time")),
        sa.column("data", sa.JSON()),
    )
    conn = op.get_bind()
    for rows in _unrouted(conn):
        for row in rows:
            tenant_id, exception_id, data = tuple(row)
            routed = _route(data)
            if routed is None:  # not a stored exception: leave it unrouted
                continue
            queue, due = routed
            conn.execute(
                sa.update(x)
                .where(x.c.tenant_id == tenant_id, x.c.exception_id == exception_id)
                .values(
                    owner_queue=queue,
                    sla_due_time=due,
                    data={**data, "owner_queue": queue, "sla_due_time": _json_time(due)},
                )
            )


def _json_time(value: datetime | None) -> str | None:
    """A due time as pydantic writes it in JSON ("2026-01-05T10:00:00Z")."""
    return None if value is None else value.isoformat().replace("+00:00", "Z")


def downgrade() -> None:
    """Drop the index and the columns; data JSON (like events and snapshots) keeps the fields."""
    op.drop_index(INDEX, table_name="exceptions")
    with op.batch_alter_table("exceptions") as batch:
        batch.drop_column("sla_due_time")
        batch.drop_column("owner_queue")
