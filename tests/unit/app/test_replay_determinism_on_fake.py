"""The state the pipeline builds (without re-validating) is, to the byte, the state its journal
and its snapshot decode to: a month of time, expenses and an invoice through the host."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from q2c_core.app.catalog import Catalog, RateCardSpec
from q2c_core.app.decoding import decode_snapshot, fold_stored
from q2c_core.app.host import EngagementHost
from q2c_core.app.messages import CommandResult
from q2c_core.domain import commands as cmd
from q2c_core.domain.entities import BillingLine, ExpenseTerms, TimeAndMaterialsTerms
from q2c_core.domain.money import Money
from q2c_core.domain.periods import BillingPeriod
from tests.fakes.memory_store import MemoryStore
from tests.host.helpers import activate, caller, close_won, create, envelope, folded_journal, new_id, qualify

MARCH = BillingPeriod.month(2025, 3)


def _rate_card(store: MemoryStore, tenant_id: str) -> str:
    spec = RateCardSpec(
        currency="USD",
        effective_from=date(2025, 1, 1),
        rates={"engineer": Money.of("165", "USD"), "architect": Money.of("233.333", "USD")},
    )
    return Catalog(store).create_rate_card(caller(tenant_id), None, None, spec).rate_card_id  # type: ignore[arg-type]


def _month(card: str) -> list[Any]:
    lines = [
        BillingLine(
            line_id="tm",
            terms=TimeAndMaterialsTerms(rate_card_id=card, not_to_exceed=Money.of("9000", "USD")),
        ),
        BillingLine(line_id="exp", terms=ExpenseTerms(markup_percent=Decimal("2.5"))),
    ]
    contract = cmd.ApproveContract(
        currency="USD", start_date=date(2025, 2, 1), end_date=date(2025, 12, 31), billing_lines=lines
    )
    entries = [
        cmd.TimeEntryInput(
            entry_id=f"t{i}",
            billing_line_id="tm",
            person=f"p{i % 3}",
            role=("engineer", "architect")[i % 2],
            work_date=date(2025, 3, 1 + i),
            hours=Decimal(("7.5", "8", "6.25", "4.75")[i % 4]),
        )
        for i in range(12)
    ]
    expense = cmd.ExpenseInput(
        expense_id="x1",
        billing_line_id="exp",
        category="travel",
        incurred_date=date(2025, 3, 3),
        amount=Money.of("120.55", "USD"),
    )
    return [
        qualify(),
        close_won(),
        contract,
        activate(),
        cmd.SubmitTimeEntries(entries=entries[:6]),
        cmd.SubmitTimeEntries(entries=entries[6:]),
        cmd.ApproveTimeEntries(entry_ids=[e.entry_id for e in entries]),
        cmd.SubmitExpenses(expenses=[expense]),
        cmd.ApproveExpenses(expense_ids=["x1"]),
        cmd.GenerateInvoice(period=MARCH),
    ]


async def test_the_built_state_is_what_the_journal_and_the_snapshot_decode_to(
    host: EngagementHost, store: MemoryStore, tenant_id: str, customer_id: str
) -> None:
    eid = new_id("eng")
    results: list[CommandResult] = [await host.submit(envelope(tenant_id, eid, create(customer_id)))]
    for command in _month(_rate_card(store, tenant_id)):
        results.append(await host.submit(envelope(tenant_id, eid, command)))
    assert all(r.ok for r in results), [r.error for r in results if not r.ok]
    invoice_id = f"{eid}.inv.1"
    for command in (
        cmd.IssueInvoice(invoice_id=invoice_id),
        cmd.RecordPayment(
            invoice_id=invoice_id, amount=Money.of("10", "USD"), received_date=date(2025, 4, 2)
        ),
    ):
        results.append(await host.submit(envelope(tenant_id, eid, command)))
    built = results[-1].engagement
    assert built is not None and results[-1].ok

    journal = folded_journal(store, tenant_id, eid)  # type: ignore[arg-type]
    assert journal is not None
    assert built.model_dump(mode="json") == journal.model_dump(mode="json")
    assert built == journal
    row = store.get_engagement(tenant_id, eid)
    assert row is not None and row.snapshot is not None
    at_snapshot = [e for e in store.read_events(tenant_id, eid) if e.seq <= row.snapshot_at]
    folded = fold_stored(eid, at_snapshot, None)
    assert folded is not None and 1 < row.snapshot_at < built.version
    assert decode_snapshot(row).model_dump(mode="json") == folded.model_dump(mode="json")
    invoice = store.get_invoice(tenant_id, invoice_id)
    assert invoice is not None and invoice.data == built.invoices[invoice_id].model_dump(mode="json")
