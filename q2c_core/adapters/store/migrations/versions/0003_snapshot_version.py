"""Engagement snapshots are written every few versions: record which version a snapshot holds.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add engagements.snapshot_version; existing snapshots are at their row's version."""
    columns = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("engagements")}
    if "snapshot_version" in columns:
        return
    with op.batch_alter_table("engagements") as batch:
        batch.add_column(sa.Column("snapshot_version", sa.Integer(), nullable=False, server_default="0"))
    op.execute("UPDATE engagements SET snapshot_version = version")


def downgrade() -> None:
    """Drop the column (snapshots are then assumed current, as before)."""
    with op.batch_alter_table("engagements") as batch:
        batch.drop_column("snapshot_version")
