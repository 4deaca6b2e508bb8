"""The in-memory store's bill-run leases: the same promises as adapters/store/_leases.py."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import datetime

from q2c_core.app.records import BillRunLease, BillRunRow

UNFINISHED = ("PENDING", "RUNNING")
Key = tuple[str, str]


class MemoryLeases:
    """Bill-run lease methods over MemoryStore's dicts, under its one lock (a mixin)."""

    _lock: threading.Lock
    _bill_runs: dict[Key, BillRunRow]
    _leases: dict[Key, BillRunLease]

    def _lease_of(self, key: Key) -> BillRunLease | None:
        run = self._bill_runs.get(key)
        if run is None:
            return None
        return self._leases.get(key) or BillRunLease(
            tenant_id=key[0],
            bill_run_id=key[1],
            owner=None,
            lease_until=None,
            launches=0,
            create_time=run.create_time,
        )

    def get_bill_run_lease(self, tenant_id: str, bill_run_id: str) -> BillRunLease | None:
        """The run's lease (launches 0, no owner, when never taken); None for an unknown run."""
        with self._lock:
            return self._lease_of((tenant_id, bill_run_id))

    def take_bill_run_lease(
        self, tenant_id: str, bill_run_id: str, owner: str, now: datetime, until: datetime
    ) -> BillRunLease | None:
        """An unfinished run's free or expired lease to `owner` (launches + 1, version bumped)."""
        key = (tenant_id, bill_run_id)
        with self._lock:
            run, lease = self._bill_runs.get(key), self._lease_of(key)
            if run is None or lease is None or run.state not in UNFINISHED:
                return None
            if lease.owner is not None and lease.lease_until is not None and lease.lease_until > now:
                return None
            self._bill_runs[key] = replace(run, version=run.version + 1)
            taken = replace(lease, owner=owner, lease_until=until, launches=lease.launches + 1)
            self._leases[key] = taken
            return taken

    def renew_bill_run_lease(
        self, tenant_id: str, bill_run_id: str, owner: str, now: datetime, until: datetime
    ) -> bool:
        """Extend `owner`'s lease to `until`; False when `owner` no longer holds it."""
        key = (tenant_id, bill_run_id)
        with self._lock:
            lease = self._leases.get(key)
            if lease is None or lease.owner != owner:
                return False
            self._leases[key] = replace(lease, lease_until=until)
            return True

    def release_bill_run_lease(self, tenant_id: str, bill_run_id: str, owner: str, now: datetime) -> bool:
        """Free `owner`'s lease; False when not held."""
        key = (tenant_id, bill_run_id)
        with self._lock:
            lease = self._leases.get(key)
            if lease is None or lease.owner != owner:
                return False
            self._leases[key] = replace(lease, owner=None, lease_until=None)
            return True

    def list_abandoned_bill_runs(
        self, now: datetime, unleased_before: datetime, limit: int = 100
    ) -> list[BillRunLease]:
        """Unfinished runs whose lease expired or was released, or never leased and created
        before `unleased_before`; oldest first."""
        with self._lock:
            found = []
            for key, run in self._bill_runs.items():
                lease = self._leases.get(key)
                if run.state not in UNFINISHED:
                    continue
                if lease is None:
                    if run.create_time <= unleased_before:
                        found.append(self._lease_of(key))
                elif lease.owner is None or lease.lease_until is None or lease.lease_until <= now:
                    found.append(lease)
            ordered = sorted(
                (x for x in found if x), key=lambda x: (x.create_time, x.tenant_id, x.bill_run_id)
            )
            return ordered[:limit]
