"""Bill-run leases for coordinators: one coordinator per unfinished run, and proof it is alive.

A run's lease lives in the database (the store's bill-run lease methods). The gateway that
launches a coordinator takes the lease for it; the coordinator renews it every third of the
lease while it runs and releases it when it stops. A lease that expires or is released while
its run is unfinished marks the run abandoned: any gateway's sweeper (sweeper.py) takes it and
resumes the run. Taking a lease bumps the run's version, so a coordinator that lost its lease
finds its next save refused and stops without writing.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from q2c_core.app.clock import utc_now
from q2c_core.app.ports import Store
from q2c_core.app.records import BillRunLease
from q2c_core.app.store_errors import StoreError

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class LeaseSettings:
    """Lease length, how often gateways sweep for abandoned runs, and resumes allowed per run."""

    seconds: float = 30.0
    sweep_seconds: float = 15.0
    max_resumes: int = 3

    def __post_init__(self) -> None:
        if self.seconds <= 0 or self.sweep_seconds <= 0 or self.max_resumes < 0:
            raise ValueError("lease and sweep seconds must be positive, max_resumes at least 0")


def coordinator_id(deployment: str) -> str:
    """A new, unique coordinator (lease owner) id: deployment, host, process, random part."""
    return f"{deployment}:{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


class RunLease:
    """One coordinator's hold on one run's lease (synchronous store calls)."""

    def __init__(
        self,
        store: Store,
        tenant_id: str,
        bill_run_id: str,
        owner: str,
        seconds: float,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.store = store
        self.key = (tenant_id, bill_run_id)
        self.owner = owner
        self.seconds = seconds
        self._clock = clock

    def _until(self, now: datetime) -> datetime:
        return now + timedelta(seconds=self.seconds)

    def take(self) -> BillRunLease | None:
        """Take the run's lease if it is free or expired (None: finished, or held by another)."""
        now = self._clock()
        return self.store.take_bill_run_lease(*self.key, self.owner, now, self._until(now))

    def renew(self) -> bool:
        """Extend the lease by its length from now; False when another coordinator holds it."""
        now = self._clock()
        return self.store.renew_bill_run_lease(*self.key, self.owner, now, self._until(now))

    def release(self) -> bool:
        """Give the lease back (an unfinished run is then resumed by the next sweep)."""
        return self.store.release_bill_run_lease(*self.key, self.owner, self._clock())

    def holds(self) -> bool:
        """Whether this coordinator still holds the lease."""
        lease = self.store.get_bill_run_lease(*self.key)
        return lease is not None and lease.owner == self.owner

    async def keep(self, lost: Callable[[], None]) -> None:
        """Renew every third of the lease until cancelled; once another holds it, call `lost`."""
        while True:
            await asyncio.sleep(self.seconds / 3)  # a timer, not a synchronisation
            try:
                renewed = await asyncio.to_thread(self.renew)
            except StoreError as error:  # try again at the next tick; the lease may lapse meanwhile
                log.warning("bill run %s: lease not renewed: %s", self.key[1], error)
                continue
            except Exception:  # anything else as well: a dead keeper would let the lease lapse unseen
                log.exception("bill run %s: lease not renewed", self.key[1])
                continue
            if not renewed:
                log.warning("bill run %s: lease lost; coordinator %s stops", self.key[1], self.owner)
                lost()
                return
