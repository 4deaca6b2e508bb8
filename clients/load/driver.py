"""A whole load run: seed, month-end commands, bill run, late work, issuing and payments, check.

The engagements' scripts run in this process (`processes=1`) or split across spawned worker
processes, each with its own channel and Recorder (merged back). The bill run, seeding and the
check run here.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import timedelta

from clients.load import messages, readback
from clients.load.connect import Connection, Settings
from clients.load.oracle import ServerView, Verdict, check
from clients.load.plan import Plan
from clients.load.processes import Workers
from clients.load.record import Recorder
from clients.load.report import BillRunResult
from clients.load.schedule import Pace
from clients.load.workers import InvoiceRef, Job, Progress
from q2c.v1 import billing_pb2, common_pb2

TERMINAL = frozenset({"SUCCEEDED", "FAILED", "CANCELLED"})
SEED_CONCURRENCY = 16
BILL_RUN_TIMEOUT_S = 3600.0
POLL_S = 0.5


class RunError(RuntimeError):
    """The run could not go on (seeding or the bill run failed); the message says where, `code`
    is the gRPC status name of the failed call."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class Outcome:
    """What a run did: per-engagement progress of both phases, the bill run, the verdict."""

    before: dict[str, Progress] = field(default_factory=dict)
    after: dict[str, Progress] = field(default_factory=dict)
    bill_run: BillRunResult | None = None
    verdict: Verdict | None = None
    retries: int = 0
    ids: messages.Ids | None = None
    server: dict[str, object] = field(default_factory=dict)
    """What the run learnt about the server (the bill run's shard count and failures)."""


def _state(run: billing_pb2.BillRun) -> str:
    name: str = billing_pb2.BillRunState.Name(run.state)
    return name.removeprefix("BILL_RUN_STATE_")


async def seed(conn: Connection, plan: Plan) -> messages.Ids:
    """Create the plan's customers and rate cards through the API; their server ids."""
    gate = asyncio.Semaphore(SEED_CONCURRENCY)

    async def create(rpc: str, method: object, request: object) -> object:
        async with gate:
            code, reply = await conn.call(rpc, method, request)  # type: ignore[arg-type]
        if code != "OK":
            raise RunError(f"seeding failed: {rpc}: {conn.last_error}", code)
        return reply

    customers = await asyncio.gather(
        *(
            create(
                "CreateCustomer", conn.customers.CreateCustomer, messages.customer_request(c, plan.run_tag)
            )
            for c in plan.customers
        )
    )
    cards = await asyncio.gather(
        *(
            create(
                "CreateRateCard",
                conn.rate_cards.CreateRateCard,
                messages.rate_card_request(c, plan.run_tag, plan.period_start),
            )
            for c in plan.rate_cards
        )
    )
    return messages.Ids(
        customers={c.key: r.customer_id for c, r in zip(plan.customers, customers, strict=True)},  # type: ignore[attr-defined]
        rate_cards={c.key: r.rate_card_id for c, r in zip(plan.rate_cards, cards, strict=True)},  # type: ignore[attr-defined]
    )


async def bill_run(conn: Connection, plan: Plan, ids: messages.Ids) -> tuple[billing_pb2.BillRun, float]:
    """Start the period's bill run for the load's customers and follow it to its end."""
    request = billing_pb2.StartBillRunRequest(
        request_id=f"{plan.run_tag}.billrun",
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
        if _state(run) in TERMINAL:
            return run
    except Exception:  # a broken stream: poll instead
        pass
    deadline = time.monotonic() + BILL_RUN_TIMEOUT_S
    while _state(run) not in TERMINAL and time.monotonic() < deadline:
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
        state=_state(run),
        duration_s=round(duration, 3),
        engagements=run.engagements_total,
        invoices=run.invoices_created,
        invoices_per_s=round(run.invoices_created / duration, 1) if duration > 0 else 0.0,
    )


@dataclass(frozen=True)
class Options:
    """How to drive the plan."""

    settings: Settings
    pace: Pace
    processes: int = 1
    duration: float | None = None


async def run(plan: Plan, options: Options, recorder: Recorder, on_phase: Callable[[str], None]) -> Outcome:
    """Drive the whole month-end against the server and check it."""
    outcome = Outcome()
    conn = Connection(options.settings, recorder)
    workers = Workers(options.processes)
    try:
        on_phase("seeding")
        ids = outcome.ids = await seed(conn, plan)
        on_phase("month-end commands")
        deadline = time.monotonic() + options.duration if options.duration else None
        job = Job(
            options.settings,
            "before",
            plan.engagements,
            ids,
            replace(options.pace, deadline=deadline),
            recorder.origin,
        )
        outcome.before = await workers.phase(job, recorder)
        on_phase("bill run")
        run_reply, took = await bill_run(conn, plan, ids)
        outcome.bill_run = bill_run_result(run_reply, took)
        outcome.server = {
            "shards": run_reply.shards_total,
            "bill_run_failed": run_reply.engagements_failed,
            "bill_run_skipped": run_reply.engagements_skipped,
        }
        by_id = {p.engagement_id: key for key, p in outcome.before.items() if p.engagement_id}
        invoices = await readback.invoices(conn, bill_run_id=run_reply.bill_run_id)
        refs = {
            by_id[i.engagement_id]: InvoiceRef(i.invoice_id, i.total.amount, i.currency_code)
            for i in invoices
            if i.engagement_id in by_id
        }
        on_phase("late work, issuing, payments")
        plans = {e.key: e for e in plan.engagements}
        finished = {key for key, p in outcome.before.items() if p.done == len(plans[key].commands)}
        engagement_ids = {key: p.engagement_id for key, p in outcome.before.items()}
        after = Job(
            options.settings,
            "after",
            tuple(e for e in plan.engagements if e.key in finished),
            ids,
            replace(options.pace, deadline=None, ramp_up=0.0),
            recorder.origin,
            engagement_ids,
            refs,
            plan.period_end + timedelta(days=10),
        )
        outcome.after = await workers.phase(after, recorder)
        on_phase("checking")
        view = await read_server(options.settings, ids, outcome)
        outcome.verdict = check(plan, outcome.before, outcome.after, view)
        outcome.retries = conn.retries
        return outcome
    finally:
        workers.close()
        await conn.close()


async def read_server(settings: Settings, ids: messages.Ids, outcome: Outcome) -> ServerView:
    """Read the load's invoices (by customer) and engagements (in full) back, unrecorded."""
    reader = Connection(settings, Recorder(time.monotonic()))
    try:
        invoices = await readback.customers_invoices(reader, sorted(ids.customers.values()))
        known = {key: p.engagement_id for key, p in outcome.before.items() if p.engagement_id}
        engagements = await readback.engagements(reader, known)
    finally:
        await reader.close()
    return ServerView(invoices, engagements)
