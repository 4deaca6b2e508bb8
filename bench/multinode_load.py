"""A month's work for many engagements, driven over gRPC like a client, with an oracle.

Each engagement: create, qualify, close-won, a 2026 contract (T&M on a rate card, one 20,000
fixed-fee milestone, pass-through expenses), activate, submit and approve (as a second
principal) seeded-random February time entries and expenses, complete and accept the milestone.
Every command carries a request_id and is re-sent with the same id on UNAVAILABLE, ABORTED,
RESOURCE_EXHAUSTED or DEADLINE_EXCEEDED (as a client would while a node is lost), so a command
is acknowledged once and only once; the ledger counts acknowledgements.

The oracle prices each engagement from the generated inputs alone (hours x the rate card's
rate, expenses at cost, the milestone, tax at 8.75 % of the subtotal rounded half up once) and
`check` compares it to the server's invoices to the cent, counts engagements invoiced twice or
not at all, and acknowledged items missing from (or not billed in) the store.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import grpc

from q2c.v1 import (
    billing_pb2,
    billing_pb2_grpc,
    common_pb2,
    customer_pb2,
    customer_pb2_grpc,
    engagement_pb2_grpc,
    rate_card_pb2_grpc,
)
from q2c.v1 import engagement_pb2 as pb
from q2c_core.edge.auth.devkey import DevKey
from tests.e2e.flows import contract, d, rate_card, rid, time_entry, usd

RATES = {"architect": Decimal("200"), "engineer": Decimal("150")}
TAX_RATE = Decimal("0.0875")
MILESTONE = Decimal("20000")
MONTH = "2026-02"
RETRYABLE = frozenset(
    {
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.ABORTED,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        grpc.StatusCode.DEADLINE_EXCEEDED,
    }
)
APPROVALS = frozenset({"ApproveTimeEntries", "ApproveExpenses", "AcceptMilestone"})


@dataclass(frozen=True)
class Plan:
    """One engagement's generated month: time entries (id, role, hours, day) and expenses."""

    n: int
    entries: tuple[tuple[str, str, str, int], ...]
    expenses: tuple[tuple[str, str], ...]

    def expected_total(self) -> Decimal:
        """The invoice total the inputs call for, computed without q2c."""
        hours = sum((Decimal(h) * RATES[role] for _, role, h, _ in self.entries), Decimal(0))
        subtotal = hours + sum((Decimal(a) for _, a in self.expenses), Decimal(0)) + MILESTONE
        tax = (subtotal * TAX_RATE).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        return subtotal + tax


def plans(seed: int, engagements: int, entries: int) -> list[Plan]:
    """Seeded plans: 1..`entries` time entries (quarter hours) and 0..2 expenses each."""
    rng = random.Random(seed)
    out = []
    for n in range(engagements):
        times = tuple(
            (f"t{i}", rng.choice(("architect", "engineer")), str(rng.randint(1, 40) / Decimal(4)), 2 + i % 26)
            for i in range(rng.randint(1, entries))
        )
        costs = tuple((f"x{i}", f"{rng.randint(100, 99999) / 100:.2f}") for i in range(rng.randint(0, 2)))
        out.append(Plan(n, times, costs))
    return out


@dataclass
class Ledger:
    """Acknowledged commands, retries and final errors by status code, latencies."""

    acked: Counter[str] = field(default_factory=Counter)
    retries: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    engagement_ids: dict[int, str] = field(default_factory=dict)
    failed_plans: set[int] = field(default_factory=set)

    @property
    def commands(self) -> int:
        """Acknowledged commands in all."""
        return sum(self.acked.values())


