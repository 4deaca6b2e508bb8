"""Bill runs on LocalRuntime (both backends): counts, idempotency, re-runs and cancellation."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from q2c_core.adapters.store import Store
from q2c_core.app.billing.runner import BillOutcome, outcomes, run_envelopes
from q2c_core.app.billing.runs import BillRun, BillRunSpec, BillRunState
from q2c_core.app.messages import CommandEnvelope
from q2c_core.app.records import BillRunRow
from q2c_core.app.runtime import LocalRuntime
from q2c_core.domain.errors import (
    NotFoundError,
    PreconditionError,
    RequestIdReusedError,
    ValidationError,
)
from q2c_core.domain.invoices import InvoiceState
from q2c_core.domain.periods import BillingPeriod
from tests.host.billing_setup import MARCH, Portfolio, build_portfolio
from tests.host.helpers import audit_of, caller, new_id

SPEC = BillRunSpec(period=MARCH)


@pytest.fixture
async def runtime(store: Store) -> AsyncIterator[LocalRuntime]:
    """A LocalRuntime whose bill runs dispatch in chunks of 7."""
    rt = LocalRuntime(store, bill_run_chunk=7)
    yield rt
    await rt.close()


@pytest.fixture
async def portfolio(runtime: LocalRuntime, store: Store, tenant_id: str) -> Portfolio:
    """30 active engagements in every situation (plus 2 drafts out of scope)."""
    return await build_portfolio(
        runtime.host.submit_many, store, tenant_id, billable=15, nothing=6, missing_po=4, invoiced=5
    )


async def finished(runtime: LocalRuntime, run: BillRun) -> BillRun:
    """Wait for the run's task and return the stored run."""
    task = runtime.bill_run_tasks.get(run.bill_run_id)
    if task is not None:
        await task
    return runtime.queries.get_bill_run(run.tenant_id, run.bill_run_id)


async def test_a_run_invoices_every_billable_engagement_and_counts_the_rest(
    runtime: LocalRuntime, portfolio: Portfolio, tenant_id: str
) -> None:
    started = await runtime.start_bill_run(caller(tenant_id), new_id("req"), SPEC)
    assert started.state is BillRunState.PENDING
    run = await finished(runtime, started)
    assert run.state is BillRunState.SUCCEEDED and run.finish_time is not None
    assert (run.shards_total, run.shards_done) == (1, 1)
    assert run.engagements_total == run.engagements_processed == 30
    assert run.invoices_created == 15
    assert run.engagements_already_invoiced == 5
    assert run.engagements_skipped == 10 and run.engagements_failed == 0 and not run.failure_message
    reasons = {s.engagement_id: s.reason for s in run.skips}
    assert reasons == {
        **{e: "NOTHING_TO_BILL" for e in portfolio.nothing},
        **{e: "MISSING_PO_REFERENCE" for e in portfolio.missing_po},
    }
    invoices = runtime.queries.list_invoices(tenant_id, None, None, None, run.bill_run_id, 100, "").items
    assert sorted(i.engagement_id for i in invoices) == sorted(portfolio.billable)
    assert all(i.state is InvoiceState.DRAFT and i.bill_run_id == run.bill_run_id for i in invoices)
    assert run.invoiced_totals == {"USD": sum((i.total.amount for i in invoices), Decimal(0))}
    assert run.invoiced_totals["USD"] == Decimal("131.19") * 15  # 120.50 + 8.875% tax, per engagement
    parked = runtime.queries.list_exceptions(tenant_id, None, None, portfolio.missing_po[0], 10, "").items
    assert [x.check for x in parked] == ["MISSING_PO_REFERENCE"]


async def test_a_second_run_for_the_period_bills_nothing_twice(
    runtime: LocalRuntime, portfolio: Portfolio, tenant_id: str
) -> None:
    first = await finished(runtime, await runtime.start_bill_run(caller(tenant_id), None, SPEC))
    second = await finished(runtime, await runtime.start_bill_run(caller(tenant_id), None, SPEC))
    assert first.bill_run_id != second.bill_run_id
    assert second.state is BillRunState.SUCCEEDED
    assert second.invoices_created == 0 and second.invoiced_totals == {}
    assert second.engagements_already_invoiced == 20
    assert second.engagements_skipped == 10
    every = runtime.queries.list_invoices(tenant_id, None, None, None, None, 500, "").items
    assert len(every) == 20 and len({i.engagement_id for i in every}) == 20


async def test_a_resent_chunk_replays_and_counts_the_same(
    runtime: LocalRuntime, portfolio: Portfolio, tenant_id: str
) -> None:
    run = await finished(runtime, await runtime.start_bill_run(caller(tenant_id), None, SPEC))
    envelopes = run_envelopes(run, portfolio.in_scope)
    again = outcomes(envelopes, await runtime.host.submit_many(envelopes))
    kinds = [o.kind for o in again]
    assert kinds.count("INVOICED") == 15 and kinds.count("ALREADY_INVOICED") == 5
    assert kinds.count("SKIPPED") == 10
    assert len(runtime.queries.list_invoices(tenant_id, None, None, None, None, 500, "").items) == 20


