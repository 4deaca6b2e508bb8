"""The two small reads ERP reconciliation needs beyond the read models: tenants with invoices,
and which of a set of engagement ids a tenant owns (to attribute ERP documents q2c does not
know). `Store.tenants_with_invoices` and `Store.owned_engagements` run them."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, select

from q2c_core.adapters.store import schema as s

CHUNK = 500
"""Ids per IN (...) list (well under SQLite's and PostgreSQL's parameter limits)."""


def tenants_with_invoices(conn: Connection) -> list[str]:
    """Every tenant that has at least one invoice, sorted."""
    query = select(s.invoices.c.tenant_id).distinct().order_by(s.invoices.c.tenant_id)
    return [str(tenant) for tenant in conn.scalars(query)]


def owned_engagements(conn: Connection, tenant_id: str, engagement_ids: Iterable[str]) -> set[str]:
    """The subset of `engagement_ids` that are engagements of `tenant_id`."""
    wanted = sorted({i for i in engagement_ids if i})
    owned: set[str] = set()
    e = s.engagements.c
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start : start + CHUNK]
        query = select(e.engagement_id).where(e.tenant_id == tenant_id, e.engagement_id.in_(chunk))
        owned.update(str(found) for found in conn.scalars(query))
    return owned
