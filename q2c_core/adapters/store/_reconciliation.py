"""The two small reads ERP reconciliation needs beyond `Store`: tenants with invoices, and which
of a set of engagement ids a tenant owns (to attribute ERP documents q2c does not know)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Engine, select

from q2c_core.adapters.store import schema as s
from q2c_core.adapters.store._guard import guard
from q2c_core.adapters.store.database import READ_ONLY

CHUNK = 500
"""Ids per IN (...) list (well under SQLite's and PostgreSQL's parameter limits)."""


def tenants_with_invoices(engine: Engine) -> list[str]:
    """Every tenant that has at least one invoice, sorted."""
    query = select(s.invoices.c.tenant_id).distinct().order_by(s.invoices.c.tenant_id)
    with guard(engine), engine.connect() as conn:
        conn.execution_options(**{READ_ONLY: True})
        with conn.begin():
            return [str(tenant) for tenant in conn.scalars(query)]


def owned_engagements(engine: Engine, tenant_id: str, engagement_ids: Iterable[str]) -> set[str]:
    """The subset of `engagement_ids` that are engagements of `tenant_id`."""
    wanted = sorted({e for e in engagement_ids if e})
    owned: set[str] = set()
    if not wanted:
        return owned
    table = s.engagements.c
    with guard(engine), engine.connect() as conn:
        conn.execution_options(**{READ_ONLY: True})
        with conn.begin():
            for start in range(0, len(wanted), CHUNK):
                chunk = wanted[start : start + CHUNK]
                query = select(table.engagement_id).where(
                    table.tenant_id == tenant_id, table.engagement_id.in_(chunk)
                )
                owned.update(str(e) for e in conn.scalars(query))
    return owned
