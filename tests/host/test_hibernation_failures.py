"""Residency when things fail: what a host holds afterwards is what the store committed, and a
failure after the commit never turns committed commands into refusals."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence

import pytest

from q2c_core.adapters.store import ConcurrencyConflict, Store, StoreUnavailable, WriteBatch
from q2c_core.app import residency
from q2c_core.app.host import EngagementHost
from q2c_core.app.records import AuditRecord, StoredEvent
from q2c_core.domain.engagement import Engagement
from q2c_core.domain.entities import EngagementState
from q2c_core.domain.errors import ErrorKind
from tests.host.helpers import (
    activate,
    approve_contract,
    close_won,
    create,
    envelope,
    folded_journal,
    new_id,
    qualify,
)


class UnreadableJournal(Store):
    """A Store whose journal reads fail as unavailable while `down` is set."""

    down = False

    def read_events(self, tenant_id: str, stream_id: str, after_seq: int = 0) -> Sequence[StoredEvent]:
        if self.down:
            raise StoreUnavailable("connection reset")
        return super().read_events(tenant_id, stream_id, after_seq)


async def test_a_replay_that_cannot_read_its_journal_does_not_fail_what_its_batch_committed(
    store: Store, tenant_id: str, customer_id: str
) -> None:
    flaky = UnreadableJournal(store.engine)
    host = EngagementHost(flaky)
    try:
        eid, first = new_id("eng"), new_id("req")
        assert (await host.submit(envelope(tenant_id, eid, create(customer_id), first))).ok
        assert (await host.submit(envelope(tenant_id, eid, qualify()))).ok
        flaky.down = True  # the retry of the create replays at version 1: its journal is read

        retry, won = await host.submit_many(
            [envelope(tenant_id, eid, create(customer_id), first), envelope(tenant_id, eid, close_won())]
        )

        flaky.down = False
        assert [e.seq for e in store.read_events(tenant_id, eid)] == [1, 2, 3]  # the close-won committed
        assert won.ok and won.engagement is not None and won.engagement.state is EngagementState.WON
        assert retry.error is not None and retry.error.kind is ErrorKind.UNAVAILABLE
        again = await host.submit(envelope(tenant_id, eid, create(customer_id), first))
        assert again.replayed and again.engagement is not None and again.engagement.version == 1
        resident = host.residency.get((tenant_id, eid))
        assert resident == folded_journal(store, tenant_id, eid) and resident is not None
        assert resident.version == 3
    finally:
        await host.close()


async def test_engagements_loaded_but_not_kept_leave_no_snapshot_bookkeeping(
    host: EngagementHost, tenant_id: str, customer_id: str
) -> None:
    known = new_id("eng")
    assert (await host.submit(envelope(tenant_id, known, create(customer_id)))).ok
    host.evict_all()
    ids = [new_id("eng") for _ in range(3)]

    refused = await host.submit_many([envelope(tenant_id, eid, qualify()) for eid in ids])
    activated = await host.activate([(tenant_id, new_id("eng"))])
    out_of_order = await host.submit(envelope(tenant_id, known, close_won()))  # DRAFT: refused

    assert all(r.error is not None and r.error.kind is ErrorKind.NOT_FOUND for r in refused)
    assert activated == 0
    assert out_of_order.error is not None and not host.residency.holds((tenant_id, known))
    assert host.residency.snapshot_at == {}  # kept only for engagements held in memory
    qualified = await host.submit(envelope(tenant_id, known, qualify()))
    assert qualified.engagement is not None and qualified.engagement.version == 2
    assert host.residency.snapshot_at == {(tenant_id, known): 1}


async def test_a_state_that_does_not_freeze_is_dropped_and_its_batch_still_succeeds(
    store: Store, tenant_id: str, customer_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    host = EngagementHost(store, hibernate_seconds=0)

    def broken(state: Engagement) -> bytes:
        raise ValueError("cannot serialize")

    try:
        eid = new_id("eng")
        monkeypatch.setattr(residency, "freeze", broken)

        created = await host.submit(envelope(tenant_id, eid, create(customer_id)))

        assert created.ok and created.engagement is not None and created.engagement.version == 1
        assert not host.residency.holds((tenant_id, eid))
        assert (tenant_id, eid) not in host.residency.snapshot_at
        monkeypatch.undo()
        qualified = await host.submit(envelope(tenant_id, eid, qualify()))
        assert qualified.engagement == folded_journal(store, tenant_id, eid)
        assert qualified.engagement is not None and qualified.engagement.version == 2
    finally:
        await host.close()


async def test_a_job_whose_caller_gave_up_does_not_stop_the_worker(
    host: EngagementHost, tenant_id: str, customer_id: str
) -> None:
    started, release = threading.Event(), threading.Event()

    def slow_sweep() -> None:
        started.set()
        release.wait(10)

    job = asyncio.ensure_future(host.run_job(slow_sweep))
    assert await asyncio.to_thread(started.wait, 10)
    queued = asyncio.ensure_future(host.submit(envelope(tenant_id, new_id("eng"), create(customer_id))))
    deadline = asyncio.get_running_loop().time() + 10
    while host.metrics_snapshot()["mailbox"] == 0:  # the command waits behind the running job
        assert asyncio.get_running_loop().time() < deadline
        await asyncio.sleep(0)
    job.cancel()  # e.g. a Ray call to sweep() or activate() cancelled by its caller
    release.set()

    created = await asyncio.wait_for(queued, timeout=10)

    assert created.ok and created.engagement is not None and created.engagement.version == 1


class CountingConflicts(Store):
    """A Store that counts the ConcurrencyConflicts its commits raise."""

    conflicts = 0

    def commit(self, batch: WriteBatch) -> list[AuditRecord]:
        try:
            return super().commit(batch)
        except ConcurrencyConflict:
            self.conflicts += 1
            raise


async def test_a_hibernated_state_another_host_moved_on_is_caught_at_commit_and_reloaded(
    store: Store, tenant_id: str, customer_id: str
) -> None:
    counting = CountingConflicts(store.engine)
    mine, other = EngagementHost(counting, hibernate_seconds=0), EngagementHost(store)
    try:
        eid = new_id("eng")
        assert (await mine.submit(envelope(tenant_id, eid, create(customer_id)))).ok
        assert mine.residency.hibernating_count == 1  # at version 1
        assert (await other.submit(envelope(tenant_id, eid, qualify()))).ok  # version 2 elsewhere

        won = await mine.submit(envelope(tenant_id, eid, close_won()))  # thawed at 1: races

        assert counting.conflicts == 1 and mine.residency.thaws == 1
        assert won.engagement is not None and won.engagement.version == 3
        assert won.engagement.state is EngagementState.WON
        assert won.engagement == folded_journal(store, tenant_id, eid)
        row, _ = store.load_stream(tenant_id, eid)
        assert row is not None and mine.residency.snapshot_at[(tenant_id, eid)] == row.snapshot_at
    finally:
        await mine.close()
        await other.close()


class FailsAfterCommitting(Store):
    """A Store whose commits write, then raise an unexpected error, while `broken` is set."""

    broken = False

    def commit(self, batch: WriteBatch) -> list[AuditRecord]:
        records = super().commit(batch)
        if self.broken:
            raise RuntimeError("failed after the transaction committed")
        return records


async def test_a_state_left_stale_by_an_unexpected_failure_is_caught_by_the_version_guard(
    store: Store, tenant_id: str, customer_id: str
) -> None:
    breaking = FailsAfterCommitting(store.engine)
    host = EngagementHost(breaking)
    try:
        eid = new_id("eng")
        won = await host.submit_many(
            [envelope(tenant_id, eid, c) for c in (create(customer_id), qualify(), close_won())]
        )
        assert all(r.ok for r in won)
        breaking.broken = True
        failed = await host.submit(envelope(tenant_id, eid, approve_contract()))
        assert failed.error is not None and failed.error.kind is ErrorKind.INTERNAL
        breaking.broken = False
        assert len(store.read_events(tenant_id, eid)) == 4  # yet it committed: CONTRACTED

        held = host.residency.get((tenant_id, eid))
        assert held is not None and held.version == 3  # what the host still believes: stale
        activated = await host.submit(envelope(tenant_id, eid, activate()))

        assert activated.error is None, activated.error  # refused on WON, the guard conflicted
        assert activated.engagement == folded_journal(store, tenant_id, eid)
        assert activated.engagement is not None and activated.engagement.version == 5
    finally:
        await host.close()