async def test_start_is_idempotent_per_request_id(
    runtime: LocalRuntime, portfolio: Portfolio, tenant_id: str
) -> None:
    request_id = new_id("req")
    run = await runtime.start_bill_run(caller(tenant_id), request_id, SPEC)
    again = await runtime.start_bill_run(caller(tenant_id), request_id, SPEC)
    assert again.bill_run_id == run.bill_run_id and len(runtime.bill_run_tasks) <= 1
    with pytest.raises(RequestIdReusedError):
        await runtime.start_bill_run(
            caller(tenant_id), request_id, BillRunSpec(period=BillingPeriod.month(2025, 4))
        )
    with pytest.raises(ValidationError):
        await runtime.start_bill_run(caller(tenant_id), None, BillRunSpec(period=MARCH, currency="XXQ"))
    done = await finished(runtime, run)
    assert (await runtime.start_bill_run(caller(tenant_id), request_id, SPEC)).state is done.state
    assert [r.command_type for r in audit_of(runtime.store, tenant_id, run.bill_run_id)] == ["StartBillRun"]


async def test_scope_filters_by_customer_and_currency(
    runtime: LocalRuntime, portfolio: Portfolio, tenant_id: str
) -> None:
    eur = await finished(
        runtime,
        await runtime.start_bill_run(caller(tenant_id), None, BillRunSpec(period=MARCH, currency="EUR")),
    )
    assert eur.engagements_total == 0 and eur.state is BillRunState.SUCCEEDED
    customer = runtime.queries.get_engagement(tenant_id, portfolio.missing_po[0]).customer_id
    scoped = BillRunSpec(period=MARCH, customer_ids=[customer], currency="USD")
    run = await finished(runtime, await runtime.start_bill_run(caller(tenant_id), None, scoped))
    assert run.engagements_total == 4 and run.engagements_skipped == 4


async def test_cancel_stops_dispatching(runtime: LocalRuntime, portfolio: Portfolio, tenant_id: str) -> None:
    calls: list[int] = []
    second_chunk, cancelled = asyncio.Event(), asyncio.Event()
    dispatch = runtime._dispatch

    async def gated(shard: int, envelopes: list[CommandEnvelope]) -> list[BillOutcome]:
        calls.append(len(envelopes))
        if len(calls) == 2:
            second_chunk.set()
            await cancelled.wait()
        return await dispatch(shard, envelopes)

    runtime._dispatch = gated  # type: ignore[method-assign]
    run = await runtime.start_bill_run(caller(tenant_id), None, SPEC)
    await second_chunk.wait()
    cancel = await runtime.cancel_bill_run(caller(tenant_id), new_id("req"), run.bill_run_id, "wrong period")
    assert cancel.state is BillRunState.CANCELLED
    cancelled.set()
    final = await finished(runtime, run)
    assert final.state is BillRunState.CANCELLED and final.finish_time is not None
    assert calls == [7, 7]  # the chunk in flight finished; no other was sent
    assert final.engagements_processed == 14 and final.engagements_total == 30
    with pytest.raises(PreconditionError) as raised:
        await runtime.cancel_bill_run(caller(tenant_id), None, run.bill_run_id, "again")
    assert raised.value.reason == "BILL_RUN_FINISHED" and raised.value.metadata["state"] == "CANCELLED"
    with pytest.raises(NotFoundError):
        await runtime.cancel_bill_run(caller(tenant_id), None, "nope", "why")
    with pytest.raises(ValidationError):
        await runtime.cancel_bill_run(caller(tenant_id), None, run.bill_run_id, " ")
    audit = [r.command_type for r in audit_of(runtime.store, tenant_id, run.bill_run_id)]
    assert audit == ["StartBillRun", "CancelBillRun"]


async def test_the_next_chunk_goes_while_the_last_chunk_s_progress_is_saved(
    runtime: LocalRuntime, portfolio: Portfolio, tenant_id: str
) -> None:
    saving, release, second_chunk = threading.Event(), threading.Event(), asyncio.Event()
    save, dispatch, calls = runtime.store.save_bill_run, runtime._dispatch, []

    def held(row: BillRunRow) -> None:  # in the coordinator's store thread
        if row.data["engagements_processed"] == 7:  # the first chunk's progress
            saving.set()
            release.wait(60)
        save(row)

    async def recording(shard: int, envelopes: list[CommandEnvelope]) -> list[BillOutcome]:
        calls.append(len(envelopes))
        if len(calls) == 2:
            second_chunk.set()
        return await dispatch(shard, envelopes)

    runtime.store.save_bill_run = held  # type: ignore[method-assign]
    runtime._dispatch = recording  # type: ignore[method-assign]
    try:
        run = await runtime.start_bill_run(caller(tenant_id), None, SPEC)
        # before, the second chunk waited for the first one's save, which waits for `release`
        await asyncio.wait_for(second_chunk.wait(), 60)  # a bound on failure, not synchronisation
        assert await asyncio.to_thread(saving.wait, 60)  # and that save is held indeed
    finally:
        release.set()
    done = await finished(runtime, run)
    assert done.state is BillRunState.SUCCEEDED and calls == [7, 7, 7, 7, 2]
    assert (done.engagements_processed, done.invoices_created, done.engagements_skipped) == (30, 15, 10)


async def test_bill_run_reads(runtime: LocalRuntime, portfolio: Portfolio, tenant_id: str) -> None:
    with pytest.raises(NotFoundError):
        runtime.queries.get_bill_run(tenant_id, "nope")
    runs = [
        await finished(runtime, await runtime.start_bill_run(caller(tenant_id), None, SPEC)) for _ in range(3)
    ]
    page = runtime.queries.list_bill_runs(tenant_id, 2, "")
    rest = runtime.queries.list_bill_runs(tenant_id, 2, page.next_page_token)
    listed = [r.bill_run_id for r in page.items + rest.items]
    assert listed == [r.bill_run_id for r in reversed(runs)] and not rest.next_page_token
