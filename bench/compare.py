"""q2c against the `eventsourcing` library: the same month-end command mix W(N, C), in one run.

    python -m bench.compare --engagements 1000 --clients 1,32
    python -m bench.compare --engagements 50 --clients 1,8 --db sqlite --shards 2

W(N, C): N engagements, each taken through 15 commands -- create, qualify, close-won, approve
contract, activate, 4 x submit 5 time entries, approve the 20 entries, submit 2 expenses,
approve them, generate the January invoice, issue it, record its payment -- by C client
threads, each thread driving its share of the engagements one after another, every command
with its own request id.

- **eventsourcing**: in this process, one `Aggregate` per engagement, an `Application` with
  `PERSISTENCE_MODULE=eventsourcing.sqlite` on a database file (WAL, as the library sets it;
  `PRAGMA synchronous` as --sqlite-synchronous, FULL by default, which is also SQLite's
  default). Every command is `repository.get` (replay), the aggregate method (validation, one
  event), `save` (one transaction). Money is `Decimal` in the events (the library's
  `DecimalAsStr` transcoding), dates go through a `DateAsISO` transcoding registered here.
  The library's repository keeps no cache (its default).
- **q2c**: `server.py` started as in bench/lifecycle.py (a fresh database, Ray with --shards
  shards and 2 CPUs, bearer tokens from a development key made for the run; --runtime local
  adds server.py --local), driven through one blocking grpcio channel shared by the C threads;
  approvals under a second principal. Every command asks for its reply in the view given by
  --view (EngagementView for the engagement's commands, InvoiceView for GenerateInvoice,
  IssueInvoice and RecordPayment): basic by default (the engagement's summary, the invoice
  without its lines; the eventsourcing side returns the invoice id and the amount due), full
  for the whole engagement or invoice, as callers that do not ask get it. --db postgresql
  moves q2c to PostgreSQL; eventsourcing stays on SQLite. q2c's SQLite runs with
  --sqlite-synchronous (server.py before a9c108b has no such flag and runs NORMAL: recorded in
  the result line, and warned about).

- **floor** (`--systems eventsourcing,floor`, or with q2c): the same client, requests and tokens
  against gRPC servers that answer every call at once with an empty reply (bench/grpc_floor.py:
  grpc.aio, as q2c's gateway, then grpc's thread-pool server). What they reach is the most any
  Python gRPC service could reach on this machine, one RPC per command, with this client beside
  it; there is no total to check. Recorded as `grpc_floor` with its ratio to the library.

The eventsourcing phases run first, before the server starts (no Ray in the background), then
the q2c phases, each client count on new engagements. The inputs (roles, hours, expense
amounts) are generated from --seed, the same for both systems. The expected total is computed
from those inputs alone: per time entry hours x rate rounded half up to the cent, plus the
expenses, in integer cents (no tax: the customer's tax profile has rate 0; no markup). After
each phase every invoice is read back (q2c: GetInvoice; eventsourcing: a second Application on
the same file, so from disk) and must be PAID, with the sum of totals and of payments equal to
the expected total; any difference or any failed command fails the run (exit 1).

One JSON line per client count is appended to bench/results/compare.jsonl.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import shlex
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import JSONTranscoder, Transcoding
from prometheus_client.parser import text_string_to_metric_families

from bench.lifecycle import (
    ROOT,
    cpu_by_process,
    cpu_by_thread,
    cpu_delta,
    cpu_seconds,
    cpu_split,
    database_cpu_seconds,
    fresh_database,
    machine,
    percentile,
    running_server,
)

RESULTS = Path(__file__).resolve().parent / "results" / "compare.jsonl"
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432"
CENT = Decimal("0.01")
RATES = {"engineer": Decimal("165"), "architect": Decimal("233.333")}
"""The rate card of both systems (a sub-cent rate, so that per-line rounding matters)."""
CAP = Decimal("500000")
PERIOD = "2026-01"
PERIOD_START, PERIOD_END = date(2026, 1, 1), date(2026, 1, 31)
HOURS = ("7.5", "8", "6.25", "4.75", "9", "3.5", "5.25", "2")
KINDS = [
    "CreateEngagement",
    "QualifyEngagement",
    "CloseWonEngagement",
    "ApproveContract",
    "ActivateEngagement",
    "SubmitTimeEntries",
    "ApproveTimeEntries",
    "SubmitExpenses",
    "ApproveExpenses",
    "GenerateInvoice",
    "IssueInvoice",
    "RecordPayment",
]
COMMANDS_PER_ENGAGEMENT = len(KINDS) + 3  # SubmitTimeEntries is sent 4 times
SUBMITTER, APPROVER = "bench", "bench-approver"


# -- the workload and its oracle ----------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    entry_id: str
    person: str
    role: str
    work_date: date
    hours: str


@dataclass(frozen=True)
class Plan:
    """The generated inputs of one engagement."""

    n: int
    batches: tuple[tuple[Entry, ...], ...]  # 4 submissions of 5 entries
    expenses: tuple[tuple[str, str], ...]  # (expense_id, amount)


def plans(seed: int, phase: str, count: int) -> list[Plan]:
    """`count` engagements' inputs, reproducible from (seed, phase)."""
    out = []
    for n in range(count):
        rng = random.Random(f"{seed}:{phase}:{n}")
        entries = [
            Entry(
                entry_id=f"t{i}",
                person=f"p{i % 4}",
                role=rng.choice(sorted(RATES)),
                work_date=date(2026, 1, 2) + timedelta(days=i),
                hours=rng.choice(HOURS),
            )
            for i in range(20)
        ]
        batches = tuple(tuple(entries[i : i + 5]) for i in range(0, 20, 5))
        expenses = tuple((f"x{i}", f"{rng.randint(1000, 99999) / 100:.2f}") for i in range(2))
        out.append(Plan(n=n, batches=batches, expenses=expenses))
    return out


