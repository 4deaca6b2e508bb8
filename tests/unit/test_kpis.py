"""Business KPIs folded from stored events (q2c_core.app.kpis, kpi_report): exact durations,
Decimal amounts by currency, partial payments, periods, bill-run exception rates, paging."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from q2c_core.app.kpi_report import DurationSummary, KpiReport, KpiReports
from q2c_core.app.kpis import KPI_EVENT_TYPES, BillRunAttempt, KpiProjection, bill_run_of
from q2c_core.app.records import EventRecord, RateCardRow, StoredEvent, WriteBatch
from q2c_core.domain import commands as cmd
from q2c_core.domain import events as ev
from q2c_core.domain.money import Money
from q2c_core.domain.reference import RateCard
from tests.fakes.memory_store import MemoryStore

from .billing_builders import active, expenses, fixed, month, taxed, tm
from .builders import Driver, rate_card

TENANT = "t-kpi"
T0 = datetime(2025, 3, 1, 9, tzinfo=UTC)
MARCH = (datetime(2025, 3, 1, tzinfo=UTC), datetime(2025, 4, 1, tzinfo=UTC))
H = timedelta(hours=1)
D = timedelta(days=1)


@dataclass
class Book:
    """A tenant's journal: the stored events of several engagements, in position order."""

    events: list[StoredEvent] = field(default_factory=list)
    rate_cards: dict[str, list[RateCard]] = field(default_factory=dict)

    def add(self, engagement_id: str, event: ev.Event, at: datetime, request_id: str | None = None) -> None:
        seq = 1 + sum(1 for e in self.events if e.stream_id == engagement_id)
        self.events.append(
            StoredEvent(
                tenant_id=TENANT,
                stream_id=engagement_id,
                seq=seq,
                event_type=event.type,
                payload=ev.event_to_payload(event),
                principal="ops",
                correlation_id="c",
                request_id=request_id,
                occurred_at=at,
                position=len(self.events) + 1,
            )
        )

    def engagement(self, engagement_id: str, *lines: Any, at: datetime = T0, **kwargs: Any) -> Engagement:
        """An ACTIVE engagement: created at `at`, won 2 minutes later, activated 2 minutes after that."""
        driver = active(*lines, now=at, **kwargs)
        for event, when in driver.journal:
            self.add(engagement_id, event, when)
        self.rate_cards.update(driver.rate_cards)
        return Engagement(self, engagement_id, driver)

    def report(self, start: datetime = MARCH[0], end: datetime = MARCH[1], page_size: int = 3) -> KpiReport:
        """The KPIs read back through KpiReports from an in-memory store holding this journal."""
        store = MemoryStore()
        records = [EventRecord(**{k: getattr(e, k) for k in _RECORD_FIELDS}) for e in self.events]
        cards = [_card_row(card) for revisions in self.rate_cards.values() for card in revisions]
        store.commit(WriteBatch(events=records, rate_cards=cards))
        return KpiReports(store, page_size=page_size).report(TENANT, start, end)  # type: ignore[arg-type]


_RECORD_FIELDS = (
    "tenant_id",
    "stream_id",
    "seq",
    "event_type",
    "payload",
    "principal",
    "correlation_id",
    "request_id",
    "occurred_at",
)


def _card_row(card: RateCard) -> RateCardRow:
    return RateCardRow(
        tenant_id=TENANT,
        rate_card_id=card.rate_card_id,
        revision=card.revision,
        currency_code=card.currency,
        data=card.model_dump(mode="json"),
        create_time=card.create_time,
    )


