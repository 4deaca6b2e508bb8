"""Review of bill-run leases over the fake: fencing on a crash, store blips, counters on resume."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from q2c_core.app.billing.control import BillRunControl
from q2c_core.app.billing.lease import RunLease
from q2c_core.app.billing.runner import COUNTERS, BillOutcome, BillRunCoordinator, Dispatch
from q2c_core.app.billing.runs import BillRun, BillRunState
from q2c_core.app.billing.sweeper import BillRunSweeper
from q2c_core.app.messages import CommandEnvelope
from q2c_core.app.records import BillRunRow
from q2c_core.app.store_errors import StoreError, StoreUnavailable
from tests.fakes.memory_store import MemoryStore
from tests.host.billing_setup import Portfolio, build_portfolio
from tests.host.helpers import bill_run_reaching, caller, new_id
from tests.unit.app.test_bill_run_sweeper_on_fake import (
    LEASE,
    SPEC,
    Billing,
    Clock,
    assert_exact,
)

LAPSE = timedelta(seconds=LEASE.seconds + 1)  # past a lease taken at the clock's start


@pytest.fixture
async def billing(store: MemoryStore) -> AsyncIterator[Billing]:
    """Bill runs over the fake, the host closed after the test."""
    b = Billing(store)
    yield b
    await b.host.close()


@pytest.fixture
async def portfolio(billing: Billing, store: MemoryStore, tenant_id: str) -> Portfolio:
    """16 active engagements: 10 billable, 2 with nothing to bill, 2 missing a PO, 2 invoiced."""
    return await build_portfolio(
        billing.host.submit_many,
        store,  # type: ignore[arg-type]
        tenant_id,
        billable=10,
        nothing=2,
        missing_po=2,
        invoiced=2,
    )


Gate = Callable[[], asyncio.Event]


@pytest.fixture
def gates() -> Iterator[Gate]:
    """Makes a test's gates, and opens them all when it ends: a failing test leaves no coordinator
    waiting on one (to hang the next test's teardown)."""
    made: list[asyncio.Event] = []

    def gate() -> asyncio.Event:
        made.append(asyncio.Event())
        return made[-1]

    yield gate
    for event in made:
        event.set()


async def until(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    """Poll `condition` until it holds, or fail at the deadline."""
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    while not condition():
        assert loop.time() < end, "condition not reached"
        await asyncio.sleep(0.005)


async def ended(task: asyncio.Task[BillRun], seconds: float = 10.0) -> BillRun:
    """The coordinator task's run, once it has ended (or fail at the deadline)."""
    return await asyncio.wait_for(task, seconds)


def gated(billing: Billing, free_chunks: int, gate: asyncio.Event) -> tuple[Dispatch, list[int]]:
    """A dispatch that sends `free_chunks` chunks, then waits for `gate` before each further one."""
    sent = [0]

    async def dispatch(shard: int, envelopes: list[CommandEnvelope]) -> list[BillOutcome]:
        sent[0] += 1
        if sent[0] > free_chunks:
            await gate.wait()  # a paused, cut-off or slow coordinator
        return await billing.dispatch(shard, envelopes)

    return dispatch, sent


async def test_a_lost_coordinator_that_crashes_does_not_fail_the_run_its_successor_runs(
    billing: Billing, store: MemoryStore, portfolio: Portfolio, tenant_id: str, gates: Gate
) -> None:
    clock, old_gate, new_gate = Clock(), gates(), gates()
    run, _ = billing.bill_runs.start(caller(tenant_id), new_id("req"), SPEC)
    old_dispatch, _ = gated(billing, 2, old_gate)
    new_dispatch, new_sent = gated(billing, 1, new_gate)
    old_lease = RunLease(store, tenant_id, run.bill_run_id, "gw-old", LEASE.seconds, clock)  # type: ignore[arg-type]
    assert old_lease.take() is not None
    old_task = asyncio.create_task(billing.coordinator(run, old_lease, old_dispatch).run())
    await bill_run_reaching(billing.queries, run, 6, 10.0, poll=0.005)
    clock.now += LAPSE
    tasks: list[asyncio.Task[BillRun]] = []

    async def launch(lapsed: BillRun, lease: RunLease) -> None:
        tasks.append(asyncio.create_task(billing.coordinator(lapsed, lease, new_dispatch).run()))

    sweeper = BillRunSweeper(store, launch, LEASE, "test", clock)  # type: ignore[arg-type]
    assert (await sweeper.sweep()).resumed == [run.bill_run_id]
    await until(lambda: new_sent[0] == 2)  # the successor is mid-run
    get, blips = store.get_bill_run, [StoreUnavailable("the database restarted")]

    def blipping(tenant: str, bill_run_id: str) -> Any:
        if blips:
            raise blips.pop()
        return get(tenant, bill_run_id)

    store.get_bill_run = blipping  # type: ignore[method-assign]
    old_gate.set()  # the lost coordinator wakes up: its save is refused, the re-read fails once
    await asyncio.wait_for(asyncio.gather(old_task, return_exceptions=True), 10)
    assert blips == []
    assert billing.queries.get_bill_run(tenant_id, run.bill_run_id).state is BillRunState.RUNNING
    new_gate.set()
    done = await ended(tasks[0])
    assert_exact(billing, done, portfolio)


async def test_a_store_blip_at_the_last_save_leaves_the_run_to_a_sweep_not_failed(
    billing: Billing, store: MemoryStore, portfolio: Portfolio, tenant_id: str
) -> None:
    clock = Clock()
    run, _ = billing.bill_runs.start(caller(tenant_id), new_id("req"), SPEC)
    lease = RunLease(store, tenant_id, run.bill_run_id, "gw-a", LEASE.seconds, clock)  # type: ignore[arg-type]
    assert lease.take() is not None
    save, blips = store.save_bill_run, [StoreUnavailable("the database restarted")]

    def blipping(row: BillRunRow) -> None:
        if row.state == "SUCCEEDED" and blips:
            raise blips.pop()
        save(row)

    store.save_bill_run = blipping  # type: ignore[method-assign]
    await asyncio.gather(billing.coordinator(run, lease).run(), return_exceptions=True)
    assert blips == []
    stopped = billing.queries.get_bill_run(tenant_id, run.bill_run_id)
    assert stopped.state is BillRunState.RUNNING, stopped.failure_message
    sweeper = BillRunSweeper(store, billing.launch, LEASE, "test", clock)  # type: ignore[arg-type]
    clock.now += LAPSE
    assert (await sweeper.sweep()).resumed == [run.bill_run_id]
    assert_exact(billing, await ended(billing.tasks[run.bill_run_id]), portfolio)


async def test_a_store_error_that_is_no_outage_at_the_last_save_fails_the_run_saying_so(
    billing: Billing, store: MemoryStore, portfolio: Portfolio, tenant_id: str
) -> None:
    run, _ = billing.bill_runs.start(caller(tenant_id), new_id("req"), SPEC)
    lease = RunLease(store, tenant_id, run.bill_run_id, "gw-a", LEASE.seconds)  # type: ignore[arg-type]
    assert lease.take() is not None
    save, errors = store.save_bill_run, [StoreError("value too long for type character varying")]

    def refusing(row: BillRunRow) -> None:
        if row.state == "SUCCEEDED" and errors:
            raise errors.pop()  # would be refused again on every resume
        save(row)

    store.save_bill_run = refusing  # type: ignore[method-assign]
    failed = await billing.coordinator(run, lease).run()
    assert errors == [] and failed.state is BillRunState.FAILED
    assert failed.failure_message == "the bill run crashed: value too long for type character varying"
    assert billing.queries.get_bill_run(tenant_id, run.bill_run_id) == failed
    held = store.get_bill_run_lease(tenant_id, run.bill_run_id)
    assert held is not None and held.owner is None


class TwoShards:
    """A run over two shards: the billable engagements on shard 0, the other six on shard 1.

    The first coordinator bills shard 0's first chunk and all of shard 1, then hangs (lost);
    the resumed one starts shard 0 once `shard_0` is set, shard 1 once `shard_1` is set.
    """

    def __init__(
        self, billing: Billing, store: MemoryStore, portfolio: Portfolio, run: BillRun, gates: Gate
    ) -> None:
        self.billing, self.store, self.run = billing, store, run
        self.on_shard_0 = sorted(portfolio.billable)
        self.old_gate, self.shard_0, self.shard_1 = gates(), gates(), gates()
        self.new_chunks_0 = 0
        self.tasks: list[asyncio.Task[BillRun]] = []

    def coordinator(self, lease: RunLease, dispatch: Dispatch) -> BillRunCoordinator:
        """A two-shard coordinator of the run, 3 engagements a chunk."""
        return BillRunCoordinator(
            self.store,  # type: ignore[arg-type]
            self.run.tenant_id,
            self.run.bill_run_id,
            shards=2,
            shard_of=lambda e: 0 if e in self.on_shard_0 else 1,
            dispatch=dispatch,
            chunk_size=3,
            lease=lease,
        )

    async def old_dispatch(self, shard: int, envelopes: list[CommandEnvelope]) -> list[BillOutcome]:
        """Shard 0 hangs after its first chunk; shard 1 goes through."""
        if shard == 0 and envelopes[0].engagement_id != self.on_shard_0[0]:
            await self.old_gate.wait()
        return await self.billing.dispatch(shard, envelopes)

    async def new_dispatch(self, shard: int, envelopes: list[CommandEnvelope]) -> list[BillOutcome]:
        """Shard 0 waits for `shard_0`, shard 1 for `shard_1`."""
        self.new_chunks_0 += shard == 0
        await (self.shard_1 if shard else self.shard_0).wait()
        return await self.billing.dispatch(shard, envelopes)

    async def lose_the_first(self, clock: Clock) -> asyncio.Task[BillRun]:
        """Start the first coordinator; wait until it has shown 9 processed and shard 1 done."""
        lease = RunLease(self.store, self.run.tenant_id, self.run.bill_run_id, "gw-old", LEASE.seconds, clock)  # type: ignore[arg-type]
        assert lease.take() is not None
        task = asyncio.create_task(self.coordinator(lease, self.old_dispatch).run())
        get = self.billing.queries.get_bill_run
        await until(lambda: get(self.run.tenant_id, self.run.bill_run_id).shards_done == 1)
        await bill_run_reaching(self.billing.queries, self.run, 9, 10.0, poll=0.005)
        return task

    async def resume(self, clock: Clock) -> asyncio.Task[BillRun]:
        """Let the lease lapse and sweep: a second coordinator resumes the run."""
        clock.now += LAPSE

        async def launch(lapsed: BillRun, lease: RunLease) -> None:
            self.tasks.append(asyncio.create_task(self.coordinator(lease, self.new_dispatch).run()))

        sweeper = BillRunSweeper(self.store, launch, LEASE, "test", clock)  # type: ignore[arg-type]
        assert (await sweeper.sweep()).resumed == [self.run.bill_run_id]
        return self.tasks[0]


async def test_a_resumed_run_cancelled_while_it_recounts_stops_at_its_next_chunk(
    billing: Billing, store: MemoryStore, portfolio: Portfolio, tenant_id: str, gates: Gate
) -> None:
    clock = Clock()
    run, _ = billing.bill_runs.start(caller(tenant_id), new_id("req"), SPEC)
    two = TwoShards(billing, store, portfolio, run, gates)
    old_task = await two.lose_the_first(clock)
    new_task = await two.resume(clock)
    await until(lambda: two.new_chunks_0 == 1)  # the recount's first chunk (replays) is in flight
    billing.bill_runs.cancel(caller(tenant_id), new_id("req"), run.bill_run_id, "wrong period")
    two.shard_0.set()
    two.shard_1.set()
    stopped = await ended(new_task)
    assert stopped.state is BillRunState.CANCELLED
    assert two.new_chunks_0 == 1  # the chunk in flight when the run was cancelled, then no more
    items = billing.queries.list_invoices(tenant_id, None, None, None, None, 500, "").items
    assert len([i for i in items if i.bill_run_id == run.bill_run_id]) == 3  # the first coordinator's
    two.old_gate.set()
    assert (await ended(old_task)).state is BillRunState.CANCELLED


async def test_a_resumed_run_over_two_shards_shows_no_counter_going_back(
    billing: Billing, store: MemoryStore, portfolio: Portfolio, tenant_id: str, gates: Gate
) -> None:
    clock, shown = Clock(), []
    run, _ = billing.bill_runs.start(caller(tenant_id), new_id("req"), SPEC)
    two = TwoShards(billing, store, portfolio, run, gates)
    save = store.save_bill_run

    def recording(row: BillRunRow) -> None:
        save(row)
        shown.append(row.data)

    store.save_bill_run = recording  # type: ignore[method-assign]
    old_task = await two.lose_the_first(clock)
    two.shard_0.set()
    new_task = await two.resume(clock)
    await until(lambda: two.new_chunks_0 == 4)  # shard 0's last chunk: only then shard 1
    two.shard_1.set()
    done = await ended(new_task)
    two.old_gate.set()
    await ended(old_task)
    assert_exact(billing, done, portfolio)
    assert shown[-1] == billing.queries.get_bill_run(tenant_id, run.bill_run_id).model_dump(mode="json")
    for counter in COUNTERS:
        values = [data[counter] for data in shown]
        assert values == sorted(values), (counter, values)
    usd = [Decimal(data["invoiced_totals"].get("USD", 0)) for data in shown]
    assert usd == sorted(usd)


async def test_a_resumed_run_that_crashes_while_it_recounts_fails_keeping_its_counters(
    billing: Billing, store: MemoryStore, portfolio: Portfolio, tenant_id: str, gates: Gate
) -> None:
    clock = Clock()
    run, _ = billing.bill_runs.start(caller(tenant_id), new_id("req"), SPEC)
    two = TwoShards(billing, store, portfolio, run, gates)
    old_task = await two.lose_the_first(clock)
    shown = billing.queries.get_bill_run(tenant_id, run.bill_run_id)
    new_task = await two.resume(clock)
    await until(lambda: two.new_chunks_0 == 1)
    get, bugs = store.get_bill_run, [RuntimeError("a bug")]

    def buggy(tenant: str, bill_run_id: str) -> Any:
        if bugs:
            raise bugs.pop()
        return get(tenant, bill_run_id)

    store.get_bill_run = buggy  # type: ignore[method-assign]
    two.shard_0.set()  # the first chunk's held save re-reads the run: the read crashes
    failed = await ended(new_task)
    assert bugs == [] and failed.state is BillRunState.FAILED
    assert failed.failure_message == "the bill run crashed: a bug"
    for counter in (*COUNTERS, "invoiced_totals"):
        assert getattr(failed, counter) == getattr(shown, counter), counter
    two.shard_1.set()
    two.old_gate.set()
    await ended(old_task)


async def test_a_store_error_giving_the_lease_back_after_the_last_save_does_not_fail_the_call(
    billing: Billing, store: MemoryStore, portfolio: Portfolio, tenant_id: str
) -> None:
    run, _ = billing.bill_runs.start(caller(tenant_id), new_id("req"), SPEC)
    lease = RunLease(store, tenant_id, run.bill_run_id, "gw-a", LEASE.seconds)  # type: ignore[arg-type]
    assert lease.take() is not None
    release, blips = store.release_bill_run_lease, [StoreUnavailable("the database restarted")]

    def blipping(*args: Any) -> bool:
        if blips:
            raise blips.pop()
        return release(*args)

    store.release_bill_run_lease = blipping  # type: ignore[method-assign]
    done = await billing.coordinator(run, lease).run()  # the lease lapses instead: the run is done
    assert blips == []
    assert_exact(billing, done, portfolio)


async def test_the_lease_keeper_goes_on_renewing_after_an_unexpected_error(
    store: MemoryStore, tenant_id: str
) -> None:
    run, _ = BillRunControl(store).start(caller(tenant_id), new_id("req"), SPEC)  # type: ignore[arg-type]
    lease = RunLease(store, tenant_id, run.bill_run_id, "gw-a", 0.03)  # type: ignore[arg-type]
    assert lease.take() is not None
    renew, renewals, errors = store.renew_bill_run_lease, [0], [RuntimeError("pool exhausted")]

    def failing_once(*args: Any) -> bool:
        renewals[0] += 1
        if errors:
            raise errors.pop()
        return renew(*args)

    store.renew_bill_run_lease = failing_once  # type: ignore[method-assign]
    keeper = asyncio.create_task(lease.keep(lambda: None))
    try:
        await until(lambda: renewals[0] >= 3 or keeper.done())
        assert not keeper.done() and errors == []
    finally:
        keeper.cancel()


async def test_a_resumed_run_cancelled_while_it_recounts_keeps_the_counters_it_showed(
    billing: Billing, store: MemoryStore, portfolio: Portfolio, tenant_id: str, gates: Gate
) -> None:
    clock = Clock()
    run, _ = billing.bill_runs.start(caller(tenant_id), new_id("req"), SPEC)
    two = TwoShards(billing, store, portfolio, run, gates)
    old_task = await two.lose_the_first(clock)
    shown = billing.queries.get_bill_run(tenant_id, run.bill_run_id)
    new_task = await two.resume(clock)
    await until(lambda: two.new_chunks_0 == 1)
    billing.bill_runs.cancel(caller(tenant_id), new_id("req"), run.bill_run_id, "wrong period")
    two.shard_0.set()
    two.shard_1.set()
    stopped = await ended(new_task)
    assert stopped.state is BillRunState.CANCELLED
    assert billing.queries.get_bill_run(tenant_id, run.bill_run_id) == stopped
    for counter in (*COUNTERS, "invoiced_totals"):
        assert getattr(stopped, counter) == getattr(shown, counter), counter
    two.old_gate.set()
    await ended(old_task)