def expected_cents(work: list[Plan]) -> int:
    """The oracle: sum of the invoice totals from the inputs alone, in integer cents."""
    total = 0
    for plan in work:
        for batch in plan.batches:
            for e in batch:
                line = (Decimal(e.hours) * RATES[e.role]).quantize(CENT, rounding=ROUND_HALF_UP)
                total += int(line * 100)
        total += sum(int(Decimal(amount) * 100) for _, amount in plan.expenses)
    return total


def cents(amount: str | Decimal) -> int:
    """An amount in integer cents; a fraction of a cent is an error."""
    value = Decimal(amount) * 100
    if value != value.to_integral_value():
        raise ValueError(f"not a whole number of cents: {amount}")
    return int(value)


# -- measuring ----------------------------------------------------------------------------------


@dataclass
class Tally:
    """Latencies per command kind, errors, and the invoices created."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: list[str] = field(default_factory=list)
    invoices: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def merge(self, other: Tally) -> None:
        with self.lock:
            for kind, values in other.latencies.items():
                self.latencies[kind].extend(values)
            self.errors.extend(other.errors)
            self.invoices.extend(other.invoices)


def timed(tally: Tally, kind: str, call: Callable[[], Any]) -> Any:
    start = time.perf_counter()
    result = call()
    tally.latencies[kind].append(time.perf_counter() - start)
    return result


def drive(lifecycle: Callable[[Plan, Tally], str], work: list[Plan], clients: int) -> tuple[Tally, float]:
    """Run `work` on `clients` threads (each its share, in order); (tally, wall seconds)."""
    shares = [work[i::clients] for i in range(clients)]
    total = Tally()

    def client(share: list[Plan]) -> None:
        mine = Tally()
        for plan in share:
            try:
                mine.invoices.append(lifecycle(plan, mine))
            except Exception as error:  # recorded, and fails the run
                mine.errors.append(f"{type(error).__name__}: {error}"[:300])
        total.merge(mine)

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        list(pool.map(client, [s for s in shares if s]))
    return total, time.perf_counter() - start


def summarize(tally: Tally, wall: float) -> dict[str, Any]:
    everything = sorted(v for values in tally.latencies.values() for v in values)
    ms = lambda v: round(v * 1000, 2)  # noqa: E731
    per_kind = {}
    for kind in KINDS:
        values = sorted(tally.latencies.get(kind, []))
        if values:
            per_kind[kind] = {"p50_ms": ms(percentile(values, 50)), "p99_ms": ms(percentile(values, 99))}
    return {
        "commands": len(everything),
        "wall_s": round(wall, 3),
        "commands_per_s": round(len(everything) / wall, 1),
        "p50_ms": ms(percentile(everything, 50)),
        "p95_ms": ms(percentile(everything, 95)),
        "p99_ms": ms(percentile(everything, 99)),
        "errors": len(tally.errors),
        "error_samples": sorted(set(tally.errors))[:5],
        "per_command": per_kind,
    }


# -- the eventsourcing side ---------------------------------------------------------------------


class DateAsISO(Transcoding):
    """Dates in events as ISO strings."""

    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class Engagement(Aggregate):
    """One engagement: the same states and checks the mix exercises in q2c."""

    @event("Created")
    def __init__(self, customer_id: str, display_name: str, request_id: str) -> None:
        self.customer_id = customer_id
        self.display_name = display_name
        self.state = "DRAFT"
        self.contract: dict[str, Any] = {}
        self.entries: dict[str, dict[str, Any]] = {}
        self.expenses: dict[str, dict[str, Any]] = {}
        self.invoices: dict[str, dict[str, Any]] = {}
        self.request_ids = [request_id]

    def _require(self, *states: str) -> None:
        if self.state not in states:
            raise ValueError(f"INVALID_STATE: {self.state}, expected {'/'.join(states)}")

    def qualify(self, request_id: str) -> None:
        self._require("DRAFT")
        self._moved("QUALIFIED", request_id)

    def close_won(self, request_id: str) -> None:
        self._require("QUALIFIED")
        self._moved("WON", request_id)

    def activate(self, project_template_id: str, request_id: str) -> None:
        self._require("CONTRACTED")
        if not project_template_id:
            raise ValueError("a project template is required")
        self._moved("ACTIVE", request_id)

    @event("Moved")
    def _moved(self, state: str, request_id: str) -> None:
        self.state = state
        self.request_ids.append(request_id)

    def approve_contract(
        self, currency: str, start: date, end: date, rates: dict[str, Decimal], cap: Decimal, request_id: str
    ) -> None:
        self._require("WON")
        if end < start or not rates or cap <= 0:
            raise ValueError("invalid contract")
        self._contract_approved(currency, start, end, rates, cap, request_id)

    @event("ContractApproved")
    def _contract_approved(
        self, currency: str, start: date, end: date, rates: dict[str, Decimal], cap: Decimal, request_id: str
    ) -> None:
        self.contract = {"currency": currency, "start": start, "end": end, "rates": rates, "cap": cap}
        self.state = "CONTRACTED"
        self.request_ids.append(request_id)

    def submit_time(self, entries: list[dict[str, Any]], principal: str, request_id: str) -> None:
        self._require("ACTIVE")
        day: dict[tuple[str, date], Decimal] = defaultdict(Decimal)
        for e in self.entries.values():
            day[(e["person"], e["work_date"])] += e["hours"]
        for e in entries:
            hours = e["hours"]
            if e["entry_id"] in self.entries or not Decimal(0) < hours <= 24 or hours != round(hours, 2):
                raise ValueError(f"invalid time entry {e['entry_id']}")
            if e["role"] not in self.contract["rates"]:
                raise ValueError(f"no rate for {e['role']}")
            if not self.contract["start"] <= e["work_date"] <= self.contract["end"]:
                raise ValueError(f"{e['work_date']} is outside the contract")
            day[(e["person"], e["work_date"])] += hours
            if day[(e["person"], e["work_date"])] > 24:
                raise ValueError(f"{e['person']} would have more than 24 hours on {e['work_date']}")
        self._time_submitted(entries, principal, request_id)

    @event("TimeSubmitted")
    def _time_submitted(self, entries: list[dict[str, Any]], principal: str, request_id: str) -> None:
        for e in entries:
            self.entries[e["entry_id"]] = {**e, "status": "SUBMITTED", "submitted_by": principal}
        self.request_ids.append(request_id)

    def approve_time(self, entry_ids: list[str], principal: str, request_id: str) -> None:
        self._approvable(self.entries, entry_ids, principal)
        self._time_approved(entry_ids, request_id)

    @event("TimeApproved")
    def _time_approved(self, entry_ids: list[str], request_id: str) -> None:
        for i in entry_ids:
            self.entries[i]["status"] = "APPROVED"
        self.request_ids.append(request_id)

    def submit_expenses(self, expenses: list[dict[str, Any]], principal: str, request_id: str) -> None:
        self._require("ACTIVE")
        for x in expenses:
            if x["expense_id"] in self.expenses or x["amount"] <= 0 or x["amount"] != round(x["amount"], 2):
                raise ValueError(f"invalid expense {x['expense_id']}")
        self._expenses_submitted(expenses, principal, request_id)

    @event("ExpensesSubmitted")
    def _expenses_submitted(self, expenses: list[dict[str, Any]], principal: str, request_id: str) -> None:
        for x in expenses:
            self.expenses[x["expense_id"]] = {**x, "status": "SUBMITTED", "submitted_by": principal}
        self.request_ids.append(request_id)

    def approve_expenses(self, expense_ids: list[str], principal: str, request_id: str) -> None:
        self._approvable(self.expenses, expense_ids, principal)
        self._expenses_approved(expense_ids, request_id)

    @event("ExpensesApproved")
    def _expenses_approved(self, expense_ids: list[str], request_id: str) -> None:
        for i in expense_ids:
            self.expenses[i]["status"] = "APPROVED"
        self.request_ids.append(request_id)

    def _approvable(self, items: dict[str, dict[str, Any]], ids: list[str], principal: str) -> None:
        self._require("ACTIVE")
        for i in ids:
            item = items.get(i)
            if item is None or item["status"] != "SUBMITTED":
                raise ValueError(f"{i} is not awaiting approval")
            if item["submitted_by"] == principal:
                raise PermissionError(f"SELF_APPROVAL: {principal} submitted {i}")

    def generate_invoice(self, start: date, end: date, request_id: str) -> str:
        """Approved, unbilled time (hours x rate, each line rounded half up) and expenses."""
        self._require("ACTIVE")
        if any(
            i["state"] != "VOID" and i["start"] <= end and start <= i["end"] for i in self.invoices.values()
        ):
            raise ValueError("PERIOD_ALREADY_INVOICED")
        lines: list[tuple[str, Decimal]] = []
        billed = sum((i["time_total"] for i in self.invoices.values() if i["state"] != "VOID"), Decimal(0))
        for e in sorted(self.entries.values(), key=lambda e: (e["work_date"], e["entry_id"])):
            if e["status"] == "APPROVED" and e["work_date"] <= end:
                rate = self.contract["rates"][e["role"]]
                amount = (e["hours"] * rate).quantize(CENT, rounding=ROUND_HALF_UP)
                if billed + amount > self.contract["cap"]:
                    raise ValueError("NOT_TO_EXCEED_CAP")
                billed += amount
                lines.append((e["entry_id"], amount))
        time_lines = len(lines)
        for x in sorted(self.expenses.values(), key=lambda x: x["expense_id"]):
            if x["status"] == "APPROVED":
                lines.append((x["expense_id"], x["amount"].quantize(CENT, rounding=ROUND_HALF_UP)))
        if not lines:
            raise ValueError("NOTHING_TO_BILL")
        invoice_id = f"{self.id}.inv.{len(self.invoices) + 1}"
        self._invoice_generated(invoice_id, start, end, lines, time_lines, request_id)
        return invoice_id

    @event("InvoiceGenerated")
    def _invoice_generated(
        self,
        invoice_id: str,
        start: date,
        end: date,
        lines: list[tuple[str, Decimal]],
        time_lines: int,
        request_id: str,
    ) -> None:
        amounts = [Decimal(amount) for _, amount in lines]
        self.invoices[invoice_id] = {
            "start": start,
            "end": end,
            "lines": lines,
            "time_total": sum(amounts[:time_lines], Decimal(0)),
            "total": sum(amounts, Decimal(0)),
            "paid": Decimal(0),
            "state": "DRAFT",
        }
        for item_id, _ in lines:
            (self.entries if item_id in self.entries else self.expenses)[item_id]["status"] = "BILLED"
        self.request_ids.append(request_id)

    def issue_invoice(self, invoice_id: str, request_id: str) -> Decimal:
        invoice = self.invoices[invoice_id]
        if invoice["state"] != "DRAFT" or invoice["total"] <= 0:
            raise ValueError(f"cannot issue invoice {invoice_id} in {invoice['state']}")
        self._invoice_issued(invoice_id, request_id)
        return Decimal(invoice["total"] - invoice["paid"])

    @event("InvoiceIssued")
    def _invoice_issued(self, invoice_id: str, request_id: str) -> None:
        self.invoices[invoice_id]["state"] = "ISSUED"
        self.request_ids.append(request_id)

    def record_payment(self, invoice_id: str, amount: Decimal, received: date, request_id: str) -> None:
        invoice = self.invoices[invoice_id]
        if invoice["state"] not in ("ISSUED", "PARTIALLY_PAID"):
            raise ValueError(f"cannot pay invoice {invoice_id} in {invoice['state']}")
        if not Decimal(0) < amount <= invoice["total"] - invoice["paid"]:
            raise ValueError("OVERPAYMENT")
        self._payment_recorded(invoice_id, amount, received, request_id)

    @event("PaymentRecorded")
    def _payment_recorded(self, invoice_id: str, amount: Decimal, received: date, request_id: str) -> None:
        invoice = self.invoices[invoice_id]
        invoice["paid"] += amount
        invoice["state"] = "PAID" if invoice["paid"] == invoice["total"] else "PARTIALLY_PAID"
        self.request_ids.append(request_id)


class Engagements(Application[uuid.UUID]):
    """Each command: load the aggregate, call one method, save its new event."""

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())

    def create(self, customer_id: str, display_name: str, request_id: str) -> uuid.UUID:
        engagement = Engagement(customer_id, display_name, request_id)
        self.save(engagement)
        return engagement.id

    def command(self, engagement_id: uuid.UUID, method: str, *args: Any) -> Any:
        engagement = self.repository.get(engagement_id)
        result = getattr(engagement, method)(*args)
        self.save(engagement)
        return result


SYNCHRONOUS_SEEN: set[int] = set()
"""PRAGMA synchronous read back from every connection the library opened (2 = FULL, 1 = NORMAL)."""


@contextlib.contextmanager
def sqlite_synchronous(mode: str) -> Iterator[None]:
    """Every SQLite connection eventsourcing opens meanwhile gets PRAGMA synchronous=mode."""
    from eventsourcing.sqlite import SQLiteConnectionPool

    original = SQLiteConnectionPool._create_connection

    def create(pool: Any) -> Any:
        connection = original(pool)
        cursor = connection._sqlite_conn.cursor()
        cursor.execute(f"PRAGMA synchronous={mode.upper()}")
        SYNCHRONOUS_SEEN.add(cursor.execute("PRAGMA synchronous").fetchone()[0])
        cursor.close()
        return connection

    SQLiteConnectionPool._create_connection = create  # type: ignore[method-assign]
    try:
        yield
    finally:
        SQLiteConnectionPool._create_connection = original  # type: ignore[method-assign]


class EsDriver:
    """The mix against an eventsourcing Application on a SQLite file, in this process."""

    def __init__(self, path: Path) -> None:
        self.app_class = Engagements
        self.env = {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(path),
            "SQLITE_LOCK_TIMEOUT": "30",
        }
        self.app = self.app_class(env=self.env)
        self.rates = dict(RATES)

    def lifecycle(self, plan: Plan, tally: Tally) -> str:
        app, rid = self.app, lambda: uuid.uuid4().hex
        eid = timed(tally, "CreateEngagement", lambda: app.create("cust-1", f"Engagement {plan.n}", rid()))
        timed(tally, "QualifyEngagement", lambda: app.command(eid, "qualify", rid()))
        timed(tally, "CloseWonEngagement", lambda: app.command(eid, "close_won", rid()))
        timed(
            tally,
            "ApproveContract",
            lambda: app.command(
                eid, "approve_contract", "USD", PERIOD_START, date(2026, 12, 31), self.rates, CAP, rid()
            ),
        )
        timed(tally, "ActivateEngagement", lambda: app.command(eid, "activate", "tpl", rid()))
        for batch in plan.batches:
            entries = [
                {
                    "entry_id": e.entry_id,
                    "billing_line_id": "tm",
                    "person": e.person,
                    "role": e.role,
                    "work_date": e.work_date,
                    "hours": Decimal(e.hours),
                }
                for e in batch
            ]
            timed(
                tally,
                "SubmitTimeEntries",
                lambda entries=entries: app.command(eid, "submit_time", entries, SUBMITTER, rid()),
            )
        ids = [e.entry_id for batch in plan.batches for e in batch]
        timed(tally, "ApproveTimeEntries", lambda: app.command(eid, "approve_time", ids, APPROVER, rid()))
        expenses = [
            {"expense_id": x, "billing_line_id": "ex", "category": "travel", "amount": Decimal(a)}
            for x, a in plan.expenses
        ]
        timed(
            tally, "SubmitExpenses", lambda: app.command(eid, "submit_expenses", expenses, SUBMITTER, rid())
        )
        xids = [x for x, _ in plan.expenses]
        timed(tally, "ApproveExpenses", lambda: app.command(eid, "approve_expenses", xids, APPROVER, rid()))
        invoice_id = timed(
            tally,
            "GenerateInvoice",
            lambda: app.command(eid, "generate_invoice", PERIOD_START, PERIOD_END, rid()),
        )
        due = timed(tally, "IssueInvoice", lambda: app.command(eid, "issue_invoice", invoice_id, rid()))
        timed(
            tally,
            "RecordPayment",
            lambda: app.command(eid, "record_payment", invoice_id, due, date(2026, 2, 20), rid()),
        )
        return str(invoice_id)

    def verify(self, invoice_ids: list[str]) -> dict[str, Any]:
        """Read every invoice back through a second Application on the same file (no cache)."""
        reader = self.app_class(env=self.env)
        try:
            total = paid = 0
            unpaid = []
            for invoice_id in invoice_ids:
                engagement = reader.repository.get(uuid.UUID(invoice_id.split(".", 1)[0]))
                invoice = engagement.invoices[invoice_id]
                total += cents(invoice["total"])
                paid += cents(invoice["paid"])
                if invoice["state"] != "PAID":
                    unpaid.append(invoice_id)
            return {
                "invoices": len(invoice_ids),
                "total_cents": total,
                "paid_cents": paid,
                "not_paid": unpaid,
            }
        finally:
            reader.close()

    def close(self) -> None:
        self.app.close()


# -- the q2c side -------------------------------------------------------------------------------


class Q2cDriver:
    """The mix through gRPC: one blocking channel shared by every client thread."""

    def __init__(self, target: str, deadline: float, tenant: str, key: Any, view: str = "basic") -> None:
        import grpc

        from q2c.v1 import (
            billing_pb2,
            billing_pb2_grpc,
            customer_pb2_grpc,
            engagement_pb2,
            engagement_pb2_grpc,
            rate_card_pb2_grpc,
        )

        self.views = {  # the view of every method that returns an Engagement or an Invoice
            enum.full_name: enum.values_by_name[f"{prefix}_VIEW_{view.upper()}"].number
            for prefix, enum in (
                ("ENGAGEMENT", engagement_pb2.EngagementView.DESCRIPTOR),
                ("INVOICE", billing_pb2.InvoiceView.DESCRIPTOR),
            )
        }

        self.channel = grpc.insecure_channel(target)
        self.engagements = engagement_pb2_grpc.EngagementServiceStub(self.channel)
        self.billing = billing_pb2_grpc.BillingServiceStub(self.channel)
        self.customers = customer_pb2_grpc.CustomerServiceStub(self.channel)
        self.rate_cards = rate_card_pb2_grpc.RateCardServiceStub(self.channel)
        self.deadline = deadline
        correlation = ("x-correlation-id", uuid.uuid4().hex)
        self.metadata = [("authorization", f"Bearer {key.mint(tenant, SUBMITTER)}"), correlation]
        self.approver = [("authorization", f"Bearer {key.mint(tenant, APPROVER)}"), correlation]
        self.customer_id = ""
        self.rate_card_id = ""

    def setup(self) -> None:
        """One customer (tax rate 0) and one rate card with RATES (not timed)."""
        from q2c.v1 import customer_pb2, rate_card_pb2

        customer = self.customers.CreateCustomer(
            customer_pb2.CreateCustomerRequest(
                request_id=uuid.uuid4().hex,
                customer=customer_pb2.Customer(
                    display_name="Acme",
                    legal_entity="Acme Ltd",
                    billing_currency="USD",
                    service_line="Cloud",
                    status=customer_pb2.CUSTOMER_STATUS_ACTIVE,
                    tax_profile=customer_pb2.TaxProfile(jurisdiction="US-OR", rate="0"),
                ),
            ),
            metadata=self.metadata,
            timeout=self.deadline,
        )
        card = self.rate_cards.CreateRateCard(
            rate_card_pb2.CreateRateCardRequest(
                request_id=uuid.uuid4().hex,
                rate_card=rate_card_pb2.RateCard(
                    currency_code="USD",
                    effective_from=pb_date(PERIOD_START),
                    rates=[
                        rate_card_pb2.RoleRate(role=role, hourly_rate=usd(str(rate)))
                        for role, rate in sorted(RATES.items())
                    ],
                ),
            ),
            metadata=self.metadata,
            timeout=self.deadline,
        )
        self.customer_id, self.rate_card_id = customer.customer_id, card.rate_card_id

    def lifecycle(self, plan: Plan, tally: Tally) -> str:
        from q2c.v1 import billing_pb2, common_pb2
        from q2c.v1 import engagement_pb2 as pb

        def call(stub: Any, kind: str, request: Any, approver: bool = False) -> Any:
            method = getattr(stub, kind)
            metadata = self.approver if approver else self.metadata
            view = request.DESCRIPTOR.fields_by_name.get("view")
            if view is not None:
                request.view = self.views[view.enum_type.full_name]
            return timed(tally, kind, lambda: method(request, metadata=metadata, timeout=self.deadline))

        rid = lambda: uuid.uuid4().hex  # noqa: E731
        e = self.engagements
        eng = call(
            e,
            "CreateEngagement",
            pb.CreateEngagementRequest(
                request_id=rid(),
                customer_id=self.customer_id,
                display_name=f"Engagement {plan.n}",
                expected_start_date=pb_date(date(2026, 1, 2)),
            ),
        )
        eid = eng.engagement_id
        call(e, "QualifyEngagement", pb.QualifyEngagementRequest(request_id=rid(), engagement_id=eid))
        call(e, "CloseWonEngagement", pb.CloseWonEngagementRequest(request_id=rid(), engagement_id=eid))
        call(
            e,
            "ApproveContract",
            pb.ApproveContractRequest(
                request_id=rid(),
                engagement_id=eid,
                currency_code="USD",
                start_date=pb_date(PERIOD_START),
                end_date=pb_date(date(2026, 12, 31)),
                billing_lines=[
                    pb.BillingLine(
                        line_id="tm",
                        time_and_materials=pb.TimeAndMaterialsTerms(
                            rate_card_id=self.rate_card_id, not_to_exceed=usd(str(CAP))
                        ),
                    ),
                    pb.BillingLine(line_id="ex", pass_through_expenses=pb.ExpenseTerms(markup_percent="0")),
                ],
            ),
        )
        call(
            e,
            "ActivateEngagement",
            pb.ActivateEngagementRequest(request_id=rid(), engagement_id=eid, project_template_id="tpl"),
        )
        for batch in plan.batches:
            entries = [
                pb.TimeEntryInput(
                    entry_id=t.entry_id,
                    billing_line_id="tm",
                    person=t.person,
                    role=t.role,
                    work_date=pb_date(t.work_date),
                    hours=t.hours,
                )
                for t in batch
            ]
            call(
                e,
                "SubmitTimeEntries",
                pb.SubmitTimeEntriesRequest(request_id=rid(), engagement_id=eid, entries=entries),
            )
        ids = [t.entry_id for batch in plan.batches for t in batch]
        call(
            e,
            "ApproveTimeEntries",
            pb.ApproveTimeEntriesRequest(request_id=rid(), engagement_id=eid, entry_ids=ids),
            approver=True,
        )
        expenses = [
            pb.ExpenseInput(
                expense_id=x,
                billing_line_id="ex",
                category="travel",
                incurred_date=pb_date(date(2026, 1, 10)),
                amount=usd(a),
            )
            for x, a in plan.expenses
        ]
        call(
            e,
            "SubmitExpenses",
            pb.SubmitExpensesRequest(request_id=rid(), engagement_id=eid, expenses=expenses),
        )
        call(
            e,
            "ApproveExpenses",
            pb.ApproveExpensesRequest(
                request_id=rid(), engagement_id=eid, expense_ids=[x for x, _ in plan.expenses]
            ),
            approver=True,
        )
        invoice = call(
            e,
            "GenerateInvoice",
            pb.GenerateInvoiceRequest(
                request_id=rid(), engagement_id=eid, period=common_pb2.BillingPeriod(month=PERIOD)
            ),
        )
        issued = call(
            self.billing,
            "IssueInvoice",
            billing_pb2.IssueInvoiceRequest(request_id=rid(), invoice_id=invoice.invoice_id),
        )
        call(
            self.billing,
            "RecordPayment",
            billing_pb2.RecordPaymentRequest(
                request_id=rid(),
                invoice_id=invoice.invoice_id,
                amount=issued.balance_due,
                received_date=pb_date(date(2026, 2, 20)),
                reference=f"WIRE-{plan.n}",
            ),
        )
        return str(invoice.invoice_id)

    def verify(self, invoice_ids: list[str], threads: int) -> dict[str, Any]:
        """GetInvoice for every invoice: state, total and amount paid as stored by the server."""
        from q2c.v1 import billing_pb2

        def get(invoice_id: str) -> Any:
            return self.billing.GetInvoice(
                billing_pb2.GetInvoiceRequest(invoice_id=invoice_id),
                metadata=self.metadata,
                timeout=self.deadline,
            )

        with ThreadPoolExecutor(max_workers=max(1, min(threads, 8))) as pool:
            invoices = list(pool.map(get, invoice_ids))
        return {
            "invoices": len(invoices),
            "total_cents": sum(cents(i.total.amount) for i in invoices),
            "paid_cents": sum(cents(i.amount_paid.amount) for i in invoices),
            "not_paid": [i.invoice_id for i in invoices if i.state != billing_pb2.INVOICE_STATE_PAID],
        }

    def close(self) -> None:
        self.channel.close()


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def committed(metrics_port: int) -> tuple[float, float]:
    """(batches committed, commands in them) by every shard so far, from the server's /metrics
    (`q2c_batch_size`: commands per group-committed batch)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=30) as reply:
        text = reply.read().decode()
    count = total = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "q2c_batch_size_count":
                count += sample.value
            elif sample.name == "q2c_batch_size_sum":
                total += sample.value
    return count, total


