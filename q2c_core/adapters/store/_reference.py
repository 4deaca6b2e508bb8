"""Reference versions: one counter per tenant, moved in the transaction of every write of its
customers or rate cards, so that a host can keep them cached across batches and commit a batch
only if the counter still has the value its decisions read them at (`WriteBatch.reference_guards`).

Why this is enough: a catalog write acknowledged to a client has committed its new counter, so
a command sent after that acknowledgement is committed in a transaction that starts later and
sees the new counter; a batch decided on data cached at the old one is refused
(ReferenceDataChanged) and decided again. The check is a plain read inside the write
transaction (no lock): a catalog write committing after it is concurrent with the batch's
commands, and either order is a valid one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sqlalchemy import Connection

from q2c_core.adapters.store import _driver as driver
from q2c_core.app.store_errors import ReferenceDataChanged

_SELECT = "SELECT tenant_id, version FROM reference_versions WHERE tenant_id"
_BUMP = (
    "INSERT INTO reference_versions (tenant_id, version) VALUES ({mark}, 1) "
    "ON CONFLICT (tenant_id) DO UPDATE SET version = reference_versions.version + 1"
)


def _mark(conn: Connection) -> str:
    """The driver's positional parameter marker."""
    return "?" if conn.dialect.paramstyle == "qmark" else "%s"


def read_versions(conn: Connection, tenant_ids: Iterable[str]) -> dict[str, int]:
    """The current reference version of each tenant (0 for one never written)."""
    wanted = sorted(set(tenant_ids))
    if not wanted:
        return {}
    if conn.dialect.name == "postgresql":
        rows = driver.execute(conn, f"{_SELECT} = ANY(%s)", (wanted,), fetch=True)
    else:
        marks = ", ".join("?" * len(wanted))
        rows = driver.execute(conn, f"{_SELECT} IN ({marks})", tuple(wanted), fetch=True)
    found = {str(tenant): int(version) for tenant, version in rows}
    return {tenant: found.get(tenant, 0) for tenant in wanted}


def check_versions(conn: Connection, guards: Mapping[str, int]) -> None:
    """Raise ReferenceDataChanged naming the tenants whose version is no longer the guarded one."""
    if not guards:
        return
    current = read_versions(conn, guards)
    changed = [tenant for tenant, version in sorted(guards.items()) if current[tenant] != version]
    if changed:
        raise ReferenceDataChanged(changed)


def bump_versions(conn: Connection, tenant_ids: Iterable[str]) -> None:
    """Move the tenants' reference versions on (in sorted order: a stable lock order)."""
    sql = _BUMP.format(mark=_mark(conn))
    for tenant in sorted(set(tenant_ids)):
        conn.exec_driver_sql(sql, (tenant,))  # rare: catalog writes only
