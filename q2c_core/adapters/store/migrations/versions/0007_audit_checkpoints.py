"""Audit anchoring: chain version 2 columns on audit_records and signed audit_checkpoints.

Existing audit records keep chain_version 1 (their hash does not cover events) and stay
verifiable as they were written; records written from now on are version 2.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _add_chain_columns() -> None:
    columns = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("audit_records")}
    if "chain_version" in columns:
        return
    with op.batch_alter_table("audit_records") as batch:
        batch.add_column(sa.Column("events_digest", sa.String(), nullable=True))
        batch.add_column(sa.Column("chain_version", sa.Integer(), nullable=False, server_default="1"))


def upgrade() -> None:
    """Add audit_records.events_digest / chain_version and create audit_checkpoints (when missing)."""
    _add_chain_columns()
    if "audit_checkpoints" in set(sa.inspect(op.get_bind()).get_table_names()):
        return
    op.create_table(
        "audit_checkpoints",
        sa.Column("tenant_id", sa.String(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("heads", sa.JSON(), nullable=False),
        sa.Column("root", sa.String(), nullable=False),
        sa.Column("key_id", sa.String(), nullable=False),
        sa.Column("signature", sa.String(), nullable=False),
        sa.Column("format", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("tenant_id", "sequence", name="pk_audit_checkpoints"),
        sa.UniqueConstraint("tenant_id", "request_id", name="uq_audit_checkpoints_tenant_id_request_id"),
    )


def downgrade() -> None:
    """Drop audit_checkpoints and the chain version 2 columns (version 2 records then fail)."""
    op.drop_table("audit_checkpoints")
    with op.batch_alter_table("audit_records") as batch:
        batch.drop_column("chain_version")
        batch.drop_column("events_digest")