def pb_date(value: date) -> Any:
    from google.type import date_pb2

    return date_pb2.Date(year=value.year, month=value.month, day=value.day)


def usd(amount: str) -> Any:
    from q2c.v1 import common_pb2

    return common_pb2.Money(currency_code="USD", amount=amount)


def server_flag(flag: str) -> bool:
    """Whether server.py knows `flag` (from its --help)."""
    result = subprocess.run(
        [sys.executable, "server.py", "--help"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    return flag in result.stdout


# -- one run ------------------------------------------------------------------------------------


def check(system: str, verified: dict[str, Any], expected: int, summary: dict[str, Any], n: int) -> list[str]:
    """Everything that makes a phase's result wrong, as messages (empty: right)."""
    problems = []
    if summary["errors"]:
        problems.append(f"{system}: {summary['errors']} engagements failed: {summary['error_samples']}")
    if verified["invoices"] != n:
        problems.append(f"{system}: {verified['invoices']} invoices, expected {n}")
    if verified["total_cents"] != expected:
        problems.append(f"{system}: invoice totals {verified['total_cents']} cents, expected {expected}")
    if verified["paid_cents"] != expected:
        problems.append(f"{system}: payments {verified['paid_cents']} cents, expected {expected}")
    if verified["not_paid"]:
        problems.append(
            f"{system}: {len(verified['not_paid'])} invoices not PAID: {verified['not_paid'][:3]}"
        )
    return problems


def run_es(args: argparse.Namespace, work: dict[int, list[Plan]], tmp: Path) -> dict[int, dict[str, Any]]:
    """Every client count against one eventsourcing database file."""
    out: dict[int, dict[str, Any]] = {}
    with sqlite_synchronous(args.sqlite_synchronous):
        driver = EsDriver(tmp / "eventsourcing.db")
        try:
            warm, _ = drive(
                driver.lifecycle, plans(args.seed, "warmup", args.warmup), min(args.warmup, 8) or 1
            )
            if warm.errors:
                raise SystemExit(f"eventsourcing warm-up failed: {warm.errors[:3]}")
            for clients in args.clients:
                cpu0 = time.process_time()
                tally, wall = drive(driver.lifecycle, work[clients], clients)
                cpu = time.process_time() - cpu0
                summary = summarize(tally, wall)
                verified = driver.verify(tally.invoices)
                summary["verified"] = {k: v for k, v in verified.items() if k != "not_paid"}
                summary["problems"] = check(
                    "eventsourcing", verified, expected_cents(work[clients]), summary, args.engagements
                )
                summary["cpu_ms_per_command"] = round(cpu * 1000 / max(summary["commands"], 1), 3)
                out[clients] = summary
                print(f"eventsourcing C={clients}: {summary['commands_per_s']} commands/s", file=sys.stderr)
        finally:
            driver.close()
    return {
        c: {**s, "sqlite_synchronous": sorted(SYNCHRONOUS_SEEN), "version": es_version()}
        for c, s in out.items()
    }


def es_version() -> str:
    from importlib.metadata import version

    return version("eventsourcing")


def run_q2c(args: argparse.Namespace, work: dict[int, list[Plan]], tmp: Path) -> dict[int, dict[str, Any]]:
    """Every client count against one q2c server on a fresh database."""
    from q2c_core.edge.auth.devkey import create_dev_key

    extra: list[str] = []
    synchronous = "n/a"
    if args.db == "sqlite":
        if server_flag("--sqlite-synchronous"):
            extra += ["--sqlite-synchronous", args.sqlite_synchronous]
            synchronous = args.sqlite_synchronous
        else:
            synchronous = "normal (server.py has no --sqlite-synchronous; hard-coded NORMAL)"
            print(f"WARNING: q2c runs with synchronous={synchronous}", file=sys.stderr)
    if args.runtime == "local":
        extra.append("--local")
    extra += args.server_arg
    metrics_port = free_port()
    extra += ["--metrics-port", str(metrics_port)]
    key = create_dev_key(tmp / "dev-key")
    out: dict[int, dict[str, Any]] = {}
    log_path = tmp / "server.log"
    with (
        fresh_database(args.db, args.pg_url) as url,
        running_server(url, args.shards, log_path, None, ["--dev-key-dir", str(key.directory), *extra]) as (
            target,
            server_pid,
        ),
    ):
        driver = Q2cDriver(target, args.deadline, f"bench-{uuid.uuid4().hex[:8]}", key, args.view)
        try:
            driver.setup()
            warm, _ = drive(
                driver.lifecycle, plans(args.seed, "warmup", args.warmup), min(args.warmup, 8) or 1
            )
            if warm.errors:
                raise SystemExit(f"q2c warm-up failed: {warm.errors[:3]}\n{log_path.read_text()[-3000:]}")
            for clients in args.clients:
                server0, client0 = cpu_by_process(server_pid), time.process_time()
                threads0, database0 = cpu_by_thread(server_pid), database_cpu_seconds()
                batches0 = committed(metrics_port)
                tally, wall = drive(driver.lifecycle, work[clients], clients)
                client_cpu = time.process_time() - client0
                server_cpu = cpu_delta(server0, cpu_by_process(server_pid))
                threads = cpu_delta(threads0, cpu_by_thread(server_pid))
                database_cpu = database_cpu_seconds() - database0
                batches = [now - then for now, then in zip(committed(metrics_port), batches0, strict=True)]
                summary = summarize(tally, wall)
                verified = driver.verify(tally.invoices, clients)
                summary["verified"] = {k: v for k, v in verified.items() if k != "not_paid"}
                summary["problems"] = check(
                    "q2c", verified, expected_cents(work[clients]), summary, args.engagements
                )
                commands = max(summary["commands"], 1)
                summary["cpu_ms_per_command"] = {
                    "client": round(client_cpu * 1000 / commands, 3),
                    "server_tree": round(sum(server_cpu.values()) * 1000 / commands, 3),
                    **cpu_split(server_cpu, commands),
                }
                if args.db == "postgresql":  # its processes are not in the server's tree
                    summary["cpu_ms_per_command"]["postgresql"] = round(database_cpu * 1000 / commands, 3)
                summary["cpu_ms_per_command_by_thread"] = {
                    name: round(secs * 1000 / commands, 3) for name, secs in list(threads.items())[:12]
                }
                summary["commands_per_commit"] = round(batches[1] / max(batches[0], 1), 2)
                summary["sqlite_synchronous"] = synchronous
                summary["view"] = args.view
                out[clients] = summary
                print(f"q2c C={clients}: {summary['commands_per_s']} commands/s", file=sys.stderr)
                if summary["problems"]:
                    print("server log tail:\n" + log_path.read_text()[-3000:], file=sys.stderr)
        finally:
            driver.close()
    return out


@contextlib.contextmanager
def floor_server(kind: str, log_path: Path) -> Iterator[tuple[str, int]]:
    """bench/grpc_floor.py (`kind`: aio or sync) on a free port; yields (target, pid)."""
    port = free_port()
    command = [sys.executable, "-m", "bench.grpc_floor", "--port", str(port), "--kind", kind]
    with log_path.open("w") as log:
        proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=log, text=True)
        try:
            assert proc.stdout is not None
            if not proc.stdout.readline().startswith("listening on"):
                raise SystemExit(f"grpc_floor did not start (exit {proc.poll()}): {log_path.read_text()}")
            yield f"127.0.0.1:{port}", proc.pid
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def run_floor(args: argparse.Namespace, work: dict[int, list[Plan]], tmp: Path) -> dict[int, dict[str, Any]]:
    """The same mix, requests and client against gRPC servers that do nothing (bench/grpc_floor.py):
    the most a Python gRPC service could reach here, one RPC per command. No total to check."""
    from q2c_core.edge.auth.devkey import create_dev_key

    key = create_dev_key(tmp / "floor-key")
    out: dict[int, dict[str, Any]] = {}
    for kind in ("aio", "sync"):
        with floor_server(kind, tmp / f"floor-{kind}.log") as (target, pid):
            driver = Q2cDriver(target, args.deadline, "floor", key, args.view)
            try:
                drive(driver.lifecycle, plans(args.seed, "warmup", args.warmup), min(args.warmup, 8) or 1)
                for clients in args.clients:
                    server0, client0 = cpu_seconds(pid), time.process_time()
                    tally, wall = drive(driver.lifecycle, work[clients], clients)
                    client_cpu, server_cpu = time.process_time() - client0, cpu_seconds(pid) - server0
                    summary = summarize(tally, wall)
                    commands = max(summary["commands"], 1)
                    summary["cpu_ms_per_command"] = {
                        "client": round(client_cpu * 1000 / commands, 3),
                        "server": round(server_cpu * 1000 / commands, 3),
                    }
                    summary["problems"] = (
                        [f"floor-{kind}: {summary['errors']} engagements failed: {summary['error_samples']}"]
                        if summary["errors"]
                        else []
                    )
                    out.setdefault(clients, {})[kind] = summary
                    rate = summary["commands_per_s"]
                    print(f"grpc floor ({kind}) C={clients}: {rate} commands/s", file=sys.stderr)
            finally:
                driver.close()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.compare",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--engagements", type=int, default=1000, help="N: engagements per client count")
    parser.add_argument("--clients", type=ints, default=[32], help="C: client threads; a list runs each")
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite", help="q2c's database")
    parser.add_argument("--pg-url", default=DEFAULT_PG, help="PostgreSQL server (no database name)")
    parser.add_argument("--shards", type=int, default=2)
    parser.add_argument(
        "--runtime",
        choices=("ray", "local"),
        default="ray",
        help="q2c's runtime: ray (shard actors, as bench/lifecycle.py) or local (server.py --local)",
    )
    parser.add_argument(
        "--sqlite-synchronous",
        choices=("full", "normal"),
        default="full",
        help="PRAGMA synchronous for eventsourcing and for q2c (server.py --sqlite-synchronous)",
    )
    parser.add_argument(
        "--view",
        choices=("basic", "full"),
        default="basic",
        help="q2c's replies: basic (an engagement's summary, an invoice without lines) or full (all of it)",
    )
    parser.add_argument("--seed", type=int, default=20261206, help="seed of the generated inputs")
    parser.add_argument("--warmup", type=int, default=4, help="untimed lifecycles per system first")
    parser.add_argument("--deadline", type=float, default=60.0, help="per-call deadline, seconds")
    parser.add_argument(
        "--systems",
        default="eventsourcing,q2c",
        help="which systems to run, of eventsourcing, q2c and floor (gRPC servers that do nothing)",
    )
    parser.add_argument(
        "--server-arg",
        action="append",
        default=[],
        help="one more server.py argument (repeatable), e.g. --server-arg=--metrics-port=9464",
    )
    args = parser.parse_args(argv)
    os.chdir(ROOT)
    sys.path.insert(0, str(ROOT))
    meta = machine()
    meta["command"] = shlex.join([os.path.basename(sys.executable), "-m", "bench.compare", *sys.argv[1:]])
    work = {c: plans(args.seed, f"C{c}", args.engagements) for c in args.clients}
    expected = {c: expected_cents(w) for c, w in work.items()}
    systems = set(args.systems.split(","))
    with tempfile.TemporaryDirectory(prefix="q2c-compare-") as tmpdir:
        tmp = Path(tmpdir)
        es = run_es(args, work, tmp) if "eventsourcing" in systems else {}
        q2c = run_q2c(args, work, tmp) if "q2c" in systems else {}
        floor = run_floor(args, work, tmp) if "floor" in systems else {}
    rows = []
    for clients in args.clients:
        a, b = q2c.get(clients), es.get(clients)
        record = {
            **meta,
            "db": args.db,
            "eventsourcing_db": "sqlite",
            "shards": args.shards,
            "runtime": args.runtime,
            "view": args.view,
            "engagements": args.engagements,
            "clients": clients,
            "commands_per_engagement": COMMANDS_PER_ENGAGEMENT,
            "seed": args.seed,
            "expected_total_cents": expected[clients],
            "q2c": a,
            "eventsourcing": b,
            "ratio_q2c_over_eventsourcing": (
                round(a["commands_per_s"] / b["commands_per_s"], 3) if a and b else None
            ),
            "ok": not any(s and s["problems"] for s in (a, b)),
        }
        if clients in floor:
            record["grpc_floor"] = {
                kind: {
                    **summary,
                    "ratio_over_eventsourcing": (
                        round(summary["commands_per_s"] / b["commands_per_s"], 3) if b else None
                    ),
                }
                for kind, summary in floor[clients].items()
            }
            record["ok"] = record["ok"] and not any(s["problems"] for s in floor[clients].values())
        rows.append(record)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    with RESULTS.open("a") as out:
        for record in rows:
            out.write(json.dumps(record, sort_keys=True) + "\n")
    print_table(rows)
    problems = [
        p
        for r in rows
        for s in (r["q2c"], r["eventsourcing"], *r.get("grpc_floor", {}).values())
        if s
        for p in s["problems"]
    ]
    if problems:
        print("\nFAILED: a result differs from the expected total or commands failed:", file=sys.stderr)
        for p in problems:
            print(f"  {p}", file=sys.stderr)
        return 1
    return 0


