"""Bill runs over gRPC: start, watch progress to the end, list, re-run, cancel."""

from __future__ import annotations

from datetime import date

import grpc

from q2c.v1 import billing_pb2
from tests.service.billing_flows import active_on, approved_time, entry, month, tm_line
from tests.service.client import Api, error_info, money, rich_error, rid

TERMINAL = (
    billing_pb2.BILL_RUN_STATE_SUCCEEDED,
    billing_pb2.BILL_RUN_STATE_CANCELLED,
    billing_pb2.BILL_RUN_STATE_FAILED,
)


async def _two_billable_engagements(api: Api) -> list[str]:
    ids = []
    for hours in ("8", "4"):
        billable = await active_on(api, lambda card: [tm_line(card)])
        await approved_time(api, billable.engagement_id, entry(1, date(2026, 1, 5), hours=hours))
        ids.append(billable.engagement_id)
    return ids


async def _start(api: Api, period: str = "2026-01") -> billing_pb2.BillRun:
    run: billing_pb2.BillRun = await api.billing.StartBillRun(
        billing_pb2.StartBillRunRequest(request_id=rid(), period=month(period))
    )
    return run


async def _watch(api: Api, bill_run_id: str) -> list[billing_pb2.BillRun]:
    """Every message of one WatchBillRun stream, which must end by itself."""
    return [
        run
        async for run in api.billing.WatchBillRun(billing_pb2.WatchBillRunRequest(bill_run_id=bill_run_id))
    ]


async def test_bill_run_streams_progress_to_succeeded_and_invoices_every_engagement(api: Api) -> None:
    engagement_ids = await _two_billable_engagements(api)

    started = await _start(api)
    seen = await _watch(api, started.bill_run_id)

    assert started.state in (billing_pb2.BILL_RUN_STATE_PENDING, billing_pb2.BILL_RUN_STATE_RUNNING)
    assert started.period == month("2026-01")
    last = seen[-1]
    assert last.state == billing_pb2.BILL_RUN_STATE_SUCCEEDED
    assert all(run.state not in TERMINAL for run in seen[:-1])
    processed = [run.engagements_processed for run in seen]
    assert processed == sorted(processed)  # counters only grow
    assert (last.engagements_total, last.engagements_processed, last.invoices_created) == (2, 2, 2)
    assert list(last.invoiced_totals) == [money("1959.75")]  # 1200.00 + 600.00 + 8.875 % tax
    assert last.HasField("finish_time")
    invoices = await api.billing.ListInvoices(
        billing_pb2.ListInvoicesRequest(bill_run_id=started.bill_run_id)
    )
    assert sorted(i.engagement_id for i in invoices.invoices) == sorted(engagement_ids)
    assert {i.bill_run_id for i in invoices.invoices} == {started.bill_run_id}


async def test_second_bill_run_for_the_same_period_bills_nothing(api: Api) -> None:
    await _two_billable_engagements(api)
    first = await _start(api)
    await _watch(api, first.bill_run_id)

    second = await _start(api)
    [*_, last] = await _watch(api, second.bill_run_id)

    assert last.state == billing_pb2.BILL_RUN_STATE_SUCCEEDED
    assert (last.invoices_created, last.engagements_already_invoiced) == (0, 2)
    assert not last.invoiced_totals
    listed = await api.billing.ListBillRuns(billing_pb2.ListBillRunsRequest())
    assert [r.bill_run_id for r in listed.bill_runs] == [second.bill_run_id, first.bill_run_id]


async def test_watching_a_finished_run_sends_it_once_and_ends(api: Api) -> None:
    run = await _start(api)
    [*_, finished] = await _watch(api, run.bill_run_id)

    again = await _watch(api, run.bill_run_id)

    assert again == [await api.billing.GetBillRun(billing_pb2.GetBillRunRequest(bill_run_id=run.bill_run_id))]
    assert again[0] == finished


async def test_cancelling_a_finished_run_is_bill_run_finished(api: Api) -> None:
    run = await _start(api)
    await _watch(api, run.bill_run_id)
    code, status = await rich_error(
        api.billing.CancelBillRun(
            billing_pb2.CancelBillRunRequest(request_id=rid(), bill_run_id=run.bill_run_id, reason="too late")
        )
    )
    assert code == grpc.StatusCode.FAILED_PRECONDITION
    assert error_info(status).reason == "BILL_RUN_FINISHED"


async def test_client_cancelling_a_watch_ends_the_stream(api: Api) -> None:
    await _two_billable_engagements(api)
    run = await _start(api)
    call = api.billing.WatchBillRun(billing_pb2.WatchBillRunRequest(bill_run_id=run.bill_run_id))
    first = await call.read()
    assert first.bill_run_id == run.bill_run_id

    call.cancel()

    assert await call.code() == grpc.StatusCode.CANCELLED
