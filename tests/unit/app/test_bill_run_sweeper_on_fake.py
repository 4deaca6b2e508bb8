"""The bill-run sweeper over the fake: resumes lost runs exactly, leaves live ones, gives up."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from q2c_core.app.billing.control import BillRunControl
from q2c_core.app.billing.lease import LeaseSettings, RunLease
from q2c_core.app.billing.runner import BillOutcome, BillRunCoordinator, Dispatch, outcomes
from q2c_core.app.billing.runs import BillRun, BillRunSpec, BillRunState
from q2c_core.app.billing.sweeper import BillRunSweeper
from q2c_core.app.clock import utc_now
from q2c_core.app.host import EngagementHost
from q2c_core.app.messages import CommandEnvelope
from q2c_core.app.reads import Queries
from q2c_core.app.records import BillRunRow
from tests.fakes.memory_store import MemoryStore
from tests.host.billing_setup import MARCH, Portfolio, build_portfolio
from tests.host.helpers import bill_run_reaching, caller, new_id

SPEC = BillRunSpec(period=MARCH)
PER_ENGAGEMENT = Decimal("131.19")  # 120.50 expense + 8.875% tax
LEASE = LeaseSettings(seconds=30, sweep_seconds=15, max_resumes=3)


class Clock:
    """A clock the test moves."""

    def __init__(self) -> None:
        self.now = utc_now()

    def __call__(self) -> datetime:
        return self.now


class Billing:
    """What Billing wires for bill runs, over the fake: a host, the run control, reads."""

    def __init__(self, store: MemoryStore) -> None:
        self.store = store
        self.host = EngagementHost(store)  # type: ignore[arg-type]
        self.bill_runs = BillRunControl(store)  # type: ignore[arg-type]
        self.queries = Queries(store)  # type: ignore[arg-type]
        self.tasks: dict[str, asyncio.Task[BillRun]] = {}

    async def dispatch(self, shard: int, envelopes: list[CommandEnvelope]) -> list[BillOutcome]:
        """A chunk through the host, as Billing sends it."""
        return outcomes(envelopes, await self.host.submit_many(envelopes))

    def coordinator(
        self, run: BillRun, lease: RunLease, dispatch: Dispatch | None = None
    ) -> BillRunCoordinator:
        """A coordinator of the run holding `lease`, 3 engagements a chunk."""
        return BillRunCoordinator(
            self.store,  # type: ignore[arg-type]
            run.tenant_id,
            run.bill_run_id,
            shards=1,
            shard_of=lambda _: 0,
            dispatch=dispatch or self.dispatch,
            chunk_size=3,
            lease=lease,
        )

    async def launch(self, run: BillRun, lease: RunLease) -> None:
        """Start a coordinator task (the sweeper's launch)."""
        self.tasks[run.bill_run_id] = asyncio.create_task(self.coordinator(run, lease).run())


@pytest.fixture
async def runtime(store: MemoryStore) -> AsyncIterator[Billing]:
    """Bill runs over the fake, the host closed after the test."""
    billing = Billing(store)
    yield billing
    await billing.host.close()


@pytest.fixture
async def portfolio(runtime: Billing, store: MemoryStore, tenant_id: str) -> Portfolio:
    """16 active engagements: 10 billable, 2 with nothing to bill, 2 missing a PO, 2 invoiced."""
    return await build_portfolio(
        runtime.host.submit_many,
        store,
        tenant_id,
        billable=10,
        nothing=2,
        missing_po=2,
        invoiced=2,  # type: ignore[arg-type]
    )


def assert_exact(runtime: Billing, run: BillRun, p: Portfolio) -> None:
    """SUCCEEDED, each engagement invoiced once for March, counters and totals exact."""
    assert run.state is BillRunState.SUCCEEDED, run.failure_message
    assert run.engagements_total == run.engagements_processed == 16
    assert (run.invoices_created, run.engagements_already_invoiced) == (10, 2)
    assert (run.engagements_skipped, run.engagements_failed) == (4, 0)
    assert run.invoiced_totals == {"USD": PER_ENGAGEMENT * 10}
    items = runtime.queries.list_invoices(run.tenant_id, None, None, None, None, 500, "").items
    march = sorted(i.engagement_id for i in items if i.period == MARCH)
    assert march == sorted(p.billable + p.invoiced)  # nobody twice
    mine = [i for i in items if i.bill_run_id == run.bill_run_id]
    assert sum((i.total.amount for i in mine), Decimal(0)) == run.invoiced_totals["USD"]


async def test_a_run_whose_coordinator_lost_its_lease_is_resumed_once_and_counted_exactly(
    runtime: Billing, store: MemoryStore, portfolio: Portfolio, tenant_id: str
) -> None:
    clock, gate = Clock(), asyncio.Event()
    run, _ = runtime.bill_runs.start(caller(tenant_id), new_id("req"), SPEC)
    chunks = 0

    async def stalls_after_two_chunks(shard: int, envelopes: list[CommandEnvelope]) -> list[BillOutcome]:
        nonlocal chunks
        chunks += 1
        if chunks > 2:
            await gate.wait()  # the old coordinator hangs here (a paused or cut-off process)
        return await runtime.dispatch(shard, envelopes)

    old_lease = RunLease(store, tenant_id, run.bill_run_id, "gw-old", LEASE.seconds, clock)  # type: ignore[arg-type]
    assert old_lease.take() is not None
    old = runtime.coordinator(run, old_lease, stalls_after_two_chunks)
    old_task = asyncio.create_task(old.run())
    await bill_run_reaching(runtime.queries, run, 6, 10.0, poll=0.005)
    sweeper = BillRunSweeper(store, runtime.launch, LEASE, "test", clock)  # type: ignore[arg-type]
    assert (await sweeper.sweep()).resumed == []  # the lease is live
    clock.now += timedelta(seconds=LEASE.seconds + 1)
    shown: list[int] = []
    save = store.save_bill_run

    def recording(row: BillRunRow) -> None:
        save(row)
        shown.append(row.data["engagements_processed"])

    store.save_bill_run = recording  # type: ignore[method-assign]
    assert (await sweeper.sweep()).resumed == [run.bill_run_id]
    await runtime.tasks[run.bill_run_id]
    resumed = runtime.queries.get_bill_run(tenant_id, run.bill_run_id)
    assert_exact(runtime, resumed, portfolio)
    assert shown == sorted(shown) and shown[0] >= 6 and shown[-1] == 16  # the recount never showed less
    gate.set()  # the old coordinator wakes up: it lost the lease and must write nothing
    stale = await old_task
    assert old.lost and stale.state is BillRunState.SUCCEEDED
    assert runtime.queries.get_bill_run(tenant_id, run.bill_run_id) == resumed
    lease = store.get_bill_run_lease(tenant_id, run.bill_run_id)
    assert lease is not None and (lease.owner, lease.launches) == (None, 2)


async def test_live_and_young_unleased_runs_are_left_alone(
    runtime: Billing, store: MemoryStore, tenant_id: str
) -> None:
    clock, launched = Clock(), []

    async def launch(run: BillRun, lease: RunLease) -> None:
        launched.append(run.bill_run_id)

    live, _ = runtime.bill_runs.start(caller(tenant_id), new_id("req"), SPEC)
    young, _ = runtime.bill_runs.start(
        caller(tenant_id), new_id("req"), BillRunSpec(period=MARCH, currency="EUR")
    )
    now = clock.now
    assert store.take_bill_run_lease(tenant_id, live.bill_run_id, "gw-live", now, now + timedelta(minutes=5))
    sweeper = BillRunSweeper(store, launch, LEASE, "test", clock)  # type: ignore[arg-type]
    assert (await sweeper.sweep()).resumed == [] and launched == []
    clock.now += timedelta(seconds=LEASE.seconds + 1)  # now the unleased run is old: its gateway died
    assert (await sweeper.sweep()).resumed == [young.bill_run_id] == launched
    held = store.get_bill_run_lease(tenant_id, young.bill_run_id)
    assert held is not None and held.launches == 1 and held.owner is not None


async def test_a_run_lost_more_often_than_max_resumes_fails_naming_the_count(
    runtime: Billing, store: MemoryStore, tenant_id: str
) -> None:
    clock, launched = Clock(), []

    async def launch(run: BillRun, lease: RunLease) -> None:
        launched.append(run.bill_run_id)

    run, _ = runtime.bill_runs.start(caller(tenant_id), new_id("req"), SPEC)
    sweeper = BillRunSweeper(store, launch, LEASE, "test", clock)  # type: ignore[arg-type]
    for coordinator in range(LEASE.max_resumes + 1):  # the first one, then three resumed ones: all lost
        lease = store.take_bill_run_lease(
            tenant_id, run.bill_run_id, f"gw-{coordinator}", clock.now, clock.now
        )
        assert lease is not None and lease.launches == coordinator + 1
    swept = await sweeper.sweep()
    assert (swept.resumed, swept.failed, launched) == ([], [run.bill_run_id], [])
    failed = runtime.queries.get_bill_run(tenant_id, run.bill_run_id)
    assert failed.state is BillRunState.FAILED and failed.finish_time is not None
    assert failed.failure_message.startswith("bill run coordinator lost 4 times; not resumed after 3 resumes")
    assert (await sweeper.sweep()).failed == []  # finished: nothing left to sweep


async def test_of_two_gateways_sweeping_at_once_one_resumes_the_run(
    runtime: Billing, store: MemoryStore, tenant_id: str
) -> None:
    clock, launched = Clock(), []

    async def launch(run: BillRun, lease: RunLease) -> None:
        launched.append(lease.owner)

    run, _ = runtime.bill_runs.start(caller(tenant_id), new_id("req"), SPEC)
    assert store.take_bill_run_lease(tenant_id, run.bill_run_id, "gw-dead", clock.now, clock.now)
    gateways = [BillRunSweeper(store, launch, LEASE, f"gw{i}", clock) for i in range(2)]  # type: ignore[arg-type]
    sweeps = await asyncio.gather(*(g.sweep() for g in gateways))
    assert sorted(len(s.resumed) for s in sweeps) == [0, 1] and len(launched) == 1
    held = store.get_bill_run_lease(tenant_id, run.bill_run_id)
    assert held is not None and held.owner == launched[0] and held.launches == 2


async def test_a_run_that_cannot_be_taken_over_does_not_stop_the_sweep_of_the_others(
    runtime: Billing, store: MemoryStore, tenant_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock, launched = Clock(), []

    async def launch(run: BillRun, lease: RunLease) -> None:
        launched.append(run.bill_run_id)

    broken, _ = runtime.bill_runs.start(caller(tenant_id), new_id("req"), SPEC)
    fine, _ = runtime.bill_runs.start(
        caller(tenant_id), new_id("req"), BillRunSpec(period=MARCH, currency="EUR")
    )
    for run in (broken, fine):
        assert store.take_bill_run_lease(tenant_id, run.bill_run_id, "gw-dead", clock.now, clock.now)
    sweeper = BillRunSweeper(store, launch, LEASE, "test", clock)  # type: ignore[arg-type]
    load = sweeper._control.load

    def unreadable(tenant: str, bill_run_id: str) -> tuple[BillRun, int]:
        if bill_run_id == broken.bill_run_id:
            raise ValueError("the stored run does not validate")
        return load(tenant, bill_run_id)

    monkeypatch.setattr(sweeper._control, "load", unreadable)
    swept = await sweeper.sweep()
    assert (swept.resumed, launched) == ([fine.bill_run_id], [fine.bill_run_id])
    lease = store.get_bill_run_lease(tenant_id, broken.bill_run_id)
    assert lease is not None and lease.owner is None  # given back: the next sweep tries it again
