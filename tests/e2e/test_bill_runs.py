"""Bill runs over real Ray shard actors: fan-out, progress, and surviving killed actors."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
import pytest_asyncio
import ray

from actors.routing import shard_for
from actors.runtime import RayRuntime
from q2c_core.adapters.store import Store
from q2c_core.app.billing.runs import BillRun, BillRunSpec, BillRunState
from q2c_core.app.messages import CommandEnvelope, CommandResult
from q2c_core.domain.invoices import Invoice, InvoiceState
from tests.host.billing_setup import MARCH, Portfolio, build_portfolio
from tests.host.helpers import caller, new_id

pytestmark = pytest.mark.e2e
SPEC = BillRunSpec(period=MARCH)
PER_ENGAGEMENT = Decimal("131.19")  # 120.50 expense + 8.875% tax
SHARDS = 2


@pytest_asyncio.fixture(scope="module")
async def runtime(ray_cluster: str, database_url: str) -> AsyncIterator[RayRuntime]:
    """Two shards; bill runs go 3 engagements a chunk, pausing 30 ms between chunks."""
    store = Store.open(database_url)
    rt = RayRuntime(
        store,
        database_url,
        shards=SHARDS,
        deployment=f"bill-{uuid.uuid4().hex[:8]}",
        bill_run_chunk=3,
        bill_run_pause=0.03,
    )
    await rt.wait_ready()
    yield rt
    await rt.close(kill_shards=True)
    store.close()


async def portfolio(rt: RayRuntime, tenant: str) -> Portfolio:
    """60 active engagements: 44 billable, 6 with nothing to bill, 5 missing a PO, 5 invoiced."""

    async def run(envelopes: list[CommandEnvelope]) -> list[CommandResult]:
        return list(await asyncio.gather(*(rt.execute(e) for e in envelopes)))

    return await build_portfolio(run, rt.store, tenant, billable=44, nothing=6, missing_po=5, invoiced=5)


async def progress_until(rt: RayRuntime, run: BillRun, done: int) -> list[int]:
    """Poll the run until it has processed `done` engagements (or finished); the values seen."""
    seen: list[int] = []
    while True:
        current = rt.queries.get_bill_run(run.tenant_id, run.bill_run_id)
        seen.append(current.engagements_processed)
        if current.engagements_processed >= done or current.state.finished:
            return seen
        await asyncio.sleep(0.005)


async def finished(rt: RayRuntime, run: BillRun, timeout: float = 60.0) -> BillRun:
    """Poll the run until it reaches a terminal state."""
    for _ in range(int(timeout / 0.02)):
        current = rt.queries.get_bill_run(run.tenant_id, run.bill_run_id)
        if current.state.finished:
            return current
        await asyncio.sleep(0.02)
    raise AssertionError(f"bill run {run.bill_run_id} did not finish: {current}")


def live_invoices(rt: RayRuntime, tenant: str) -> list[Invoice]:
    """Every non-void invoice of the tenant."""
    items = rt.queries.list_invoices(tenant, None, None, None, None, 500, "").items
    return [i for i in items if i.state is not InvoiceState.VOID]


def assert_billed_exactly_once(rt: RayRuntime, tenant: str, p: Portfolio) -> None:
    """Every billable (and pre-invoiced) engagement has one live March invoice; nobody else has."""
    invoices = [i for i in live_invoices(rt, tenant) if i.period == MARCH]
    by_engagement = sorted(i.engagement_id for i in invoices)
    assert by_engagement == sorted(p.billable + p.invoiced)
    for eid in p.billable[:3]:  # the read model agrees with the engagement itself
        assert len(rt.queries.get_engagement(tenant, eid).invoices) == 1


async def test_a_run_fans_out_over_both_shards_with_growing_progress(runtime: RayRuntime) -> None:
    tenant = f"t-{uuid.uuid4().hex[:12]}"
    p = await portfolio(runtime, tenant)
    started = await runtime.start_bill_run(caller(tenant), new_id("req"), SPEC)
    seen = await progress_until(runtime, started, 60)
    run = await finished(runtime, started)
    assert run.state is BillRunState.SUCCEEDED, run.failure_message
    assert seen == sorted(seen) and any(0 < n < 60 for n in seen)
    assert (run.shards_total, run.shards_done) == (SHARDS, SHARDS)
    assert run.engagements_total == run.engagements_processed == 60
    assert (run.invoices_created, run.engagements_already_invoiced) == (44, 5)
    assert (run.engagements_skipped, run.engagements_failed) == (11, 0)
    assert run.invoiced_totals == {"USD": PER_ENGAGEMENT * 44}
    mine = runtime.queries.list_invoices(tenant, None, None, None, run.bill_run_id, 500, "").items
    assert len(mine) == run.invoices_created
    assert {shard_for(i.engagement_id, SHARDS) for i in mine} == set(range(SHARDS))
    assert_billed_exactly_once(runtime, tenant, p)
    watcher = runtime.bill_run_watchers.get(run.bill_run_id)
    if watcher is not None:
        await watcher
    with pytest.raises(ValueError):
        runtime.coordinator(run.bill_run_id)  # the coordinator actor exited


async def test_a_shard_killed_mid_run_loses_and_doubles_nothing(runtime: RayRuntime) -> None:
    tenant = f"t-{uuid.uuid4().hex[:12]}"
    p = await portfolio(runtime, tenant)
    started = await runtime.start_bill_run(caller(tenant), None, SPEC)
    seen = await progress_until(runtime, started, 12)
    assert seen[-1] < 60, "the run finished before the shard could be killed"
    pid_before = (await runtime.lanes[0].handle.stats.remote())["pid"]
    ray.kill(runtime.lanes[0].handle, no_restart=False)  # Ray restarts it (max_restarts=-1)
    run = await finished(runtime, started)
    assert (await runtime.lanes[0].handle.stats.remote())["pid"] != pid_before
    created = run.invoices_created
    if run.engagements_failed:  # the shard stayed down past the retries: a re-run finishes the job
        rerun = await finished(runtime, await runtime.start_bill_run(caller(tenant), None, SPEC))
        created += rerun.invoices_created
    assert run.state is BillRunState.SUCCEEDED
    assert created == 44
    assert_billed_exactly_once(runtime, tenant, p)
    totals = sum((i.total.amount for i in live_invoices(runtime, tenant) if i.bill_run_id), Decimal(0))
    assert totals == PER_ENGAGEMENT * 44


async def test_a_killed_coordinator_is_resumed_by_its_gateway_and_bills_each_engagement_once(
    runtime: RayRuntime,
) -> None:
    tenant = f"t-{uuid.uuid4().hex[:12]}"
    p = await portfolio(runtime, tenant)
    started = await runtime.start_bill_run(caller(tenant), None, SPEC)
    seen = await progress_until(runtime, started, 9)
    assert seen[-1] < 60, "the run finished before its coordinator could be killed"
    ray.kill(runtime.coordinator(started.bill_run_id), no_restart=True)
    run = await finished(runtime, started)  # the watcher saw it die and swept: a new coordinator
    assert run.state is BillRunState.SUCCEEDED, run.failure_message
    assert run.engagements_total == run.engagements_processed == 60
    assert (run.invoices_created, run.engagements_already_invoiced) == (44, 5)
    assert (run.engagements_skipped, run.engagements_failed) == (11, 0)
    assert run.invoiced_totals == {"USD": PER_ENGAGEMENT * 44}
    lease = runtime.store.get_bill_run_lease(tenant, run.bill_run_id)
    assert lease is not None and lease.launches == 2
    assert runtime.bill_run_sweeper.resumed_total >= 1
    assert_billed_exactly_once(runtime, tenant, p)