@dataclass
class Engagement:
    """One engagement's driver, journalling every event into the book at the time given."""

    book: Book
    engagement_id: str
    driver: Driver

    def run(self, command: Any, at: datetime, request_id: str | None = None) -> list[ev.Event]:
        self.driver.now = at
        events = self.driver.run(command)
        for event in events:
            self.book.add(self.engagement_id, event, at, request_id)
        return events

    def work(self, entry_id: str, at: datetime, hours: str = "8", line: str = "tm") -> None:
        entry = cmd.TimeEntryInput(
            entry_id=entry_id,
            billing_line_id=line,
            person="ada",
            role="engineer",
            work_date=date(2025, 3, 3),
            hours=hours,
        )
        self.run(cmd.SubmitTimeEntries(entries=[entry]), at)
        self.run(cmd.ApproveTimeEntries(entry_ids=[entry_id]), at)

    def spend(self, expense_id: str, amount: str, at: datetime) -> None:
        item = cmd.ExpenseInput(
            expense_id=expense_id,
            billing_line_id="exp",
            category="travel",
            incurred_date=date(2025, 3, 3),
            amount=Money.of(amount, "USD"),
        )
        self.run(cmd.SubmitExpenses(expenses=[item]), at)
        self.run(cmd.ApproveExpenses(expense_ids=[expense_id]), at)

    def accept(self, milestone_id: str, at: datetime) -> None:
        self.run(cmd.CompleteMilestone(milestone_id=milestone_id), at)
        self.run(cmd.AcceptMilestone(milestone_id=milestone_id), at)

    def invoice(self, at: datetime, bill_run_id: str = "") -> str:
        request_id = f"billrun:{bill_run_id}:{self.engagement_id}" if bill_run_id else None
        events = self.run(
            cmd.GenerateInvoice(period=month("2025-03"), bill_run_id=bill_run_id), at, request_id
        )
        [generated] = [e for e in events if isinstance(e, ev.InvoiceGenerated)]
        return generated.invoice.invoice_id

    def pay(self, invoice_id: str, amount: str | None, at: datetime) -> None:
        due = self.driver.engagement.invoices[invoice_id].balance_due
        paid = Money.of(amount, due.currency) if amount else due
        self.run(cmd.RecordPayment(invoice_id=invoice_id, amount=paid, received_date=at.date()), at)


def usd(amount: str) -> Money:
    return Money.of(amount, "USD")


def mixed_work(book: Book, engagement_id: str = "eng-a") -> Engagement:
    """7.5 h at 133.333 approved at +1 h, a 100.05 expense (10 % markup) at +2 h, milestone m1
    (1000) accepted at +3 h."""
    engagement = book.engagement(engagement_id, tm(), expenses("10"), fixed(m1="1000"))
    engagement.work("t1", T0 + H, hours="7.5")
    engagement.spend("x1", "100.05", T0 + 2 * H)
    engagement.accept("m1", T0 + 3 * H)
    return engagement


# -- quote to activation ------------------------------------------------------------------------


def test_quote_to_activation_runs_from_close_won_to_project_activation() -> None:
    book = Book()
    book.engagement("eng-a", tm())  # won at T0 + 2 min, activated at T0 + 4 min

    kpis = book.report()

    assert kpis.quote_to_activation == DurationSummary(
        1, 2 * timedelta(minutes=1), *[timedelta(minutes=2)] * 3
    )


def test_an_engagement_counts_in_the_period_it_is_activated_in_with_its_whole_wait() -> None:
    book = Book()
    book.add("early", ev.EngagementWon(service_line="erp"), MARCH[0] - 10 * D)
    book.add("late", ev.EngagementWon(service_line="erp"), MARCH[1] - D)
    book.add("early", _activated(), MARCH[0] + 2 * D)  # won before March, activated in it
    book.add("late", _activated(), MARCH[1] + 3 * D)  # won in March, activated in April

    march, april = book.report(), book.report(MARCH[1], MARCH[1] + 30 * D)

    assert (march.quote_to_activation.count, march.quote_to_activation.total) == (1, 12 * D)
    assert (april.quote_to_activation.count, april.quote_to_activation.total) == (1, 4 * D)


def _activated() -> ev.EngagementActivated:
    return ev.EngagementActivated(start_date=date(2025, 3, 1), project_template_id="tpl", staffing_plan=[])


