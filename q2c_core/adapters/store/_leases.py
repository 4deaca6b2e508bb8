"""Bill-run leases: take (compare-and-set), renew, release, and the search for abandoned runs.

A take locks the run's row first, by bumping its version: two takers are serialized on that row
(PostgreSQL row lock; SQLite's BEGIN IMMEDIATE serializes every writer anyway), and a
coordinator that lost its lease finds its next progress save refused (ConcurrencyConflict).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, Row, and_, insert, or_, select, update

from q2c_core.adapters.store import schema as s
from q2c_core.adapters.store._guard import guard
from q2c_core.adapters.store.database import READ_ONLY
from q2c_core.adapters.store.schema import utc
from q2c_core.app.records import BillRunLease

UNFINISHED = ("PENDING", "RUNNING")
_b, _l = s.bill_runs, s.bill_run_leases
_JOINED = _b.outerjoin(_l, and_(_l.c.tenant_id == _b.c.tenant_id, _l.c.bill_run_id == _b.c.bill_run_id))
_COLUMNS = (_b.c.tenant_id, _b.c.bill_run_id, _b.c.create_time, _l.c.owner, _l.c.lease_until, _l.c.launches)


class LeaseTaken(Exception):
    """The run is finished, unknown, or its lease is held: the take's transaction rolls back."""


def _lease(row: Row[Any, Any, Any, Any, Any, Any]) -> BillRunLease:
    return BillRunLease(
        tenant_id=row.tenant_id,
        bill_run_id=row.bill_run_id,
        owner=row.owner,
        lease_until=utc(row.lease_until),
        launches=row.launches or 0,
        create_time=utc(row.create_time),
    )


def _key(tenant_id: str, bill_run_id: str) -> tuple[Any, Any]:
    return _l.c.tenant_id == tenant_id, _l.c.bill_run_id == bill_run_id


def get(conn: Connection, tenant_id: str, bill_run_id: str) -> BillRunLease | None:
    """The run's lease (launches 0, no owner, when never taken); None for an unknown run."""
    query = select(*_COLUMNS).select_from(_JOINED)
    row = conn.execute(query.where(_b.c.tenant_id == tenant_id, _b.c.bill_run_id == bill_run_id)).first()
    return _lease(row) if row else None


def take(
    conn: Connection, tenant_id: str, bill_run_id: str, owner: str, now: datetime, until: datetime
) -> None:
    """Make `owner` the holder of an unfinished run's free or expired lease; LeaseTaken if not."""
    now, until = utc(now), utc(until)
    run = (_b.c.tenant_id == tenant_id, _b.c.bill_run_id == bill_run_id, _b.c.state.in_(UNFINISHED))
    if conn.execute(update(_b).where(*run).values(version=_b.c.version + 1)).rowcount != 1:
        raise LeaseTaken(bill_run_id)
    held = conn.execute(select(_l.c.owner, _l.c.lease_until).where(*_key(tenant_id, bill_run_id))).first()
    values = {"owner": owner, "lease_until": until, "update_time": now}
    if held is None:
        conn.execute(insert(_l).values(tenant_id=tenant_id, bill_run_id=bill_run_id, launches=1, **values))
        return
    if held.owner is not None and held.lease_until is not None and utc(held.lease_until) > now:
        raise LeaseTaken(bill_run_id)
    conn.execute(update(_l).where(*_key(tenant_id, bill_run_id)).values(launches=_l.c.launches + 1, **values))


def renew(
    conn: Connection, tenant_id: str, bill_run_id: str, owner: str, now: datetime, until: datetime
) -> bool:
    """Extend `owner`'s lease to `until`; False when `owner` no longer holds it."""
    held = (*_key(tenant_id, bill_run_id), _l.c.owner == owner)
    values = {"lease_until": utc(until), "update_time": utc(now)}
    return conn.execute(update(_l).where(*held).values(**values)).rowcount == 1


def release(conn: Connection, tenant_id: str, bill_run_id: str, owner: str, now: datetime) -> bool:
    """Free `owner`'s lease (an unfinished run is then sweepable at once); False if not held."""
    held = (*_key(tenant_id, bill_run_id), _l.c.owner == owner)
    values = {"owner": None, "lease_until": None, "update_time": utc(now)}
    return conn.execute(update(_l).where(*held).values(**values)).rowcount == 1


def abandoned(conn: Connection, now: datetime, unleased_before: datetime, limit: int) -> list[BillRunLease]:
    """Unfinished runs of every tenant whose lease expired or was released, or that were never
    leased and were created before `unleased_before`; oldest first."""
    lapsed = or_(
        and_(_l.c.launches.is_(None), _b.c.create_time <= utc(unleased_before)),  # no lease row
        and_(_l.c.launches.is_not(None), or_(_l.c.owner.is_(None), _l.c.lease_until <= utc(now))),
    )
    query = select(*_COLUMNS).select_from(_JOINED).where(_b.c.state.in_(UNFINISHED), lapsed)
    rows = conn.execute(query.order_by(_b.c.create_time, _b.c.tenant_id, _b.c.bill_run_id).limit(limit))
    return [_lease(row) for row in rows]


class LeaseMethods:
    """The Store's bill-run lease methods (mixed into Store): each is one transaction."""

    engine: Engine

    def get_bill_run_lease(self, tenant_id: str, bill_run_id: str) -> BillRunLease | None:
        """The run's lease (launches 0, no owner, when never taken); None for an unknown run."""
        with guard(self.engine), self.engine.connect() as conn:
            conn.execution_options(**{READ_ONLY: True})
            with conn.begin():
                return get(conn, tenant_id, bill_run_id)

    def take_bill_run_lease(
        self, tenant_id: str, bill_run_id: str, owner: str, now: datetime, until: datetime
    ) -> BillRunLease | None:
        """Give an unfinished run's lease to `owner` until `until` when it is free (never taken,
        released) or expired at `now`: the lease as taken (launches counted, the run's version
        bumped), or None (finished, unknown, or held by another). Of racing takers one wins."""
        try:
            with guard(self.engine), self.engine.begin() as conn:
                take(conn, tenant_id, bill_run_id, owner, now, until)
                return get(conn, tenant_id, bill_run_id)
        except LeaseTaken:
            return None

    def renew_bill_run_lease(
        self, tenant_id: str, bill_run_id: str, owner: str, now: datetime, until: datetime
    ) -> bool:
        """Extend `owner`'s lease to `until`; False when `owner` no longer holds it."""
        with guard(self.engine), self.engine.begin() as conn:
            return renew(conn, tenant_id, bill_run_id, owner, now, until)

    def release_bill_run_lease(self, tenant_id: str, bill_run_id: str, owner: str, now: datetime) -> bool:
        """Free `owner`'s lease, so a sweeper may resume the run at once; False if not held."""
        with guard(self.engine), self.engine.begin() as conn:
            return release(conn, tenant_id, bill_run_id, owner, now)

    def list_abandoned_bill_runs(
        self, now: datetime, unleased_before: datetime, limit: int = 100
    ) -> list[BillRunLease]:
        """Unfinished runs (every tenant) whose lease expired or was released, or never leased
        and created before `unleased_before`; oldest first, at most `limit`."""
        with guard(self.engine), self.engine.connect() as conn:
            conn.execution_options(**{READ_ONLY: True})
            with conn.begin():
                return abandoned(conn, now, unleased_before, limit)
