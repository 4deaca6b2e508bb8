"""A host that hibernates after every commit answers and writes exactly as one that never does.

Two hosts over two in-memory stores seeded alike, with the same fixed clock, run the same random
command sequence (lifecycle, expenses and their review, milestones, invoices, payments, voids,
cancellation; in batches, some passing like a bill run's): one keeps its engagement live, the
other hibernates it after every commit (so every command decides on a thawed state) and evicts
what passing batches load. Every reply and, at the end, every stored engagement row, event and
audit record must be the same.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from q2c_core.app.catalog import Catalog, CustomerSpec
from q2c_core.app.host import EngagementHost
from q2c_core.app.messages import CommandEnvelope
from q2c_core.domain import billing_commands as bill
from q2c_core.domain import commands as cmd
from q2c_core.domain.money import Money
from q2c_core.domain.periods import BillingPeriod
from q2c_core.domain.reference import TaxProfile
from tests.fakes.memory_store import MemoryStore
from tests.host.helpers import (
    activate,
    approve_contract,
    caller,
    close_won,
    create,
    envelope,
    qualify,
    submit_expense,
)

TENANT = "tenant-hibernation"
ENGAGEMENT = "eng-hibernation"
INVOICE = f"{ENGAGEMENT}.inv.1"
NOW = datetime(2025, 6, 1, 12, tzinfo=UTC)


def _seeded() -> tuple[MemoryStore, str]:
    store = MemoryStore()
    spec = CustomerSpec(
        display_name="Acme",
        legal_entity="Acme Holdings LLC",
        billing_currency="USD",
        tax_profile=TaxProfile(jurisdiction="US-NY", rate=Decimal("0.08875")),
        service_line="erp",
    )
    customer = Catalog(store).create_customer(caller(TENANT), "seed-customer", spec)  # type: ignore[arg-type]
    return store, customer.customer_id


def _commands() -> st.SearchStrategy[Any]:
    march = BillingPeriod(start=date(2025, 3, 1), end=date(2025, 3, 31))
    return st.sampled_from(
        [
            create("bound-later"),
            qualify(),
            close_won(),
            approve_contract(),
            activate(),
            submit_expense("x1"),
            submit_expense("x2", "99.99"),
            cmd.ApproveExpenses(expense_ids=["x1"]),
            cmd.ApproveExpenses(expense_ids=["x2"]),
            cmd.RejectExpenses(expense_ids=["x2"], reason="no receipt"),
            cmd.CompleteMilestone(milestone_id="m1"),
            cmd.AcceptMilestone(milestone_id="m1"),
            bill.GenerateInvoice(period=march),
            bill.GenerateInvoice(period=march, bill_run_id="run-1"),
            bill.IssueInvoice(invoice_id=INVOICE),
            bill.RecordPayment(
                invoice_id=INVOICE, amount=Money.of("50", "USD"), received_date=date(2025, 6, 1)
            ),
            bill.VoidInvoice(invoice_id=INVOICE, reason="wrong period"),
            cmd.CompleteEngagement(),
            cmd.CancelEngagement(reason="budget cut"),
        ]
    )


HAPPY = [qualify(), close_won(), approve_contract(), activate()]
DELIVERY = [
    submit_expense("x1"),
    cmd.ApproveExpenses(expense_ids=["x1"]),
    cmd.CompleteMilestone(milestone_id="m1"),
    cmd.AcceptMilestone(milestone_id="m1"),
]


@st.composite
def scripts(draw: st.DrawFn) -> list[tuple[bool, list[Any]]]:
    """Batches of commands, each maybe passing; most runs walk the happy path and deliver first."""
    billing = st.sampled_from(
        [
            bill.GenerateInvoice(period=BillingPeriod(start=date(2025, 3, 1), end=date(2025, 3, 31))),
            bill.IssueInvoice(invoice_id=INVOICE),
            bill.RecordPayment(invoice_id=INVOICE, amount=Money.of("50", "USD"), received_date=NOW.date()),
        ]
    )
    commands = billing | _commands()
    batches = st.lists(commands, min_size=1, max_size=3)
    steps = draw(st.lists(st.tuples(st.booleans(), batches), min_size=1, max_size=16))
    prefix = draw(st.sampled_from([len(HAPPY)] * 4 + list(range(len(HAPPY)))))
    delivered = draw(st.sampled_from([len(DELIVERY)] * 3 + list(range(len(DELIVERY)))))
    walk = [*HAPPY[:prefix], *(DELIVERY[:delivered] if prefix == len(HAPPY) else [])]
    return [(False, ["create"]), *[(False, [c]) for c in walk], *steps]


def _bound(command: Any, customer_id: str) -> Any:
    if command == "create" or isinstance(command, cmd.CreateEngagement):
        return create(customer_id)
    return command


def _fixed(e: CommandEnvelope) -> CommandEnvelope:
    """The same correlation id on both sides (the builder draws a random one)."""
    return e.model_copy(update={"caller": e.caller.model_copy(update={"correlation_id": "corr"})})


async def _run(script: list[tuple[bool, list[Any]]], **residency: Any) -> tuple[list[Any], MemoryStore]:
    store, customer_id = _seeded()
    host = EngagementHost(store, clock=lambda: NOW, **residency)  # type: ignore[arg-type]
    replies: list[Any] = []
    try:
        for passing, batch in script:
            envelopes = [_fixed(envelope(TENANT, ENGAGEMENT, _bound(c, customer_id))) for c in batch]
            results = await host.submit_many(envelopes, passing=passing)
            replies.extend(r.model_dump(mode="json") for r in results)
    finally:
        await host.close()
    return replies, store


def _stored(store: MemoryStore) -> dict[str, Any]:
    row, tail = store.load_stream(TENANT, ENGAGEMENT)
    events = store.read_events(TENANT, ENGAGEMENT)
    audit = store.list_audit(TENANT, ENGAGEMENT, page_size=1000).items
    return {
        "row": None if row is None else (row.version, row.snapshot_at, row.snapshot, row.state),
        "tail": [e.seq for e in tail],
        "events": [(e.seq, e.event_type, e.payload) for e in events],
        "audit": [(a.seq, a.command_type, a.outcome, a.rejection_reason, a.hash) for a in audit],
    }


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(script=scripts())
def test_a_host_that_hibernates_after_every_commit_answers_and_writes_alike(
    script: list[tuple[bool, list[Any]]],
) -> None:
    live, live_store = asyncio.run(_run(script))
    cold, cold_store = asyncio.run(_run(script, hibernate_seconds=0, max_resident=0))

    assert cold == live
    assert _stored(cold_store) == _stored(live_store)
