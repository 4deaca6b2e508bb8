"""Bill-run leases: which coordinator holds an unfinished run, so any gateway can sweep lost ones.

Runs that were unfinished before this revision have no lease row; a sweeper treats them as
never taken and resumes them once they are older than one lease.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 18:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create bill_run_leases and index bill_runs by state (when missing)."""
    inspector = sa.inspect(op.get_bind())
    if "ix_bill_runs_state" not in {i["name"] for i in inspector.get_indexes("bill_runs")}:
        op.create_index("ix_bill_runs_state", "bill_runs", ["state"])
    if "bill_run_leases" in set(inspector.get_table_names()):
        return
    op.create_table(
        "bill_run_leases",
        sa.Column("tenant_id", sa.String(), nullable=False),
        sa.Column("bill_run_id", sa.String(), nullable=False),
        sa.Column("owner", sa.String(), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("launches", sa.Integer(), nullable=False),
        sa.Column("update_time", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "bill_run_id", name="pk_bill_run_leases"),
    )


def downgrade() -> None:
    """Drop bill_run_leases and the bill_runs state index."""
    op.drop_table("bill_run_leases")
    op.drop_index("ix_bill_runs_state", table_name="bill_runs")