def test_a_cancelled_engagement_is_never_activated_and_its_unbilled_work_is_dropped() -> None:
    book = Book()
    engagement = book.engagement("eng-a", tm())
    engagement.work("t1", T0 + H)
    engagement.run(cmd.CancelEngagement(reason="lost"), T0 + 2 * H)
    book.add("eng-b", ev.EngagementWon(service_line="erp"), T0)
    book.add("eng-b", ev.EngagementCancelled(reason="lost"), T0 + H)

    kpis = book.report()

    assert kpis.quote_to_activation.count == 1  # eng-a only
    assert kpis.unbilled.amounts == [] and kpis.unbilled.unpriced_items == 0


# -- billing cycle and unbilled work --------------------------------------------------------------


def test_billing_cycle_is_timed_per_approved_item_to_the_issue_of_the_invoice_that_bills_it() -> None:
    book = Book()
    engagement = mixed_work(book)
    invoice_id = engagement.invoice(T0 + D)
    engagement.run(cmd.IssueInvoice(invoice_id=invoice_id), T0 + 2 * D)

    cycle = book.report().billing_cycle

    # t1 approved at +1 h, x1 at +2 h, m1 at +3 h; issued at +48 h
    assert cycle == DurationSummary(3, 138 * H, p50=46 * H, p90=47 * H, p99=47 * H)


def test_unbilled_work_is_priced_like_invoice_lines_exactly_in_each_currency() -> None:
    book = Book()
    mixed_work(book)
    eur = book.engagement(
        "eng-eur",
        tm(rate_card_id="rc-eur"),
        currency="EUR",
        rate_cards={
            "rc-eur": [
                rate_card(
                    date(2025, 1, 1), rate_card_id="rc-eur", currency="EUR", rates={"engineer": "133.333"}
                )
            ]
        },
    )
    eur.work("t1", T0 + H, hours="8")

    unbilled = book.report().unbilled

    # USD: 7.5 h x 133.333 = 999.9975 -> 1000.00; 100.05 x 1.10 = 110.055 -> 110.06; m1 1000.00
    # EUR: 8 h x 133.333 = 1066.664 -> 1066.66
    assert unbilled.amounts == [Money.of("1066.66", "EUR"), usd("2110.06")]
    assert [m.amount for m in unbilled.amounts] == [Decimal("1066.66"), Decimal("2110.06")]
    assert unbilled.unpriced_items == 0


def test_unbilled_is_as_of_the_period_end_and_a_voided_draft_releases_its_items() -> None:
    book = Book()
    engagement = mixed_work(book)
    first = engagement.invoice(T0 + D)
    engagement.run(cmd.VoidInvoice(invoice_id=first, reason="wrong rate"), T0 + 2 * D)
    engagement.work("t2", T0 + 2 * D + H)  # 8 h -> 1066.66, approved after the draft was voided

    def unbilled_at(end: datetime) -> list[Money]:
        return book.report(MARCH[0], end).unbilled.amounts

    assert unbilled_at(T0 + D) == [usd("2110.06")]  # generated exactly at the end: not yet
    assert unbilled_at(T0 + D + H) == []  # on the draft
    assert unbilled_at(T0 + 2 * D + 30 * timedelta(minutes=1)) == [usd("2110.06")]  # voided
    assert unbilled_at(MARCH[1]) == [usd("3176.72")]


def test_a_voided_draft_keeps_the_approval_time_and_a_reissued_item_is_timed_once() -> None:
    book = Book()
    engagement = book.engagement("eng-a", tm())
    engagement.work("t1", T0 + H)
    draft = engagement.invoice(T0 + D)
    engagement.run(cmd.VoidInvoice(invoice_id=draft, reason="typo"), T0 + 2 * D)
    second = engagement.invoice(T0 + 3 * D)
    engagement.run(cmd.IssueInvoice(invoice_id=second), T0 + 4 * D)
    engagement.run(cmd.VoidInvoice(invoice_id=second, reason="credit"), T0 + 5 * D)
    third = engagement.invoice(T0 + 6 * D)
    engagement.run(cmd.IssueInvoice(invoice_id=third), T0 + 7 * D)

    cycle = book.report().billing_cycle

    assert (cycle.count, cycle.total) == (1, 4 * D - H)


