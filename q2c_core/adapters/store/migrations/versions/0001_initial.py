"""Initial schema: journal, audit chain, idempotency and read models.

Revision ID: 0001
Revises:
Create Date: 2026-01-01 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _s(name: str, nullable: bool = False) -> sa.Column[str]:
    """A string column."""
    return sa.Column(name, sa.String(), nullable=nullable)


def _i(name: str) -> sa.Column[int]:
    """A non-null integer column."""
    return sa.Column(name, sa.Integer(), nullable=False)


def _j(name: str) -> sa.Column[object]:
    """A non-null JSON column."""
    return sa.Column(name, sa.JSON(), nullable=False)


def _t(name: str, nullable: bool = False) -> sa.Column[object]:
    """A timezone-aware timestamp column."""
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    """Create every table and index."""
    op.create_table(
        "events",
        sa.Column("position", BIG_ID, autoincrement=True, nullable=False),
        _s("tenant_id"),
        _s("stream_id"),
        _i("seq"),
        _s("event_id"),
        _s("event_type"),
        _j("payload"),
        _s("principal"),
        _s("correlation_id"),
        _s("request_id", True),
        _t("occurred_at"),
        sa.PrimaryKeyConstraint("position", name="pk_events"),
        sa.UniqueConstraint("tenant_id", "stream_id", "seq", name="uq_events_tenant_id_stream_id_seq"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_events_tenant_id_position", "events", ["tenant_id", "position"])
    op.create_table(
        "audit_records",
        sa.Column("record_id", BIG_ID, autoincrement=True, nullable=False),
        _s("tenant_id"),
        _s("stream_id"),
        _i("seq"),
        _s("principal"),
        _s("command_type"),
        _s("request_id", True),
        _s("correlation_id"),
        _s("payload_digest"),
        _s("outcome"),
        _s("rejection_reason", True),
        _s("comment", True),
        _j("event_ids"),
        _t("recorded_at"),
        _s("prev_hash"),
        _s("hash"),
        sa.PrimaryKeyConstraint("record_id", name="pk_audit_records"),
        sa.UniqueConstraint("tenant_id", "stream_id", "seq", name="uq_audit_records_tenant_id_stream_id_seq"),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "idempotency",
        _s("tenant_id"),
        _s("request_id"),
        _s("stream_id"),
        _s("command_type"),
        _s("payload_digest"),
        _j("response"),
        _t("created_at"),
        sa.PrimaryKeyConstraint("tenant_id", "request_id", name="pk_idempotency"),
    )
    op.create_table(
        "engagements",
        _s("tenant_id"),
        _s("engagement_id"),
        _s("customer_id"),
        _s("display_name"),
        _s("state"),
        _i("version"),
        _j("snapshot"),
        _t("create_time"),
        _t("update_time"),
        sa.PrimaryKeyConstraint("tenant_id", "engagement_id", name="pk_engagements"),
    )
    op.create_index("ix_engagements_tenant_id_state", "engagements", ["tenant_id", "state"])
    op.create_index("ix_engagements_tenant_id_customer_id", "engagements", ["tenant_id", "customer_id"])
    op.create_index(
        "ix_engagements_tenant_id_create_time_engagement_id",
        "engagements",
        ["tenant_id", "create_time", "engagement_id"],
    )
    op.create_table(
        "exceptions",
        _s("tenant_id"),
        _s("exception_id"),
        _s("engagement_id"),
        _s("customer_id"),
        _s("step"),
        _s("check_name"),
        _s("severity"),
        _s("state"),
        _j("data"),
        _t("raise_time"),
        _t("resolve_time", True),
        sa.PrimaryKeyConstraint("tenant_id", "exception_id", name="pk_exceptions"),
    )
    op.create_index(
        "ix_exceptions_tenant_id_state_severity", "exceptions", ["tenant_id", "state", "severity"]
    )
    op.create_index("ix_exceptions_tenant_id_engagement_id", "exceptions", ["tenant_id", "engagement_id"])
    op.create_table(
        "customers",
        _s("tenant_id"),
        _s("customer_id"),
        _s("display_name"),
        _s("status"),
        _i("version"),
        _j("data"),
        _t("create_time"),
        _t("update_time"),
        sa.PrimaryKeyConstraint("tenant_id", "customer_id", name="pk_customers"),
    )
    op.create_table(
        "rate_cards",
        _s("tenant_id"),
        _s("rate_card_id"),
        _i("revision"),
        _s("currency_code"),
        _j("data"),
        _t("create_time"),
        sa.PrimaryKeyConstraint("tenant_id", "rate_card_id", "revision", name="pk_rate_cards"),
    )


def downgrade() -> None:
    """Drop every table (indexes go with them)."""
    for table in (
        "rate_cards",
        "customers",
        "exceptions",
        "engagements",
        "idempotency",
        "audit_records",
        "events",
    ):
        op.drop_table(table)
