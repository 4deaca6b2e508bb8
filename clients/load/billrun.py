"""The month's bill run: started for the load's customers, followed to its end, retried on
request when engagements failed, and its invoices listed for issuing."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from clients.load import messages, readback
from clients.load.connect import Connection
from clients.load.plan import Plan
from clients.load.report import BillRunResult
from clients.load.workers import InvoiceRef
from q2c.v1 import billing_pb2, common_pb2

TERMINAL = frozenset({"SUCCEEDED", "FAILED", "CANCELLED"})
BILL_RUN_TIMEOUT_S = 3600.0
POLL_S = 0.5


class RunError(RuntimeError):
    """The run could not go on (seeding or the bill run failed); the message says where, `code`
    is the gRPC status name of the failed call."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class Billing:
    """The bill run(s) of the month: the first run's figures, server facts, the invoices."""

    result: BillRunResult
    server: dict[str, object] = field(default_factory=dict)
    invoices: dict[str, InvoiceRef] = field(default_factory=dict)
    """Plan key -> its invoice of the month (from whichever run made it)."""


def state_name(run: billing_pb2.BillRun) -> str:
    """BILL_RUN_STATE_SUCCEEDED -> SUCCEEDED."""
    name: str = billing_pb2.BillRunState.Name(run.state)
    return name.removeprefix("BILL_RUN_STATE_")


async def bill_run(
    conn: Connection, plan: Plan, ids: messages.Ids, attempt: int = 0
) -> tuple[billing_pb2.BillRun, float]:
    """Start the period's bill run for the load's customers and follow it to its end."""
    request = billing_pb2.StartBillRunRequest(
        request_id=f"{plan.run_tag}.billrun" + (f".{attempt}" if attempt else ""),
        period=common_pb2.BillingPeriod(month=plan.period),
        customer_ids=sorted(ids.customers.values()),
    )
    started = time.monotonic()
    code, run = await conn.call("StartBillRun", conn.billing.StartBillRun, request)
    if code != "OK":
        raise RunError(f"StartBillRun: {conn.last_error}", code)
    run = await _follow(conn, run)
    return run, time.monotonic() - started


async def _follow(conn: Connection, run: billing_pb2.BillRun) -> billing_pb2.BillRun:
    """WatchBillRun to a terminal state (GetBillRun polls if the stream breaks)."""
    recorder = conn.recorder
    watch = billing_pb2.WatchBillRunRequest(bill_run_id=run.bill_run_id)
    try:
        async for update in conn.billing.WatchBillRun(
            watch, metadata=conn.metadata(), timeout=BILL_RUN_TIMEOUT_S
        ):
            run = update
            recorder.bill_run_progress(
                time.monotonic(), run.engagements_processed, run.engagements_total, run.invoices_created
            )
        if state_name(run) in TERMINAL:
            return run
    except Exception:  # a broken stream: poll instead
        pass
    deadline = time.monotonic() + BILL_RUN_TIMEOUT_S
    while state_name(run) not in TERMINAL and time.monotonic() < deadline:
        await asyncio.sleep(POLL_S)
        code, fresh = await conn.call(
            "GetBillRun", conn.billing.GetBillRun, billing_pb2.GetBillRunRequest(bill_run_id=run.bill_run_id)
        )
        if code == "OK":
            run = fresh
            recorder.bill_run_progress(
                time.monotonic(), run.engagements_processed, run.engagements_total, run.invoices_created
            )
    return run


def bill_run_result(run: billing_pb2.BillRun, duration: float) -> BillRunResult:
    """The report's summary of the bill run."""
    return BillRunResult(
        bill_run_id=run.bill_run_id,
        state=state_name(run),
        duration_s=round(duration, 3),
        engagements=run.engagements_total,
        invoices=run.invoices_created,
        invoices_per_s=round(run.invoices_created / duration, 1) if duration > 0 else 0.0,
    )


async def month_end_billing(
    conn: Connection, plan: Plan, ids: messages.Ids, by_id: dict[str, str], retries: int
) -> Billing:
    """The month's bill run, and up to `retries` more while one ends with failed engagements
    or not SUCCEEDED (what an operator does: start a new run for the period)."""
    runs: list[billing_pb2.BillRun] = []
    billing: Billing | None = None
    for attempt in range(retries + 1):
        run, took = await bill_run(conn, plan, ids, attempt)
        runs.append(run)
        billing = billing or Billing(bill_run_result(run, took))
        for invoice in await readback.invoices(conn, bill_run_id=run.bill_run_id):
            if invoice.engagement_id in by_id:
                ref = InvoiceRef(invoice.invoice_id, invoice.total.amount, invoice.currency_code)
                billing.invoices[by_id[invoice.engagement_id]] = ref
        if state_name(run) == "SUCCEEDED" and not run.engagements_failed:
            break
    assert billing is not None
    billing.server = {
        "shards": runs[0].shards_total,
        "bill_run_failed": runs[0].engagements_failed,
        "bill_run_skipped": runs[0].engagements_skipped,
    }
    if len(runs) > 1:
        billing.server["bill_run_retries"] = [
            f"{r.bill_run_id} {state_name(r)}: {r.invoices_created} invoices, {r.engagements_failed} failed"
            for r in runs[1:]
        ]
    return billing
