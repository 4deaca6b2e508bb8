"""Review of bill-run leases over the fake: fencing on a crash, store blips, counters on resume."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import pytest

from q2c_core.app.billing.lease import RunLease
from q2c_core.app.billing.runner import BillOutcome, Dispatch
from q2c_core.app.billing.runs import BillRun, BillRunState
from q2c_core.app.billing.sweeper import BillRunSweeper
from q2c_core.app.messages import CommandEnvelope
from q2c_core.app.records import BillRunRow
from q2c_core.app.store_errors import StoreUnavailable
from tests.fakes.memory_store import MemoryStore
from tests.host.billing_setup import Portfolio, build_portfolio
from tests.host.helpers import caller, new_id
from tests.unit.app.test_bill_run_sweeper_on_fake import (
    LEASE,
    SPEC,
    Billing,
    Clock,
    assert_exact,
    deadline_for,
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


async def until(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    """Poll `condition` until it holds, or fail at the deadline."""
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    while not condition():
        assert loop.time() < end, "condition not reached"
        await asyncio.sleep(0.005)


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
    billing: Billing, store: MemoryStore, portfolio: Portfolio, tenant_id: str
) -> None:
    clock, old_gate, new_gate = Clock(), asyncio.Event(), asyncio.Event()
    run, _ = billing.bill_runs.start(caller(tenant_id), new_id("req"), SPEC)
    old_dispatch, _ = gated(billing, 2, old_gate)
    new_dispatch, new_sent = gated(billing, 1, new_gate)
    old_lease = RunLease(store, tenant_id, run.bill_run_id, "gw-old", LEASE.seconds, clock)  # type: ignore[arg-type]
    assert old_lease.take() is not None
    old_task = asyncio.create_task(billing.coordinator(run, old_lease, old_dispatch).run())
    await deadline_for(billing, run, 6)
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
    await asyncio.gather(old_task, return_exceptions=True)
    assert blips == []
    assert billing.queries.get_bill_run(tenant_id, run.bill_run_id).state is BillRunState.RUNNING
    new_gate.set()
    done = await tasks[0]
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
    assert_exact(billing, await billing.tasks[run.bill_run_id], portfolio)
