"""The bill-run sweeper: every gateway looks for runs whose coordinator is gone and resumes them.

A run is abandoned when it is unfinished and its lease expired or was released, or when it was
never leased and is older than one lease (its gateway died between recording and launching it).
The sweeper takes the lease (of gateways sweeping at once, one wins) and launches a coordinator
again. Resuming is idempotent: GenerateInvoice request ids are scoped to (run, engagement), so
the new coordinator's commands replay what the lost one billed, and it recounts every outcome.
After `max_resumes` resumes, the next lost coordinator fails the run with the count.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from q2c_core.app.billing.control import BillRunControl
from q2c_core.app.billing.lease import LeaseSettings, RunLease, coordinator_id
from q2c_core.app.billing.runs import BillRun
from q2c_core.app.clock import utc_now
from q2c_core.app.ports import Store
from q2c_core.app.records import BillRunLease

log = logging.getLogger(__name__)

Launch = Callable[[BillRun, RunLease], Awaitable[None]]
"""Start a coordinator for the run that holds (renews, releases) the lease it is given."""


@dataclass(slots=True)
class Sweep:
    """What one sweep did: the runs it resumed and the runs it failed."""

    resumed: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def lost_message(lost: int, max_resumes: int) -> str:
    """The failure message of a run whose coordinators were lost too often."""
    return (
        f"bill run coordinator lost {lost} times; not resumed after {max_resumes} resumes; "
        "start a new run for the period to bill the rest"
    )


class BillRunSweeper:
    """Finds abandoned runs and resumes them (or fails them); at start and every interval."""

    def __init__(
        self,
        store: Store,
        launch: Launch,
        settings: LeaseSettings,
        deployment: str,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._store = store
        self._launch = launch
        self.settings = settings
        self._deployment = deployment
        self._clock = clock
        self._control = BillRunControl(store, clock)
        self._wake: asyncio.Event | None = None
        self.resumed_total = 0  # runs this gateway resumed (a counter for metrics)
        self.failed_total = 0  # runs this gateway failed after too many lost coordinators

    def new_lease(self, tenant_id: str, bill_run_id: str) -> RunLease:
        """A lease handle for a new coordinator of the run (a fresh owner id)."""
        owner = coordinator_id(self._deployment)
        return RunLease(self._store, tenant_id, bill_run_id, owner, self.settings.seconds, self._clock)

    async def sweep(self) -> Sweep:
        """One pass: take over every abandoned run found now."""
        now = self._clock()
        unleased_before = now - timedelta(seconds=self.settings.seconds)
        found = await asyncio.to_thread(self._store.list_abandoned_bill_runs, now, unleased_before)
        done = Sweep()
        for lapsed in found:
            try:
                await self._take_over(lapsed, done)
            except Exception:  # one run that cannot be taken over must not hold up the others
                log.exception("bill run %s: not taken over; the next sweep tries again", lapsed.bill_run_id)
        return done

    async def _take_over(self, lapsed: BillRunLease, done: Sweep) -> None:
        lease = self.new_lease(lapsed.tenant_id, lapsed.bill_run_id)
        taken = await asyncio.to_thread(lease.take)
        if taken is None:  # another gateway took it first, or it finished meanwhile
            return
        lost, run_id = taken.launches - 1, lapsed.bill_run_id  # coordinators that ended unfinished
        if lost > self.settings.max_resumes:
            message = lost_message(lost, self.settings.max_resumes)
            await asyncio.to_thread(self._control.fail, lapsed.tenant_id, run_id, message)
            await asyncio.to_thread(lease.release)
            log.error("bill run %s (tenant %s) failed: %s", run_id, lapsed.tenant_id, message)
            self.failed_total += 1
            done.failed.append(run_id)
            return
        try:
            run, _ = await asyncio.to_thread(self._control.load, lapsed.tenant_id, run_id)
        except Exception:  # unreadable now: give the lease back for the next sweep
            await asyncio.to_thread(lease.release)
            raise
        log.warning(
            "bill run %s (tenant %s): no live coordinator (%d lost); resuming it as %s",
            run_id,
            lapsed.tenant_id,
            lost,
            lease.owner,
        )
        try:
            await self._launch(run, lease)
        except Exception:  # the next sweep tries again
            log.exception("bill run %s: resuming failed", run_id)
            await asyncio.to_thread(lease.release)
            return
        self.resumed_total += 1
        done.resumed.append(run_id)

    def wake(self) -> None:
        """Sweep now (a coordinator was seen to die), not at the next interval."""
        if self._wake is not None:
            self._wake.set()

    async def run_forever(self) -> None:
        """Sweep at once, then every `sweep_seconds` or when woken; ends when cancelled."""
        self._wake = asyncio.Event()
        while True:
            self._wake.clear()
            try:
                await self.sweep()
            except Exception:  # a store outage must not end the sweeper
                log.exception("bill-run sweep failed; trying again in %.0fs", self.settings.sweep_seconds)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.settings.sweep_seconds)
