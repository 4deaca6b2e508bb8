"""A gateway that stops mid bill run hands the run to the next gateway's sweep (both backends)."""

from __future__ import annotations

from decimal import Decimal

from q2c_core.adapters.store import Store
from q2c_core.app.billing.lease import LeaseSettings
from q2c_core.app.billing.runs import BillRunSpec, BillRunState
from q2c_core.app.runtime import LocalRuntime
from tests.host.billing_setup import MARCH, build_portfolio
from tests.host.helpers import bill_run_reaching, caller, new_id

SPEC = BillRunSpec(period=MARCH)
LEASE = LeaseSettings(seconds=30, sweep_seconds=15, max_resumes=3)


async def test_a_gateway_closed_mid_run_releases_it_and_the_next_gateway_resumes_it_at_start(
    store: Store, tenant_id: str
) -> None:
    first = LocalRuntime(store, bill_run_chunk=2, bill_run_pause=0.02, bill_run_leases=LEASE)
    p = await build_portfolio(
        first.host.submit_many, store, tenant_id, billable=10, nothing=2, missing_po=2, invoiced=2
    )
    run = await first.start_bill_run(caller(tenant_id), new_id("req"), SPEC)
    await bill_run_reaching(first.queries, run, 2, 20.0)
    await first.close()  # interrupts the coordinator: the lease is released, the run stays RUNNING
    stopped = first.queries.get_bill_run(tenant_id, run.bill_run_id)
    assert stopped.state is BillRunState.RUNNING and 2 <= stopped.engagements_processed < 16
    lease = store.get_bill_run_lease(tenant_id, run.bill_run_id)
    assert lease is not None and (lease.owner, lease.launches) == (None, 1)
    second = LocalRuntime(store, bill_run_chunk=2, bill_run_leases=LEASE)
    try:
        await second.start_bill_run_sweeper()  # its first sweep runs at once
        done = await bill_run_reaching(second.queries, run, 10_000, 20.0)
        assert done.state is BillRunState.SUCCEEDED, done.failure_message
        assert done.engagements_total == done.engagements_processed == 16
        assert (done.invoices_created, done.engagements_already_invoiced) == (10, 2)
        assert (done.engagements_skipped, done.engagements_failed) == (4, 0)
        assert done.invoiced_totals == {"USD": Decimal("131.19") * 10}
        items = second.queries.list_invoices(tenant_id, None, None, None, None, 500, "").items
        assert sorted(i.engagement_id for i in items if i.period == MARCH) == sorted(p.billable + p.invoiced)
        assert second.bill_run_sweeper.resumed_total == 1
        task = second.bill_run_tasks.get(run.bill_run_id)
        if task is not None:  # the coordinator releases the lease after the run's last save
            await task
        lease = store.get_bill_run_lease(tenant_id, run.bill_run_id)
        assert lease is not None and (lease.owner, lease.launches) == (None, 2)
    finally:
        await second.close()