class MonthEnd:
    """A tenant's client: a booker and an approver token, one channel, the ledger."""

    def __init__(self, target: str, key: DevKey, tenant: str, deadline: float = 120.0) -> None:
        self.channel = grpc.aio.insecure_channel(target)
        self.engagements = engagement_pb2_grpc.EngagementServiceStub(self.channel)
        self.customers = customer_pb2_grpc.CustomerServiceStub(self.channel)
        self.rate_cards = rate_card_pb2_grpc.RateCardServiceStub(self.channel)
        self.billing = billing_pb2_grpc.BillingServiceStub(self.channel)
        self.metadata = [("authorization", f"Bearer {key.mint(tenant, 'month-end-booker')}")]
        self.approver = [("authorization", f"Bearer {key.mint(tenant, 'month-end-approver')}")]
        self.deadline = deadline
        self.ledger = Ledger()
        self.customer_id = self.rate_card_id = ""

    async def setup(self) -> None:
        """An active USD customer taxed at 8.75 % and the rate card (architect 200, engineer 150)."""
        body = customer_pb2.Customer(
            display_name="Month-end Ltd",
            legal_entity="Month-end Ltd",
            billing_currency="USD",
            service_line="Cloud",
            status=customer_pb2.CUSTOMER_STATUS_ACTIVE,
            tax_profile=customer_pb2.TaxProfile(jurisdiction="US-NY", rate=str(TAX_RATE)),
        )
        made = await self.customers.CreateCustomer(
            customer_pb2.CreateCustomerRequest(request_id=rid(), customer=body), metadata=self.metadata
        )
        self.customer_id = made.customer_id
        self.rate_card_id = (await rate_card(self, self.metadata)).rate_card_id

    async def call(self, kind: str, request: Any, *, service: Any = None) -> Any:
        """One command, re-sent with the same request_id while the failure is retryable."""
        method = getattr(service or self.engagements, kind)
        metadata = self.approver if kind in APPROVALS else self.metadata
        give_up = time.monotonic() + self.deadline
        attempt = 0
        while True:
            start = time.perf_counter()
            try:
                reply = await method(request, metadata=metadata, timeout=30)
            except grpc.aio.AioRpcError as error:
                if error.code() not in RETRYABLE or time.monotonic() > give_up:
                    self.ledger.errors[error.code().name] += 1
                    raise
                self.ledger.retries[error.code().name] += 1
                attempt += 1
                await asyncio.sleep(min(0.05 * attempt, 1.0))
                continue
            self.ledger.latencies.append(time.perf_counter() - start)
            self.ledger.acked[kind] += 1
            return reply

    async def engagement(self, plan: Plan) -> str:
        """Take one engagement from nothing to a month of approved, billable work."""
        c, basic = self.call, pb.ENGAGEMENT_VIEW_BASIC
        created = await c(
            "CreateEngagement",
            pb.CreateEngagementRequest(
                request_id=rid(), customer_id=self.customer_id, display_name=f"E{plan.n}", view=basic
            ),
        )
        eid = created.engagement_id
        self.ledger.engagement_ids[plan.n] = eid
        for kind, message in (("QualifyEngagement", pb.QualifyEngagementRequest),):
            await c(kind, message(request_id=rid(), engagement_id=eid, view=basic))
        await c(
            "CloseWonEngagement",
            pb.CloseWonEngagementRequest(request_id=rid(), engagement_id=eid, view=basic),
        )
        terms = contract(eid, self.rate_card_id)
        terms.view = basic
        await c("ApproveContract", terms)
        await c(
            "ActivateEngagement",
            pb.ActivateEngagementRequest(
                request_id=rid(), engagement_id=eid, project_template_id="tpl", view=basic
            ),
        )
        entries = [time_entry(i, hours=h, role=r, day=date(2026, 2, day)) for i, r, h, day in plan.entries]
        await c(
            "SubmitTimeEntries",
            pb.SubmitTimeEntriesRequest(request_id=rid(), engagement_id=eid, entries=entries, view=basic),
        )
        ids = [e.entry_id for e in entries]
        await c(
            "ApproveTimeEntries",
            pb.ApproveTimeEntriesRequest(request_id=rid(), engagement_id=eid, entry_ids=ids, view=basic),
        )
        if plan.expenses:
            await self._expenses(eid, plan)
        for kind, message in (
            ("CompleteMilestone", pb.CompleteMilestoneRequest),
            ("AcceptMilestone", pb.AcceptMilestoneRequest),
        ):
            await c(
                kind,
                message(
                    request_id=rid(), engagement_id=eid, milestone_id="m1", view=pb.ENGAGEMENT_VIEW_BASIC
                ),
            )
        return str(eid)

    async def _expenses(self, eid: str, plan: Plan) -> None:
        expenses = [
            pb.ExpenseInput(
                expense_id=x,
                billing_line_id="ex",
                category="travel",
                incurred_date=d(date(2026, 2, 9)),
                amount=usd(a),
            )
            for x, a in plan.expenses
        ]
        basic = pb.ENGAGEMENT_VIEW_BASIC
        await self.call(
            "SubmitExpenses",
            pb.SubmitExpensesRequest(request_id=rid(), engagement_id=eid, expenses=expenses, view=basic),
        )
        ids = [x for x, _ in plan.expenses]
        await self.call(
            "ApproveExpenses",
            pb.ApproveExpensesRequest(request_id=rid(), engagement_id=eid, expense_ids=ids, view=basic),
        )

    async def load(self, work: list[Plan], clients: int, stop: asyncio.Event | None = None) -> float:
        """Run the plans with `clients` concurrent workers (until `stop` is set, if given: plans
        begun are finished, the rest left); wall seconds. A plan whose command failed for good
        is recorded in `ledger.failed_plans` (and left out of the oracle)."""
        queue: asyncio.Queue[Plan] = asyncio.Queue()
        for plan in work:
            queue.put_nowait(plan)
        stop = stop or asyncio.Event()

        async def worker() -> None:
            while not queue.empty() and not stop.is_set():
                plan = queue.get_nowait()
                try:
                    await self.engagement(plan)
                except grpc.aio.AioRpcError:
                    self.ledger.failed_plans.add(plan.n)

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        return time.perf_counter() - start

    async def start_bill_run(self) -> str:
        """Start the tenant's bill run for February 2026; its id."""
        request = billing_pb2.StartBillRunRequest(
            request_id=rid(), period=common_pb2.BillingPeriod(month=MONTH)
        )
        run = await self.call("StartBillRun", request, service=self.billing)
        return str(run.bill_run_id)

    async def bill_run(self, bill_run_id: str) -> billing_pb2.BillRun:
        """The run as the server has it now."""
        request = billing_pb2.GetBillRunRequest(bill_run_id=bill_run_id)
        return await self.billing.GetBillRun(request, metadata=self.metadata, timeout=30)

    async def invoices(self) -> list[billing_pb2.Invoice]:
        """Every invoice of the tenant (all pages)."""
        found: list[billing_pb2.Invoice] = []
        token = ""
        while True:
            page = await self.billing.ListInvoices(
                billing_pb2.ListInvoicesRequest(page_size=500, page_token=token),
                metadata=self.metadata,
                timeout=60,
            )
            found.extend(page.invoices)
            token = page.next_page_token
            if not token:
                return found

    async def get(self, engagement_id: str) -> pb.Engagement:
        """The engagement with its items (full view)."""
        request = pb.GetEngagementRequest(engagement_id=engagement_id, view=pb.ENGAGEMENT_VIEW_FULL)
        return await self.engagements.GetEngagement(request, metadata=self.metadata, timeout=30)

    async def close(self) -> None:
        """Close the channel."""
        await self.channel.close()