def test_hours_held_at_a_cap_are_not_unbilled_until_released_and_never_once_written_off() -> None:
    book = Book()
    engagement = book.engagement("eng-a", tm(cap=usd("500")))
    engagement.work("t1", T0 + H)  # 8 h x 133.333 = 1066.66 > the 500 cap
    events = engagement.run(cmd.GenerateInvoice(period=month("2025-03")), T0 + D)
    [raised] = [e for e in events if isinstance(e, ev.BusinessExceptionRaised)]
    held_until_release = book.report().unbilled.amounts
    exception_id = raised.exception.exception_id
    engagement.run(
        cmd.ResolveException(
            exception_id=exception_id, resolution_note="ok", resolution=cmd.Resolution.RELEASE
        ),
        T0 + 2 * D,
    )

    assert held_until_release == []
    assert book.report().unbilled.amounts == [usd("1066.66")]
    assert book.report().invoice_exceptions == 1  # NOT_TO_EXCEED_CAP, no bill run
    assert book.report().bill_runs == []


def test_time_without_a_rate_is_counted_as_unpriced_not_as_an_amount() -> None:
    book = Book()
    engagement = book.engagement("eng-a", tm(), expenses("10"))
    engagement.work("t1", T0 + H)
    engagement.spend("x1", "20", T0 + H)
    book.rate_cards.clear()  # the catalog no longer has rc-1

    unbilled = book.report().unbilled

    assert (unbilled.amounts, unbilled.unpriced_items) == ([usd("22.00")], 1)


# -- cash application --------------------------------------------------------------------------


def test_cash_application_ends_at_the_payment_that_settles_the_invoice() -> None:
    book = Book()
    engagement = mixed_work(book)
    invoice_id = engagement.invoice(T0 + D)
    engagement.run(cmd.IssueInvoice(invoice_id=invoice_id), T0 + 2 * D)
    engagement.pay(invoice_id, "100.00", T0 + 5 * D)
    partly = book.report().cash_application
    engagement.pay(invoice_id, None, T0 + 9 * D)  # the balance

    assert partly == DurationSummary()
    assert book.report().cash_application == DurationSummary(1, 7 * D, 7 * D, 7 * D, 7 * D)
    assert book.report(MARCH[0], T0 + 9 * D).cash_application.count == 0  # settled at the end: not in


def test_a_closed_engagement_leaves_nothing_open_in_the_projection() -> None:
    book = Book()
    engagement = mixed_work(book)
    invoice_id = engagement.invoice(T0 + D)
    engagement.run(cmd.IssueInvoice(invoice_id=invoice_id), T0 + 2 * D)
    engagement.run(cmd.CompleteEngagement(), T0 + 3 * D)
    projection = KpiProjection()
    for stored in book.events:
        projection.apply(stored)
    held_while_unpaid = projection.open_engagements
    engagement.pay(invoice_id, None, T0 + 4 * D)  # settles the last invoice: EngagementClosed

    projection.apply(book.events[-2])
    projection.apply(book.events[-1])

    assert book.events[-1].event_type == "EngagementClosed"
    assert (held_while_unpaid, projection.open_engagements) == (1, 0)


# -- invoice exceptions and bill runs ----------------------------------------------------------------


