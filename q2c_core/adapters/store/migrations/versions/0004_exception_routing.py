"""Business-exception routing: exceptions.owner_queue (indexed with tenant_id) and sla_due_time.

Existing rows are backfilled from their data JSON: the routing rules derive the owner queue
and SLA due time from check, step, severity and raise_time (q2c_core.domain.routing), and
the row's data gets the two fields too.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 00:00:00
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
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


def _backfill() -> None:
    """owner_queue, sla_due_time and data of rows written before this revision."""
    from q2c_core.adapters.store.schema import exceptions
    from q2c_core.domain.entities import BusinessException

    conn = op.get_bind()
    for rows in _unrouted(conn):
        for row in rows:
            tenant_id, exception_id, data = tuple(row)
            try:
                routed = BusinessException.model_validate(data)
            except ValueError:  # not a stored exception: leave it unrouted
                continue
            conn.execute(
                sa.update(exceptions)
                .where(exceptions.c.tenant_id == tenant_id, exceptions.c.exception_id == exception_id)
                .values(
                    owner_queue=routed.owner_queue.value,
                    sla_due_time=routed.sla_due_time,
                    data=routed.model_dump(mode="json"),
                )
            )


def downgrade() -> None:
    """Drop the index and the columns; data JSON (like events and snapshots) keeps the fields."""
    op.drop_index(INDEX, table_name="exceptions")
    with op.batch_alter_table("exceptions") as batch:
        batch.drop_column("sla_due_time")
        batch.drop_column("owner_queue")
