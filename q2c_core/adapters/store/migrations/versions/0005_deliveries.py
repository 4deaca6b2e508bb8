"""Outbound delivery: the outbox cursor, delivery items (pending, delivered, dead letters), attempts.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _s(name: str, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.String(), nullable=nullable)


def _t(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _i(name: str, nullable: bool = False) -> sa.Column[int]:
    return sa.Column(name, sa.Integer(), nullable=nullable)


def upgrade() -> None:
    """Create the three tables (when missing)."""
    tables = set(sa.inspect(op.get_bind()).get_table_names())
    if "delivery_cursors" not in tables:
        op.create_table(
            "delivery_cursors",
            _s("consumer"),
            sa.Column("position", sa.BigInteger(), nullable=False),
            _t("update_time"),
            sa.PrimaryKeyConstraint("consumer", name="pk_delivery_cursors"),
        )
    if "deliveries" not in tables:
        op.create_table(
            "deliveries",
            sa.Column("delivery_id", BigId, primary_key=True, autoincrement=True),
            *(_s(n) for n in ("tenant_id", "destination", "operation", "key", "engagement_id", "subject_id")),
            _s("invoice_id", True),
            sa.Column("source_position", sa.BigInteger(), nullable=False),
            _s("status"),
            _i("attempts"),
            _t("next_attempt_time"),
            _s("failure_kind", True),
            _s("last_error", True),
            _i("last_http_status", True),
            _s("last_payload", True),
            _s("document_number", True),
            _t("create_time"),
            _t("update_time"),
            _t("delivered_time", True),
            _t("dead_time", True),
            sa.UniqueConstraint(
                "tenant_id", "destination", "key", name="uq_deliveries_tenant_id_destination_key"
            ),
            sqlite_autoincrement=True,
        )
        op.create_index(
            "ix_deliveries_status_destination_next_attempt_time",
            "deliveries",
            ["status", "destination", "next_attempt_time"],
        )
        op.create_index(
            "ix_deliveries_destination_engagement_id_status",
            "deliveries",
            ["destination", "engagement_id", "status"],
        )
        op.create_index(
            "ix_deliveries_tenant_id_status_delivery_id", "deliveries", ["tenant_id", "status", "delivery_id"]
        )
    if "delivery_attempts" not in tables:
        op.create_table(
            "delivery_attempts",
            sa.Column("attempt_id", BigId, primary_key=True, autoincrement=True),
            sa.Column("delivery_id", sa.BigInteger(), nullable=False),
            _i("attempt"),
            _t("attempt_time"),
            _s("outcome"),
            _s("message"),
            _i("http_status", True),
            _s("payload", True),
            sqlite_autoincrement=True,
        )
        op.create_index(
            "ix_delivery_attempts_delivery_id_attempt_id", "delivery_attempts", ["delivery_id", "attempt_id"]
        )


def downgrade() -> None:
    """Drop the three tables."""
    for table in ("delivery_attempts", "deliveries", "delivery_cursors"):
        op.drop_table(table)