def test_invoice_exceptions_are_counted_with_a_rate_per_bill_run() -> None:
    book = Book()
    invoiced = book.engagement("eng-a", tm())
    invoiced.work("t1", T0 + H)
    parked = book.engagement("eng-b", tm(), po_reference="")
    parked.work("t1", T0 + H)
    parked.driver.customer = taxed(po_required=True)
    invoiced.invoice(T0 + D, bill_run_id="run-1")
    parked.run(
        cmd.GenerateInvoice(period=month("2025-03"), bill_run_id="run-1"), T0 + D, "billrun:run-1:eng-b"
    )  # MISSING_PO_REFERENCE: parked as a REVIEW exception
    capped = book.engagement("eng-c", tm(cap=usd("100")))
    capped.work("t1", T0 + H)
    capped.run(cmd.GenerateInvoice(period=month("2025-03")), T0 + D)  # NOT_TO_EXCEED_CAP, by hand

    kpis = book.report()

    assert kpis.invoice_exceptions == 2
    [run] = kpis.bill_runs
    assert (run.bill_run_id, run.invoices_attempted, run.exceptions) == ("run-1", 2, 1)
    assert run.exception_rate == Decimal("0.5")


def test_a_bill_run_attempt_is_one_command_however_many_events_it_wrote() -> None:
    projection = KpiProjection()
    book = Book()
    engagement = book.engagement("eng-a", tm(cap=usd("100")))
    engagement.work("t1", T0 + H)
    engagement.run(
        cmd.GenerateInvoice(period=month("2025-03"), bill_run_id="r:1"), T0 + D, "billrun:r:1:eng-a"
    )

    samples = [s for stored in book.events for s in projection.apply(stored)]

    assert [s for s in samples if isinstance(s, BillRunAttempt)] == [BillRunAttempt("r:1", "eng-a", T0 + D)]
    assert bill_run_of(book.events[-1]) == "r:1"  # held hours and the cap exception: one attempt


# -- summaries, reading, robustness ------------------------------------------------------------------


def test_percentiles_are_nearest_rank() -> None:
    seconds = [timedelta(seconds=s) for s in range(100, 0, -1)]
    assert DurationSummary.of(seconds) == DurationSummary(
        100, timedelta(seconds=5050), timedelta(seconds=50), timedelta(seconds=90), timedelta(seconds=99)
    )
    three = DurationSummary.of([timedelta(seconds=s) for s in (3, 1, 2)])
    assert (three.p50, three.p90, three.p99) == (
        timedelta(seconds=2),
        timedelta(seconds=3),
        timedelta(seconds=3),
    )
    assert DurationSummary.of([]) == DurationSummary()


def test_reading_in_pages_gives_the_same_report_as_one_read() -> None:
    book = Book()
    engagement = mixed_work(book)
    invoice_id = engagement.invoice(T0 + D, bill_run_id="run-1")
    engagement.run(cmd.IssueInvoice(invoice_id=invoice_id), T0 + 2 * D)

    assert book.report(page_size=1) == book.report(page_size=1000)


def test_an_unreadable_event_is_left_out_and_counted() -> None:
    book = Book()
    book.engagement("eng-a", tm())
    won = next(i for i, e in enumerate(book.events) if e.event_type == "EngagementWon")
    bad = book.events[won]
    book.events[won] = StoredEvent(**{**_fields(bad), "payload": {"type": "EngagementWon"}})

    kpis = book.report()

    assert (kpis.unreadable_events, kpis.quote_to_activation.count) == (1, 0)


def _fields(stored: StoredEvent) -> dict[str, Any]:
    return {name: getattr(stored, name) for name in (*_RECORD_FIELDS, "position")}


def test_only_the_followed_event_types_are_read() -> None:
    assert "EngagementCreated" not in KPI_EVENT_TYPES
    assert {"EngagementWon", "InvoiceIssued", "PaymentRecorded", "BusinessExceptionRaised"} <= set(
        KPI_EVENT_TYPES
    )
    assert set(KPI_EVENT_TYPES) <= {t.__name__ for t in _event_classes()}


def _event_classes() -> Iterable[type]:
    return (
        cls
        for cls in vars(ev).values()
        if isinstance(cls, type) and "type" in getattr(cls, "model_fields", {})
    )
