"""Security events: every refused call (unauthenticated, missing scope, tenant mismatch).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _s(name: str, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.String(), nullable=nullable)


def upgrade() -> None:
    """Create security_events (when missing)."""
    if "security_events" in set(sa.inspect(op.get_bind()).get_table_names()):
        return
    op.create_table(
        "security_events",
        sa.Column("event_id", BigId, primary_key=True, autoincrement=True),
        *(_s(n) for n in ("tenant_id", "principal", "method", "code", "reason", "message", "peer")),
        _s("correlation_id"),
        sa.Column("suppressed_before", sa.Integer(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_security_events_tenant_id_event_id", "security_events", ["tenant_id", "event_id"])


def downgrade() -> None:
    """Drop security_events."""
    op.drop_table("security_events")
