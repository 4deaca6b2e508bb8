"""Reference versions: a counter per tenant, moved by every write of its customers or rate cards.

A host keeps customers and rate cards cached across batches and commits a batch only if the
tenant's counter still has the value its decisions read them at. Tenants without a row are at 0.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 21:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create reference_versions (when missing)."""
    if "reference_versions" in set(sa.inspect(op.get_bind()).get_table_names()):
        return
    op.create_table(
        "reference_versions",
        sa.Column("tenant_id", sa.String(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", name="pk_reference_versions"),
    )


def downgrade() -> None:
    """Drop reference_versions."""
    op.drop_table("reference_versions")