def print_table(rows: list[dict[str, Any]]) -> None:
    head = (
        f"{'system':<15}{'C':>4}{'N':>6}{'cmds':>7}{'cmds/s':>9}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'wall s':>8}{'errors':>7}  total"
    )
    print(head)
    print("-" * (len(head) + 10))
    for r in rows:
        for name in ("eventsourcing", "q2c"):
            s = r[name]
            if not s:
                continue
            verdict = "ok" if not s["problems"] else "WRONG"
            print(
                f"{name:<15}{r['clients']:>4}{r['engagements']:>6}{s['commands']:>7}{s['commands_per_s']:>9.1f}"
                f"{s['p50_ms']:>9.2f}{s['p99_ms']:>9.2f}{s['wall_s']:>8.2f}{s['errors']:>7}  {verdict}"
            )
        for kind, s in r.get("grpc_floor", {}).items():
            name = f"floor ({kind})"
            print(
                f"{name:<15}{r['clients']:>4}{r['engagements']:>6}{s['commands']:>7}{s['commands_per_s']:>9.1f}"
                f"{s['p50_ms']:>9.2f}{s['p99_ms']:>9.2f}{s['wall_s']:>8.2f}{s['errors']:>7}  "
                f"x{s['ratio_over_eventsourcing'] or 0:.3f} of es, CPU ms/cmd {s['cpu_ms_per_command']}"
            )
        if r["ratio_q2c_over_eventsourcing"] is not None:
            print(
                f"{'ratio q2c/es':<15}{r['clients']:>4}{'':>13}{r['ratio_q2c_over_eventsourcing']:>9.3f}"
                f"   expected total {r['expected_total_cents'] / 100:,.2f} USD"
            )
    for r in rows:
        print(f"\nC={r['clients']}: p50 / p99 ms per command   eventsourcing        q2c")
        for kind in KINDS:
            cells = []
            for name in ("eventsourcing", "q2c"):
                v = (r[name] or {}).get("per_command", {}).get(kind)
                cells.append(f"{v['p50_ms']:>8.2f} /{v['p99_ms']:>8.2f}" if v else f"{'-':>18}")
            print(f"  {kind:<22}{cells[0]}  {cells[1]}")


def ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


if __name__ == "__main__":
    sys.exit(main())
