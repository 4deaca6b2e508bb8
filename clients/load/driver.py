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

import grpc

from clients.load import messages, readback
from clients.load.billrun import RunError, month_end_billing
from clients.load.connect import Connection, Settings
from clients.load.oracle import ServerView, Verdict, check
from clients.load.plan import Plan
from clients.load.processes import Workers
from clients.load.record import Recorder
from clients.load.report import BillRunResult
from clients.load.schedule import Pace
from clients.load.workers import Job, Progress
from q2c.v1 import customer_pb2

SEED_CONCURRENCY = 16


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
    await _check_approver(conn, customers[0].customer_id)  # type: ignore[attr-defined]
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


REFUSED = frozenset({"UNAUTHENTICATED", "NOT_FOUND"})
"""The approver check's answers that stop the run; PERMISSION_DENIED does not (an approver may
hold only the approval scopes, not customers:read)."""


async def _check_approver(conn: Connection, customer_id: str) -> None:
    """Read a seeded customer as the approver (unrecorded): a refused token, or one of another
    tenant, stops the run here instead of failing every approval."""
    request = customer_pb2.GetCustomerRequest(customer_id=customer_id)
    try:
        await conn.customers.GetCustomer(
            request, metadata=conn.metadata(approver=True), timeout=conn.settings.timeout
        )
    except grpc.aio.AioRpcError as error:
        code = error.code().name
        if code in REFUSED:
            raise RunError(
                f"the approver's token was refused: GetCustomer: {code}: {error.details()}", code
            ) from None


@dataclass(frozen=True)
class Options:
    """How to drive the plan."""

    settings: Settings
    pace: Pace
    processes: int = 1
    duration: float | None = None
    bill_run_retries: int = 0


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
        by_id = {p.engagement_id: key for key, p in outcome.before.items() if p.engagement_id}
        billed = await month_end_billing(conn, plan, ids, by_id, options.bill_run_retries)
        outcome.bill_run, outcome.server, refs = billed.result, billed.server, billed.invoices
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
        phases = (*outcome.before.values(), *outcome.after.values())
        outcome.retries = conn.retries + sum(p.retries for p in phases)
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
