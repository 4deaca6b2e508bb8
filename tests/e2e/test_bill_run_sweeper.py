"""Abandoned bill runs over real Ray: the coordinator's process is SIGKILLed after its gateway
has gone, and another gateway's sweeper resumes the run from the lease in the database."""

from __future__ import annotations

import asyncio
import os
import signal
import uuid
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
import pytest_asyncio

from actors.runtime import RayRuntime
from q2c_core.adapters.store import Store
from q2c_core.app.billing.lease import LeaseSettings
from q2c_core.app.billing.runs import BillRun, BillRunSpec, BillRunState
from q2c_core.app.messages import CommandEnvelope, CommandResult
from q2c_core.app.records import BillRunLease
from q2c_core.domain.invoices import InvoiceState
from tests.host.billing_setup import MARCH, build_portfolio
from tests.host.helpers import bill_run_reaching, caller

pytestmark = pytest.mark.e2e
SPEC = BillRunSpec(period=MARCH)
PER_ENGAGEMENT = Decimal("131.19")  # 120.50 expense + 8.875% tax
LEASE = LeaseSettings(seconds=3.0, sweep_seconds=0.25, max_resumes=3)


def gateway(store: Store, url: str, deployment: str) -> RayRuntime:
    """A gateway's runtime on the deployment's two shards; runs go 3 engagements a chunk, slowly."""
    return RayRuntime(
        store,
        url,
        shards=2,
        deployment=deployment,
        bill_run_chunk=3,
        bill_run_pause=0.1,
        bill_run_leases=LEASE,
    )


@pytest_asyncio.fixture
async def gateways(ray_cluster: str, database_url: str) -> AsyncIterator[tuple[RayRuntime, RayRuntime]]:
    """Two gateways of one deployment: the first launches runs, the second sweeps."""
    store = Store.open(database_url)
    deployment = f"sweep-{uuid.uuid4().hex[:8]}"
    first, second = gateway(store, database_url, deployment), gateway(store, database_url, deployment)
    await first.wait_ready()
    yield first, second
    await first.close()
    await second.close(kill_shards=True)
    store.close()


async def released(rt: RayRuntime, run: BillRun, seconds: float = 30.0) -> BillRunLease:
    """Poll the run's lease until its coordinator has released it (after the run's last save)."""
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    while loop.time() < end:
        lease = rt.store.get_bill_run_lease(run.tenant_id, run.bill_run_id)
        assert lease is not None
        if lease.owner is None:
            return lease
        await asyncio.sleep(0.02)
    raise AssertionError(f"the lease of {run.bill_run_id} was not released: {lease}")


async def test_a_sigkilled_coordinator_whose_gateway_is_gone_is_resumed_by_another_gateway(
    gateways: tuple[RayRuntime, RayRuntime],
) -> None:
    first, second = gateways
    tenant = f"t-{uuid.uuid4().hex[:12]}"

    async def run(envelopes: list[CommandEnvelope]) -> list[CommandResult]:
        return list(await asyncio.gather(*(first.execute(e) for e in envelopes)))

    p = await build_portfolio(run, first.store, tenant, billable=44, nothing=6, missing_po=5, invoiced=5)
    started = await first.start_bill_run(caller(tenant), None, SPEC)
    midway = await bill_run_reaching(first.queries, started, 9, 90.0, poll=0.02)
    assert midway.engagements_processed < 60, "the run finished before its coordinator could be killed"
    pid = await first.coordinator(started.bill_run_id).pid.remote()
    assert (await second.bill_run_sweeper.sweep()).resumed == []  # its coordinator renews the lease
    await first.close()  # the launching gateway and its watcher are gone
    os.kill(pid, signal.SIGKILL)
    await second.start_bill_run_sweeper()
    done = await bill_run_reaching(second.queries, started, 10_000, 90.0, poll=0.02)
    assert done.state is BillRunState.SUCCEEDED, done.failure_message
    assert second.bill_run_sweeper.resumed_total == 1
    lease = await released(second, started)
    assert lease.launches == 2  # the first coordinator, and the one that resumed the run
    assert done.engagements_total == done.engagements_processed == 60
    assert (done.invoices_created, done.engagements_already_invoiced) == (44, 5)
    assert (done.engagements_skipped, done.engagements_failed) == (11, 0)
    invoices = second.queries.list_invoices(tenant, None, None, None, None, 500, "").items
    march = [i for i in invoices if i.period == MARCH and i.state is not InvoiceState.VOID]
    assert sorted(i.engagement_id for i in march) == sorted(p.billable + p.invoiced)  # nobody twice
    by_run = [i for i in march if i.bill_run_id == started.bill_run_id]
    assert len(by_run) == done.invoices_created
    assert done.invoiced_totals == {"USD": sum((i.total.amount for i in by_run), Decimal(0))}
    assert done.invoiced_totals["USD"] == PER_ENGAGEMENT * 44
