"""Review of bill-run leases over LocalRuntime (both backends): the coordinator tasks it keeps."""

from __future__ import annotations

from q2c_core.adapters.store import Store
from q2c_core.app.billing.lease import LeaseSettings
from q2c_core.app.billing.runs import BillRunSpec, BillRunState
from q2c_core.app.clock import utc_now
from q2c_core.app.runtime import LocalRuntime
from tests.host.billing_setup import MARCH, build_portfolio
from tests.host.helpers import caller, new_id
from tests.host.test_bill_run_resume import processed

LEASE = LeaseSettings(seconds=30, sweep_seconds=15, max_resumes=3)


async def test_a_run_resumed_by_its_own_gateway_is_still_interrupted_when_the_gateway_closes(
    store: Store, tenant_id: str
) -> None:
    runtime = LocalRuntime(store, bill_run_chunk=2, bill_run_pause=0.1, bill_run_leases=LEASE)
    try:
        await build_portfolio(
            runtime.host.submit_many, store, tenant_id, billable=10, nothing=2, missing_po=2, invoiced=2
        )
        run = await runtime.start_bill_run(caller(tenant_id), new_id("req"), BillRunSpec(period=MARCH))
        await processed(runtime, run, 2)
        first = runtime.bill_run_tasks[run.bill_run_id]
        lease = store.get_bill_run_lease(tenant_id, run.bill_run_id)
        assert lease is not None and lease.owner is not None
        # its lease lapsed (the store was out longer than a lease): this gateway's sweep resumes it
        assert store.release_bill_run_lease(tenant_id, run.bill_run_id, lease.owner, utc_now())
        assert (await runtime.bill_run_sweeper.sweep()).resumed == [run.bill_run_id]
        second = runtime.bill_run_tasks[run.bill_run_id]
        assert second is not first
        stale = await first  # fenced off at its next save
        assert stale.state is BillRunState.RUNNING and not second.done()
        assert runtime.bill_run_tasks.get(run.bill_run_id) is second
    finally:
        await runtime.close()
    assert second.done()  # interrupted by close, its lease given back for the next gateway
    after = store.get_bill_run_lease(tenant_id, run.bill_run_id)
    assert after is not None and (after.owner, after.launches) == (None, 2)
