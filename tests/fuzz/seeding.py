"""Real entities for the fuzzer to aim at, created through the API like any client would.

One customer with a full profile and one without a tax profile (its close-won raises business
exceptions), a rate card, and engagements in several states: DRAFT, QUALIFIED, WON, CONTRACTED,
ACTIVE with time entries (approved, rejected, pending), expenses and milestones, one with a
DRAFT and an ISSUED invoice, one CANCELLED; then a bill run and an audit checkpoint.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import grpc

from q2c.v1 import audit_pb2, billing_pb2, common_pb2, customer_pb2, exception_pb2
from q2c.v1 import engagement_pb2 as pb
from tests.service.client import Stubs, contract_request, customer, gdate, money, rate_card, time_entry

Metadata = tuple[tuple[str, str], ...]
Credentials = Callable[[str], Metadata]
"""principal -> call metadata (a bearer token for that principal in the fuzz tenant)."""
PRINCIPAL = "fuzzer"
APPROVER = "fuzz-approver"
TIMEOUT = 30.0
LINES = ("TM-1", "FF-1", "EXP-1")
MILESTONES = ("M1", "M2")


@dataclass
class Seeded:
    """Ids of everything seeded, by the request field names that take them."""

    engagements: list[str] = field(default_factory=list)
    customers: list[str] = field(default_factory=list)
    rate_cards: list[str] = field(default_factory=list)
    invoices: list[str] = field(default_factory=list)
    bill_runs: list[str] = field(default_factory=list)
    exceptions: list[str] = field(default_factory=list)
    entries: list[str] = field(default_factory=list)
    expenses: list[str] = field(default_factory=list)

    def pools(self) -> dict[str, list[str]]:
        """Field name (singular) -> real ids, for the random generator."""
        everything = [*self.engagements, *self.customers, *self.rate_cards, *self.invoices, *self.bill_runs]
        return {
            "engagement_id": self.engagements,
            "customer_id": self.customers,
            "rate_card_id": self.rate_cards,
            "invoice_id": self.invoices,
            "bill_run_id": self.bill_runs,
            "exception_id": self.exceptions or ["none"],
            "entry_id": self.entries,
            "expense_id": self.expenses,
            "milestone_id": list(MILESTONES),
            "line_id": list(LINES),
            "billing_line_id": list(LINES),
            "stream_id": [*self.engagements, *self.customers, *self.rate_cards],
            "project_template_id": ["TPL-1"],
            "*": everything,
        }


def rid() -> str:
    """A fresh request id."""
    return uuid.uuid4().hex


class Seeder:
    """Creates the entities, as `PRINCIPAL` (approvals as `APPROVER`)."""

    def __init__(self, channel: grpc.aio.Channel, credentials: Credentials) -> None:
        self.stubs = Stubs.on(channel)
        self.me = credentials(PRINCIPAL)
        self.approver = credentials(APPROVER)
        self.seeded = Seeded()
        self.round = 0

    async def _call(self, method: Any, request: Any, *, approve: bool = False) -> Any:
        return await method(request, metadata=self.approver if approve else self.me, timeout=TIMEOUT)

    async def seed(self) -> Seeded:
        """The full set: reference data, engagements in every state, invoices, a bill run."""
        e = self.stubs.engagements
        await self._reference_data()
        await self._engagement()  # DRAFT
        for step in ("Qualify", "CloseWon"):
            eid = await self._engagement()
            if step == "CloseWon":
                await self._call(
                    e.QualifyEngagement, pb.QualifyEngagementRequest(request_id=rid(), engagement_id=eid)
                )
            await self._call(getattr(e, f"{step}Engagement"), _step_request(step, eid))
        contracted = await self._won()
        await self._contract(contracted)
        await self.more_active()
        await self._billed()
        cancelled = await self._engagement()
        await self._call(
            e.CancelEngagement,
            pb.CancelEngagementRequest(request_id=rid(), engagement_id=cancelled, reason="lost"),
        )
        await self._exceptions()
        run = await self._call(
            self.stubs.billing.StartBillRun,
            billing_pb2.StartBillRunRequest(
                request_id=rid(), period=common_pb2.BillingPeriod(month="2025-05")
            ),
        )
        self.seeded.bill_runs.append(run.bill_run_id)
        await self._call(
            self.stubs.audit.CreateAuditCheckpoint, audit_pb2.CreateAuditCheckpointRequest(request_id=rid())
        )
        return self.seeded

    async def more_active(self) -> str:
        """One more ACTIVE engagement with approved, rejected and pending time, expenses, milestones."""
        self.round += 1
        e = self.stubs.engagements
        eid = await self._won()
        await self._contract(eid)
        await self._call(
            e.ActivateEngagement,
            pb.ActivateEngagementRequest(request_id=rid(), engagement_id=eid, project_template_id="TPL-1"),
        )
        tag = f"R{self.round}-"
        entries = [time_entry(n, day=date(2025, 3, 3 + n)) for n in range(1, 6)]
        for entry in entries:
            entry.entry_id = tag + entry.entry_id
        await self._call(
            e.SubmitTimeEntries,
            pb.SubmitTimeEntriesRequest(request_id=rid(), engagement_id=eid, entries=entries),
        )
        ids = [x.entry_id for x in entries]
        await self._call(
            e.ApproveTimeEntries,
            pb.ApproveTimeEntriesRequest(request_id=rid(), engagement_id=eid, entry_ids=ids[:2]),
            approve=True,
        )
        await self._call(
            e.RejectTimeEntries,
            pb.RejectTimeEntriesRequest(
                request_id=rid(), engagement_id=eid, entry_ids=ids[2:3], reason="typo"
            ),
            approve=True,
        )
        expenses = [_expense(tag + f"X{n}") for n in (1, 2)]
        await self._call(
            e.SubmitExpenses, pb.SubmitExpensesRequest(request_id=rid(), engagement_id=eid, expenses=expenses)
        )
        await self._call(
            e.ApproveExpenses,
            pb.ApproveExpensesRequest(
                request_id=rid(), engagement_id=eid, expense_ids=[expenses[0].expense_id]
            ),
            approve=True,
        )
        await self._call(
            e.CompleteMilestone,
            pb.CompleteMilestoneRequest(request_id=rid(), engagement_id=eid, milestone_id="M1"),
        )
        self.seeded.entries += ids
        self.seeded.expenses += [x.expense_id for x in expenses]
        return eid

    async def _reference_data(self) -> None:
        c, r = self.stubs.customers, self.stubs.rate_cards
        full = await self._call(
            c.CreateCustomer, customer_pb2.CreateCustomerRequest(request_id=rid(), customer=customer())
        )
        bare = customer(tax_profile=None, legal_entity="")
        untaxed = await self._call(
            c.CreateCustomer, customer_pb2.CreateCustomerRequest(request_id=rid(), customer=bare)
        )
        card = await self._call(r.CreateRateCard, _rate_card_request())
        self.seeded.customers += [full.customer_id, untaxed.customer_id]
        self.seeded.rate_cards.append(card.rate_card_id)

    async def _engagement(self, customer_id: str | None = None) -> str:
        request = pb.CreateEngagementRequest(
            request_id=rid(),
            customer_id=customer_id or self.seeded.customers[0],
            display_name="Fuzz target",
            opportunity_ref="OPP-F",
        )
        created = await self._call(self.stubs.engagements.CreateEngagement, request)
        self.seeded.engagements.append(created.engagement_id)
        return str(created.engagement_id)

    async def _won(self) -> str:
        e = self.stubs.engagements
        eid = await self._engagement()
        await self._call(
            e.QualifyEngagement, pb.QualifyEngagementRequest(request_id=rid(), engagement_id=eid)
        )
        await self._call(
            e.CloseWonEngagement, pb.CloseWonEngagementRequest(request_id=rid(), engagement_id=eid)
        )
        return eid

    async def _contract(self, eid: str) -> None:
        await self._call(
            self.stubs.engagements.ApproveContract, contract_request(eid, self.seeded.rate_cards[0])
        )

    async def _billed(self) -> None:
        """An ACTIVE engagement with an ISSUED March invoice and a DRAFT April one."""
        e = self.stubs.engagements
        eid = await self.more_active()
        april = [time_entry(90 + self.round, day=date(2025, 4, 7))]
        april[0].entry_id = f"A{self.round}"
        await self._call(
            e.SubmitTimeEntries,
            pb.SubmitTimeEntriesRequest(request_id=rid(), engagement_id=eid, entries=april),
        )
        await self._call(
            e.ApproveTimeEntries,
            pb.ApproveTimeEntriesRequest(request_id=rid(), engagement_id=eid, entry_ids=[april[0].entry_id]),
            approve=True,
        )
        for month in ("2025-03", "2025-04"):
            invoice = await self._call(
                e.GenerateInvoice,
                pb.GenerateInvoiceRequest(
                    request_id=rid(), engagement_id=eid, period=common_pb2.BillingPeriod(month=month)
                ),
            )
            self.seeded.invoices.append(invoice.invoice_id)
        issue = billing_pb2.IssueInvoiceRequest(request_id=rid(), invoice_id=self.seeded.invoices[-2])
        await self._call(self.stubs.billing.IssueInvoice, issue)

    async def _exceptions(self) -> None:
        """Close-won of the customer without a tax profile fails and raises exceptions."""
        e = self.stubs.engagements
        eid = await self._engagement(self.seeded.customers[1])
        await self._call(
            e.QualifyEngagement, pb.QualifyEngagementRequest(request_id=rid(), engagement_id=eid)
        )
        try:
            await self._call(
                e.CloseWonEngagement, pb.CloseWonEngagementRequest(request_id=rid(), engagement_id=eid)
            )
        except grpc.aio.AioRpcError as error:
            if error.code() != grpc.StatusCode.FAILED_PRECONDITION:
                raise
        listed = await self._call(
            self.stubs.exceptions.ListExceptions, exception_pb2.ListExceptionsRequest(page_size=50)
        )
        self.seeded.exceptions += [x.exception_id for x in listed.exceptions]


def _step_request(step: str, eid: str) -> Any:
    kind = {"Qualify": pb.QualifyEngagementRequest, "CloseWon": pb.CloseWonEngagementRequest}[step]
    return kind(request_id=rid(), engagement_id=eid)


def _expense(expense_id: str) -> pb.ExpenseInput:
    return pb.ExpenseInput(
        expense_id=expense_id,
        billing_line_id="EXP-1",
        category="TRAVEL",
        incurred_date=gdate(date(2025, 3, 4)),
        amount=money("412.50"),
        description="flight",
    )


def _rate_card_request() -> Any:
    from q2c.v1 import rate_card_pb2

    return rate_card_pb2.CreateRateCardRequest(request_id=rid(), rate_card=rate_card())
