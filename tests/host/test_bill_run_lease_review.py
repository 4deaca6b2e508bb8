"""Review of bill-run leases on SQLite and PostgreSQL: LocalRuntime's coordinator tasks, and the
coordinator cases of tests/unit/app/test_bill_run_lease_review.py over the real store."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from q2c_core.adapters.store import Store
from q2c_core.app.billing.lease import LeaseSettings
from q2c_core.app.billing.runs import BillRunSpec, BillRunState
from q2c_core.app.clock import utc_now
from q2c_core.app.runtime import LocalRuntime
from tests.host.billing_setup import MARCH, build_portfolio
from tests.host.helpers import bill_run_reaching, caller, new_id
from tests.unit.app import test_bill_run_lease_review as on_fake
from tests.unit.app.test_bill_run_sweeper_on_fake import Billing

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
        await bill_run_reaching(runtime.queries, run, 2, 20.0)
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
    runtime.bill_runs.cancel(caller(tenant_id), None, run.bill_run_id, "the test is over")  # no sweep's


CASES = [
    on_fake.test_a_lost_coordinator_that_crashes_does_not_fail_the_run_its_successor_runs,
    on_fake.test_a_store_blip_at_the_last_save_leaves_the_run_to_a_sweep_not_failed,
    on_fake.test_a_store_error_that_is_no_outage_at_the_last_save_fails_the_run_saying_so,
    on_fake.test_a_resumed_run_cancelled_while_it_recounts_stops_at_its_next_chunk,
    on_fake.test_a_resumed_run_over_two_shards_shows_no_counter_going_back,
    on_fake.test_a_resumed_run_that_crashes_while_it_recounts_fails_keeping_its_counters,
    on_fake.test_a_resumed_run_cancelled_while_it_recounts_keeps_the_counters_it_showed,
]
STUBBED = ("get_bill_run", "save_bill_run", "release_bill_run_lease", "renew_bill_run_lease")


@pytest.mark.parametrize("case", CASES, ids=[c.__name__.removeprefix("test_") for c in CASES])
async def test_coordinator_case_over_the_real_store(
    case: Callable[..., Awaitable[None]], store: Store, tenant_id: str
) -> None:
    billing, made = Billing(store), []  # type: ignore[arg-type]

    def gate() -> asyncio.Event:
        made.append(asyncio.Event())
        return made[-1]

    try:
        p = await build_portfolio(
            billing.host.submit_many, store, tenant_id, billable=10, nothing=2, missing_po=2, invoiced=2
        )
        gated = {"gates": gate} if "gates" in inspect.signature(case).parameters else {}
        await case(billing, store, p, tenant_id, **gated)
    finally:
        for event in made:  # no coordinator left waiting when the case failed
            event.set()
        await billing.host.close()
        stubs: dict[str, Any] = vars(store)
        for name in STUBBED:  # the case stubbed these on the module's store: back to the methods
            stubs.pop(name, None)
