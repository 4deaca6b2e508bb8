"""Property tests of the billing core: random engagements, random billing operations.

A hypothesis state machine sets up an engagement on random terms (currency, rates that change
mid-way, a cap, markup, milestones, an optional retainer and subscription, a tax rate), then mixes
delivery (time, expenses, milestones, approvals) with billing (GenerateInvoice for random months
and ranges, IssueInvoice, the ERP's RecordInvoicePosting, RecordPayment, VoidInvoice, cap
RELEASE / WRITE_OFF, completion).

After every step:
- no billable unit is on two live (non-void) invoices;
- every approved item is billed exactly once, or still pending (APPROVED / HELD_AT_CAP), or
  written off; every accepted milestone is billed once or pending;
- every invoice equals an independent recomputation from the source items (a reference written
  here from first principles, never from the invoice's own line amounts);
- every rounded amount is within half a minor unit of the exact amount and has exactly the
  currency's places;
- folding the journal reproduces the state, and every event round-trips through JSON.
"""

from __future__ import annotations

import calendar
import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from q2c_core.domain import commands as cmd
from q2c_core.domain import events as ev
from q2c_core.domain.context import DecisionContext
from q2c_core.domain.decide import decide
from q2c_core.domain.engagement import Engagement
from q2c_core.domain.entities import (
    BillingLine,
    EngagementState,
    ExpenseTerms,
    FixedFeeTerms,
    ItemStatus,
    MilestoneSpec,
    PeriodUnit,
    RetainerTerms,
    StaffingAssignment,
    SubscriptionTerms,
    TimeAndMaterialsTerms,
)
from q2c_core.domain.errors import PreconditionError, Q2cError
from q2c_core.domain.evolve import evolve, fold
from q2c_core.domain.invoices import OPEN_ISSUED, Invoice, InvoiceState, LineSource
from q2c_core.domain.lifecycle import Allowed, outcome
from q2c_core.domain.money import Money, minor_units
from q2c_core.domain.periods import BillingPeriod
from q2c_core.domain.reference import RateCard, TaxProfile

from .builders import CUSTOMER_ID, ENGAGEMENT_ID, customer, principal_for

S = EngagementState
CONTRACT_START = date(2025, 2, 1)
SPLIT = date(2025, 3, 16)  # rate card revision 2 applies from here
ROLES = ("engineer", "manager", "analyst")
RATES = ["133.333", "99.995", "150", "87.125", "0.5", "1234.5", "42.4242"]
HOURS = ["0.25", "0.5", "1", "1.5", "2.75", "7.5", "8"]
CAP_UNITS = {"JPY": 1, "USD": 1, "BHD": 1}
PERIOD_MONTHS = {PeriodUnit.MONTH: 1, PeriodUnit.QUARTER: 3, PeriodUnit.YEAR: 12}


# --- the reference: billing from first principles -------------------------------------------


def quantum(currency: str) -> Decimal:
    return Decimal(1).scaleb(-minor_units(currency))


def round_half_up(amount: Decimal, currency: str) -> Decimal:
    return amount.quantize(quantum(currency), rounding=ROUND_HALF_UP)


def shift_months(day: date, months: int) -> date:
    """Same day-of-month `months` later, clamped to the month's last day."""
    year, month0 = divmod(day.month - 1 + months, 12)
    year += day.year
    last = calendar.monthrange(year, month0 + 1)[1]
    return date(year, month0 + 1, min(day.day, last))


def last_of_month(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


@dataclass
class Terms:
    """What the engagement was sold on, as the test knows it."""

    currency: str
    rates: dict[str, tuple[Decimal, Decimal]]  # role -> (rate before SPLIT, rate from SPLIT)
    cap: Decimal | None
    markup: Decimal
    milestones: dict[str, Decimal]
    retainer: Decimal | None
    subscription: tuple[Decimal, PeriodUnit] | None
    tax_rate: Decimal
    exempt: bool
    activation: date
    contract_end: date | None

    def rate(self, role: str, day: date) -> Decimal:
        before, after = self.rates[role]
        return before if day < SPLIT else after


@dataclass
class Expected:
    """The reference invoice: exact and rounded amounts per billed unit, and the held entries."""

    exact: dict[tuple[str, str], Decimal] = field(default_factory=dict)
    rounded: dict[tuple[str, str], Decimal] = field(default_factory=dict)
    held: list[str] = field(default_factory=list)

    def add(self, source: LineSource, source_id: str, exact: Decimal, currency: str) -> None:
        self.exact[(source.value, source_id)] = exact
        self.rounded[(source.value, source_id)] = round_half_up(exact, currency)


# --- the machine ----------------------------------------------------------------------------


def money_strategy(low: str, high: str) -> st.SearchStrategy[Decimal]:
    return st.decimals(min_value=Decimal(low), max_value=Decimal(high), places=3, allow_nan=False)


class BillingMachine(RuleBasedStateMachine):
    """One engagement, random delivery and billing operations, billing invariants after each."""

    def __init__(self) -> None:
        super().__init__()
        self.state: Engagement | None = None
        self.journal: list[tuple[ev.Event, datetime]] = []
        self.now = datetime(2025, 2, 1, 9, tzinfo=UTC)
        self.terms: Terms
        self.rate_cards: dict[str, list[RateCard]] = {}
        self.customer = customer()
        self.entries: dict[str, cmd.TimeEntryInput] = {}
        self.expenses: dict[str, cmd.ExpenseInput] = {}
        self.approved_time: set[str] = set()
        self.approved_expenses: set[str] = set()
        self.accepted: set[str] = set()
        self.held: set[str] = set()
        self.written_off: set[str] = set()
        self.released: set[str] = set()
        self.completed_on: date | None = None
        self.counter = 0

    # --- plumbing -------------------------------------------------------------------------

    @property
    def engagement(self) -> Engagement:
        assert self.state is not None
        return self.state

    def attempt(self, command: Any) -> list[ev.Event] | Q2cError:
        ctx = DecisionContext(
            engagement_id=ENGAGEMENT_ID,
            principal=principal_for(command),
            now=self.now,
            customer=self.customer,
            rate_cards=self.rate_cards,
        )
        self.now += timedelta(minutes=5)
        try:
            events = decide(self.state, command, ctx)
        except Q2cError as error:
            return error
        for event in events:
            self.apply(event, ctx.now)
        return events

    def apply(self, event: Any, at: datetime) -> None:
        payload = json.loads(json.dumps(ev.event_to_payload(event)))
        assert ev.event_from_payload(payload) == event, f"{event.type} does not round-trip through JSON"
        self.state = evolve(self.state, event, at)
        self.journal.append((event, at))
        if isinstance(event, ev.TimeEntriesApproved):
            self.approved_time |= set(event.entry_ids)
        elif isinstance(event, ev.ExpensesApproved):
            self.approved_expenses |= set(event.expense_ids)
        elif isinstance(event, ev.MilestoneAccepted):
            self.accepted.add(event.milestone_id)
        elif isinstance(event, ev.TimeEntriesHeldAtCap):
            self.held |= set(event.entry_ids)
        elif isinstance(event, ev.TimeEntriesReleasedFromCap):
            self.held -= set(event.entry_ids)
            self.released |= set(event.entry_ids)
        elif isinstance(event, ev.TimeEntriesWrittenOff):
            self.held -= set(event.entry_ids)
            self.written_off |= set(event.entry_ids)
        elif isinstance(event, ev.EngagementCompleted):
            self.completed_on = at.date()

    def allows(self, kind: str) -> bool:
        return self.state is not None and isinstance(outcome(self.state.state, kind), Allowed)

    def live(self) -> list[Invoice]:
        return [i for i in self.engagement.invoices.values() if i.state is not InvoiceState.VOID]

    def live_units(self) -> dict[tuple[str, str], str]:
        units: dict[tuple[str, str], str] = {}
        for invoice in self.live():
            for line in invoice.lines:
                key = (line.source.value, line.source_id)
                assert key not in units, f"{key} is on {units.get(key)} and {invoice.invoice_id}"
                units[key] = invoice.invoice_id
        return units

    # --- the reference --------------------------------------------------------------------

    def until(self) -> date | None:
        ends = [d for d in (self.completed_on, self.terms.contract_end) if d is not None]
        return min(ends) if ends else None

    def expected(self, period: BillingPeriod) -> Expected:
        """What an invoice for the period must hold, computed from the source items."""
        terms, currency = self.terms, self.terms.currency
        billed = self.live_units()
        result = Expected()
        tm_billed = sum(
            (
                line.amount.amount
                for i in self.live()
                for line in i.lines
                if line.source is LineSource.TIME_ENTRY
            ),
            Decimal(0),
        )
        pending = sorted(
            (
                e
                for e in self.approved_time - self.held - self.written_off
                if ("TIME_ENTRY", e) not in billed and self.entries[e].work_date <= period.end
            ),
            key=lambda e: (self.entries[e].work_date, e),
        )
        for entry_id in pending:
            entry = self.entries[entry_id]
            exact = entry.hours * terms.rate(entry.role, entry.work_date)
            amount = round_half_up(exact, currency)
            if terms.cap is not None and entry_id not in self.released and tm_billed + amount > terms.cap:
                result.held.append(entry_id)
                continue
            tm_billed += amount
            result.add(LineSource.TIME_ENTRY, entry_id, exact, currency)
        for expense_id in self.approved_expenses:
            expense = self.expenses[expense_id]
            if ("EXPENSE", expense_id) not in billed and expense.incurred_date <= period.end:
                exact = expense.amount.amount * (1 + terms.markup / 100)
                result.add(LineSource.EXPENSE, expense_id, exact, currency)
        for milestone_id in self.accepted:
            if ("MILESTONE", milestone_id) not in billed:
                result.add(LineSource.MILESTONE, milestone_id, terms.milestones[milestone_id], currency)
        until = self.until()
        last = min(period.end, until) if until else period.end
        if terms.retainer is not None:
            first = terms.activation.replace(day=1)
            while first <= last:
                start, end = max(first, terms.activation), last_of_month(first)
                end = min(end, until) if until else end
                key = f"ret:{first:%Y-%m}"
                if start <= end <= period.end and ("RETAINER", key) not in billed:
                    days, in_month = (end - start).days + 1, last_of_month(first).day
                    exact = terms.retainer * days / in_month
                    result.add(LineSource.RETAINER, key, exact, currency)
                first = last_of_month(first) + timedelta(days=1)
        if terms.subscription is not None:
            amount, unit = terms.subscription
            n = 0
            while (start := shift_months(terms.activation, n * PERIOD_MONTHS[unit])) <= last:
                key = f"sub:{start.isoformat()}"
                if ("SUBSCRIPTION", key) not in billed:
                    result.add(LineSource.SUBSCRIPTION, key, amount, currency)
                n += 1
        return result

    # --- setup ----------------------------------------------------------------------------

    @initialize(
        currency=st.sampled_from(["USD", "JPY", "BHD"]),
        rates=st.lists(st.tuples(st.sampled_from(RATES), st.sampled_from(RATES)), min_size=3, max_size=3),
        cap=st.sampled_from(["300", None, "1500", "4000"]),
        markup=st.sampled_from(["0", "10", "12.5", "7.25", "33.333"]),
        milestones=st.lists(money_strategy("0.001", "5000"), min_size=1, max_size=3),
        retainer=st.none() | money_strategy("0.5", "9999.999"),
        subscription=st.none() | st.tuples(money_strategy("1", "3000"), st.sampled_from(list(PeriodUnit))),
        tax=st.sampled_from(
            [("0.20", False), ("0", False), ("0.08875", False), ("0.175", False), ("0.20", True)]
        ),
        activation=st.sampled_from(
            [date(2025, 2, 1), date(2025, 2, 12), date(2025, 3, 31), date(2025, 2, 28)]
        ),
        contract_end=st.sampled_from([date(2025, 12, 31), None, date(2025, 6, 20)]),
    )
    def set_up(
        self,
        currency: str,
        rates: list[tuple[str, str]],
        cap: str | None,
        markup: str,
        milestones: list[Decimal],
        retainer: Decimal | None,
        subscription: tuple[Decimal, PeriodUnit] | None,
        tax: tuple[str, bool],
        activation: date,
        contract_end: date | None,
    ) -> None:
        def m(amount: Decimal | str) -> Money:
            return Money.of(amount, currency)

        self.terms = Terms(
            currency=currency,
            rates={role: (Decimal(a), Decimal(b)) for role, (a, b) in zip(ROLES, rates, strict=True)},
            cap=Decimal(cap) if cap else None,
            markup=Decimal(markup),
            milestones={f"m{i}": amount for i, amount in enumerate(milestones, start=1)},
            retainer=retainer,
            subscription=subscription,
            tax_rate=Decimal(0) if tax[1] else Decimal(tax[0]),
            exempt=tax[1],
            activation=activation,
            contract_end=contract_end,
        )
        self.rate_cards = {
            "rc-1": [
                RateCard(
                    rate_card_id="rc-1",
                    revision=n,
                    currency=currency,
                    effective_from=start,
                    effective_to=end,
                    rates={role: m(pair[n - 1]) for role, pair in self.terms.rates.items()},
                    create_time=self.now,
                )
                for n, start, end in ((1, date(2025, 1, 1), SPLIT - timedelta(days=1)), (2, SPLIT, None))
            ]
        }
        self.customer = customer(
            billing_currency=currency,
            tax_profile=TaxProfile(jurisdiction="GB", rate=tax[0], exempt=tax[1]),
            payment_terms_days=30,
        )
        lines = [
            BillingLine(
                line_id="tm",
                terms=TimeAndMaterialsTerms(rate_card_id="rc-1", not_to_exceed=m(cap) if cap else None),
            ),
            BillingLine(line_id="exp", terms=ExpenseTerms(markup_percent=markup)),
            BillingLine(
                line_id="ff",
                terms=FixedFeeTerms(
                    milestones=[
                        MilestoneSpec(milestone_id=mid, display_name=mid, amount=m(amount))
                        for mid, amount in self.terms.milestones.items()
                    ]
                ),
            ),
        ]
        if retainer is not None:
            lines.append(BillingLine(line_id="ret", terms=RetainerTerms(amount_per_month=m(retainer))))
        if subscription is not None:
            lines.append(
                BillingLine(
                    line_id="sub",
                    terms=SubscriptionTerms(amount_per_period=m(subscription[0]), period=subscription[1]),
                )
            )
        setup = [
            cmd.CreateEngagement(customer_id=CUSTOMER_ID, display_name="billing", service_line="erp"),
            cmd.QualifyEngagement(),
            cmd.CloseWonEngagement(),
            cmd.ApproveContract(
                currency=currency,
                start_date=CONTRACT_START,
                end_date=contract_end,
                po_reference="PO-1",
                billing_lines=lines,
            ),
            cmd.ActivateEngagement(
                start_date=activation,
                project_template_id="tpl",
                staffing_plan=[StaffingAssignment(person="ada", role="engineer")],
            ),
        ]
        for command in setup:
            result = self.attempt(command)
            assert not isinstance(result, Q2cError), result
        assert self.engagement.state is S.ACTIVE

    # --- delivery -------------------------------------------------------------------------

    @precondition(lambda self: self.allows("SubmitTimeEntries"))
    @rule(
        batch=st.lists(
            st.tuples(
                st.integers(0, 150),
                st.sampled_from(ROLES),
                st.sampled_from(HOURS),
                st.sampled_from(["ada", "grace", "lin"]),
            ),
            min_size=1,
            max_size=4,
        ),
        verdict=st.sampled_from(["approve", "approve", "approve", "reject", "later"]),
    )
    def submit_time(self, batch: list[tuple[int, str, str, str]], verdict: str) -> None:
        entries = []
        for offset, role, hours, person in batch:
            self.counter += 1
            entries.append(
                cmd.TimeEntryInput(
                    entry_id=f"t{self.counter}",
                    billing_line_id="tm",
                    person=person,
                    role=role,
                    work_date=self.terms.activation + timedelta(days=offset),
                    hours=hours,
                )
            )
        if isinstance(self.attempt(cmd.SubmitTimeEntries(entries=entries)), Q2cError):
            return
        self.entries.update({e.entry_id: e for e in entries})
        ids = [e.entry_id for e in entries]
        if verdict == "approve":
            assert not isinstance(self.attempt(cmd.ApproveTimeEntries(entry_ids=ids)), Q2cError)
        elif verdict == "reject":
            assert not isinstance(self.attempt(cmd.RejectTimeEntries(entry_ids=ids, reason="no")), Q2cError)

    @precondition(lambda self: self.allows("SubmitExpenses"))
    @rule(
        offset=st.integers(0, 150),
        amount=money_strategy("0.001", "2500"),
        verdict=st.sampled_from(["approve", "approve", "reject", "later"]),
    )
    def submit_expense(self, offset: int, amount: Decimal, verdict: str) -> None:
        self.counter += 1
        expense = cmd.ExpenseInput(
            expense_id=f"x{self.counter}",
            billing_line_id="exp",
            category="travel",
            incurred_date=self.terms.activation + timedelta(days=offset),
            amount=Money(currency=self.terms.currency, amount=amount),
        )
        if isinstance(self.attempt(cmd.SubmitExpenses(expenses=[expense])), Q2cError):
            return
        self.expenses[expense.expense_id] = expense
        ids = [expense.expense_id]
        if verdict == "approve":
            assert not isinstance(self.attempt(cmd.ApproveExpenses(expense_ids=ids)), Q2cError)
        elif verdict == "reject":
            assert not isinstance(self.attempt(cmd.RejectExpenses(expense_ids=ids, reason="no")), Q2cError)

    @precondition(
        lambda self: (
            self.allows("ApproveTimeEntries")
            and any(e.status is ItemStatus.SUBMITTED for e in self.engagement.time_entries.values())
        )
    )
    @rule(data=st.data(), approve=st.sampled_from([True, True, True, False]))
    def review(self, data: st.DataObject, approve: bool) -> None:
        waiting_time = sorted(
            k for k, e in self.engagement.time_entries.items() if e.status is ItemStatus.SUBMITTED
        )
        waiting_exp = sorted(
            k for k, x in self.engagement.expenses.items() if x.status is ItemStatus.SUBMITTED
        )
        if waiting_time:
            ids = data.draw(st.lists(st.sampled_from(waiting_time), min_size=1, max_size=4, unique=True))
            command: Any = (
                cmd.ApproveTimeEntries(entry_ids=ids)
                if approve
                else cmd.RejectTimeEntries(entry_ids=ids, reason="no")
            )
            assert not isinstance(self.attempt(command), Q2cError)
        if waiting_exp:
            ids = data.draw(st.lists(st.sampled_from(waiting_exp), min_size=1, max_size=3, unique=True))
            command = (
                cmd.ApproveExpenses(expense_ids=ids)
                if approve
                else cmd.RejectExpenses(expense_ids=ids, reason="no")
            )
            assert not isinstance(self.attempt(command), Q2cError)

    @precondition(lambda self: self.allows("CompleteMilestone") or self.allows("AcceptMilestone"))
    @rule(data=st.data(), verdict=st.sampled_from(["accept", "accept", "reject"]))
    def milestone(self, data: st.DataObject, verdict: str) -> None:
        milestone_id = data.draw(st.sampled_from(sorted(self.terms.milestones)))
        status = self.engagement.milestones[milestone_id].status.value
        if status in ("PLANNED", "REJECTED"):
            self.attempt(cmd.CompleteMilestone(milestone_id=milestone_id))
        elif status == "COMPLETED":
            command: Any = (
                cmd.AcceptMilestone(milestone_id=milestone_id)
                if verdict == "accept"
                else cmd.RejectMilestone(milestone_id=milestone_id, reason="rework")
            )
            assert not isinstance(self.attempt(command), Q2cError)

    @precondition(lambda self: self.allows("CompleteEngagement"))
    @rule(now=st.sampled_from([False, False, False, True]))
    def complete(self, now: bool) -> None:
        if now:
            assert not isinstance(self.attempt(cmd.CompleteEngagement()), Q2cError)

    @rule(days=st.integers(1, 40))
    def time_passes(self, days: int) -> None:
        self.now += timedelta(days=days)

    # --- billing --------------------------------------------------------------------------

    @precondition(lambda self: self.allows("GenerateInvoice"))
    @rule(
        period=st.one_of(
            st.integers(2, 9).map(lambda month: BillingPeriod.month(2025, month)),
            st.tuples(st.integers(0, 200), st.integers(0, 75)).map(
                lambda p: BillingPeriod(
                    start=date(2025, 2, 1) + timedelta(days=p[0]),
                    end=date(2025, 2, 1) + timedelta(days=p[0] + p[1]),
                )
            ),
        ),
        bill_run=st.sampled_from(["", "", "run-1"]),
    )
    def generate(self, period: BillingPeriod, bill_run: str) -> None:
        overlapping = [
            i for i in self.live() if i.period.start <= period.end and period.start <= i.period.end
        ]
        expected = None if overlapping else self.expected(period)
        version = self.engagement.version
        result = self.attempt(cmd.GenerateInvoice(period=period, bill_run_id=bill_run))
        if expected is None:
            assert isinstance(result, PreconditionError) and result.reason == "PERIOD_ALREADY_INVOICED", (
                result
            )
            assert self.engagement.version == version
            return
        if not expected.rounded and not expected.held:
            assert isinstance(result, PreconditionError) and result.reason == "NOTHING_TO_BILL", result
            return
        assert not isinstance(result, Q2cError), f"{result!r} for {period.key}; expected {expected}"
        held = [e for e in result if isinstance(e, ev.TimeEntriesHeldAtCap)]
        assert sorted(held[0].entry_ids if held else []) == sorted(expected.held)
        generated = [e for e in result if isinstance(e, ev.InvoiceGenerated)]
        if not expected.rounded:
            assert not generated, "nothing but held hours: no invoice"
            return
        [event] = generated
        self.check_invoice(event.invoice, expected, period)

    def check_invoice(self, invoice: Invoice, expected: Expected, period: BillingPeriod) -> None:
        currency = self.terms.currency
        half = quantum(currency) / 2
        assert invoice.period == period and invoice.currency == currency
        actual = {(line.source.value, line.source_id): line.amount.amount for line in invoice.lines}
        assert actual == expected.rounded
        for line in invoice.lines:
            exact = expected.exact[(line.source.value, line.source_id)]
            assert abs(line.amount.amount - exact) <= half, f"{line.source_id}: {line.amount} vs {exact}"
            assert line.amount.amount.as_tuple().exponent == -minor_units(currency), line.amount
            assert line.amount.currency == currency
        subtotal = sum(expected.rounded.values(), Decimal(0))
        tax = round_half_up(subtotal * self.terms.tax_rate, currency)
        assert invoice.subtotal.amount == subtotal
        assert invoice.tax.amount.amount == tax
        assert abs(invoice.tax.amount.amount - subtotal * self.terms.tax_rate) <= half
        assert invoice.total.amount == subtotal + tax
        for amount in (invoice.subtotal, invoice.tax.amount, invoice.total):
            assert amount.amount.as_tuple().exponent == -minor_units(currency), amount

    def pick_invoice(self, data: st.DataObject, *likely: InvoiceState) -> Invoice | None:
        """Mostly an invoice in a state the action applies to, sometimes any invoice."""
        invoices = sorted(self.engagement.invoices) if self.state else []
        fitting = [i for i in invoices if self.engagement.invoices[i].state in likely]
        if not invoices:
            return None
        pool = (
            fitting if fitting and data.draw(st.sampled_from([1, 1, 1, 1, 0]), label="fitting") else invoices
        )
        return self.engagement.invoices[data.draw(st.sampled_from(pool), label="invoice")]

    def has(self, *states: InvoiceState) -> bool:
        return self.state is not None and any(i.state in states for i in self.engagement.invoices.values())

    @precondition(lambda self: self.allows("IssueInvoice") and self.has(InvoiceState.DRAFT))
    @rule(data=st.data())
    def issue(self, data: st.DataObject) -> None:
        invoice = self.pick_invoice(data, InvoiceState.DRAFT)
        assert invoice is not None
        result = self.attempt(cmd.IssueInvoice(invoice_id=invoice.invoice_id))
        if invoice.state is InvoiceState.DRAFT and invoice.total.amount <= 0:
            assert isinstance(result, PreconditionError) and result.reason == "EMPTY_INVOICE", result
        elif invoice.state is InvoiceState.DRAFT:
            assert not isinstance(result, Q2cError), result
            issued = self.engagement.invoices[invoice.invoice_id]
            assert issued.state is InvoiceState.ISSUED
            assert issued.issue_date is not None
            assert issued.due_date == issued.issue_date + timedelta(days=30)
        else:
            assert isinstance(result, PreconditionError) and result.reason == "INVALID_INVOICE_STATE"

    @precondition(lambda self: self.allows("RecordInvoicePosting") and self.has(*InvoiceState))
    @rule(data=st.data(), number=st.sampled_from(["ERP-1", "ERP-1", "ERP-2"]))
    def post(self, data: st.DataObject, number: str) -> None:
        invoice = self.pick_invoice(data, *OPEN_ISSUED, InvoiceState.PARTIALLY_PAID, InvoiceState.PAID)
        assert invoice is not None
        result = self.attempt(
            cmd.RecordInvoicePosting(
                engagement_id=ENGAGEMENT_ID, invoice_id=invoice.invoice_id, erp_document_number=number
            )
        )
        after = self.engagement.invoices[invoice.invoice_id]
        if invoice.state is InvoiceState.DRAFT:
            assert isinstance(result, PreconditionError) and result.reason == "INVALID_INVOICE_STATE"
        elif invoice.erp_document_number == number:
            assert result == [] and after == invoice
        elif invoice.erp_document_number:
            assert isinstance(result, PreconditionError) and result.reason == "INVOICE_ALREADY_POSTED"
            assert result.metadata["erp_document_number"] == invoice.erp_document_number
        else:
            assert not isinstance(result, Q2cError), result
            assert after.erp_document_number == number and after.post_time is not None
            posted = InvoiceState.POSTED if invoice.state is InvoiceState.ISSUED else invoice.state
            assert after.state is posted

    @precondition(
        lambda self: self.allows("RecordPayment") and self.has(*OPEN_ISSUED, InvoiceState.PARTIALLY_PAID)
    )
    @rule(data=st.data(), share=st.sampled_from(["1", "1", "0.5", "0.3333", "over"]))
    def pay(self, data: st.DataObject, share: str) -> None:
        invoice = self.pick_invoice(data, *OPEN_ISSUED, InvoiceState.PARTIALLY_PAID)
        assert invoice is not None
        currency = self.terms.currency
        balance = invoice.balance_due.amount
        if share == "over":
            amount = balance + quantum(currency)
        else:
            amount = max(round_half_up(balance * Decimal(share), currency), quantum(currency))
        result = self.attempt(
            cmd.RecordPayment(
                invoice_id=invoice.invoice_id,
                amount=Money(currency=currency, amount=amount),
                received_date=self.now.date(),
            )
        )
        if invoice.state not in (*OPEN_ISSUED, InvoiceState.PARTIALLY_PAID):
            assert isinstance(result, PreconditionError) and result.reason == "INVALID_INVOICE_STATE"
        elif amount > balance:
            assert isinstance(result, PreconditionError) and result.reason == "OVERPAYMENT"
        else:
            assert not isinstance(result, Q2cError), result
            paid = self.engagement.invoices[invoice.invoice_id]
            assert paid.amount_paid.amount == invoice.amount_paid.amount + amount
            assert paid.state is (InvoiceState.PAID if amount == balance else InvoiceState.PARTIALLY_PAID)
            assert paid.erp_document_number == invoice.erp_document_number

    @precondition(lambda self: self.allows("VoidInvoice") and self.has(InvoiceState.DRAFT, *OPEN_ISSUED))
    @rule(data=st.data())
    def void(self, data: st.DataObject) -> None:
        invoice = self.pick_invoice(data, InvoiceState.DRAFT, *OPEN_ISSUED)
        assert invoice is not None
        result = self.attempt(cmd.VoidInvoice(invoice_id=invoice.invoice_id, reason="re-bill"))
        if invoice.state in (InvoiceState.DRAFT, *OPEN_ISSUED):
            assert not isinstance(result, Q2cError), result
            voided = self.engagement.invoices[invoice.invoice_id]
            assert voided.state is InvoiceState.VOID
            if invoice.state in OPEN_ISSUED:
                assert voided.credit_note is not None and voided.credit_note.amount == invoice.total
            else:
                assert voided.credit_note is None
        else:
            assert isinstance(result, PreconditionError) and result.reason == "INVALID_INVOICE_STATE"

    @precondition(
        lambda self: (
            self.allows("ResolveException")
            and any(x.check == "NOT_TO_EXCEED_CAP" for x in self.engagement.open_exceptions())
        )
    )
    @rule(resolution=st.sampled_from([cmd.Resolution.RELEASE, cmd.Resolution.WRITE_OFF]))
    def resolve_cap(self, resolution: cmd.Resolution) -> None:
        [cap] = [x for x in self.engagement.open_exceptions() if x.check == "NOT_TO_EXCEED_CAP"]
        held = set(self.held)
        result = self.attempt(
            cmd.ResolveException(
                exception_id=cap.exception_id, resolution_note="decided", resolution=resolution
            )
        )
        assert not isinstance(result, Q2cError), result
        assert not self.held
        moved = self.released if resolution is cmd.Resolution.RELEASE else self.written_off
        assert held <= moved

    # --- invariants -----------------------------------------------------------------------

    @invariant()
    def no_unit_is_on_two_live_invoices(self) -> None:
        if self.state is not None:
            self.live_units()  # asserts

    @invariant()
    def every_approved_item_is_billed_once_pending_or_written_off(self) -> None:
        if self.state is None:
            return
        units = self.live_units()
        for entry_id, entry in self.engagement.time_entries.items():
            on = units.get(("TIME_ENTRY", entry_id))
            if entry_id not in self.approved_time:
                assert on is None and entry.status in (ItemStatus.SUBMITTED, ItemStatus.REJECTED)
            elif entry_id in self.written_off:
                assert on is None and entry.status is ItemStatus.WRITTEN_OFF
            elif on is not None:
                assert entry.status is ItemStatus.BILLED and entry.invoice_id == on
            elif entry_id in self.held:
                assert entry.status is ItemStatus.HELD_AT_CAP and not entry.invoice_id
            else:
                assert entry.status is ItemStatus.APPROVED and not entry.invoice_id, entry
        for expense_id, expense in self.engagement.expenses.items():
            on = units.get(("EXPENSE", expense_id))
            if expense_id not in self.approved_expenses:
                assert on is None and expense.status in (ItemStatus.SUBMITTED, ItemStatus.REJECTED)
            elif on is not None:
                assert expense.status is ItemStatus.BILLED and expense.invoice_id == on
            else:
                assert expense.status is ItemStatus.APPROVED and not expense.invoice_id
        for milestone_id, milestone in self.engagement.milestones.items():
            on = units.get(("MILESTONE", milestone_id))
            assert milestone.invoice_id == (on or "")
            if milestone_id not in self.accepted:
                assert on is None
        recurring = {sid: inv for (src, sid), inv in units.items() if src in ("RETAINER", "SUBSCRIPTION")}
        assert self.engagement.billed_recurring == recurring

    @invariant()
    def held_hours_have_exactly_one_open_cap_exception(self) -> None:
        if self.state is None:
            return
        caps = [x for x in self.engagement.open_exceptions() if x.check == "NOT_TO_EXCEED_CAP"]
        assert len(caps) <= 1
        if self.held:
            assert len(caps) == 1 and caps[0].item_ids == ["tm"]

    @invariant()
    def every_invoice_adds_up(self) -> None:
        if self.state is None:
            return
        for invoice in self.engagement.invoices.values():
            assert invoice.subtotal == sum(
                (line.amount for line in invoice.lines), Money.zero(invoice.currency)
            )
            assert invoice.total == invoice.subtotal + invoice.tax.amount
            assert sum((p.amount.amount for p in invoice.payments), Decimal(0)) == invoice.amount_paid.amount
            assert invoice.amount_paid.amount <= invoice.total.amount

    @invariant()
    def a_posted_invoice_has_its_erp_number_and_post_time(self) -> None:
        if self.state is None:
            return
        for invoice in self.engagement.invoices.values():
            assert bool(invoice.erp_document_number) == (invoice.post_time is not None)
            if invoice.state is InvoiceState.POSTED:
                assert invoice.erp_document_number and not invoice.payments

    @invariant()
    def a_closed_engagement_has_nothing_left_to_bill_or_collect(self) -> None:
        if self.state is None or self.engagement.state is not S.CLOSED:
            return
        assert all(
            i.state in (InvoiceState.PAID, InvoiceState.VOID) for i in self.engagement.invoices.values()
        )
        until = self.until()
        assert until is not None
        leftover = self.expected(BillingPeriod(start=until, end=until))
        assert not leftover.rounded and not leftover.held and not self.held
        assert not any(e.status is ItemStatus.SUBMITTED for e in self.engagement.time_entries.values())

    @invariant()
    def folding_the_journal_reproduces_the_state(self) -> None:
        assert fold(self.journal) == self.state
        if self.state is not None:
            assert Engagement.model_validate_json(self.state.model_dump_json()) == self.state


BillingMachine.TestCase.settings = settings(max_examples=60, stateful_step_count=30, deadline=None)
TestBillingProperties = BillingMachine.TestCase


# --- rounding, line by line, over many more numbers -----------------------------------------


@settings(max_examples=80, deadline=None)
@given(
    currency=st.sampled_from(["JPY", "USD", "BHD", "KWD", "EUR"]),
    rate=st.decimals(min_value=Decimal("0.001"), max_value=Decimal("9999.9999"), places=4, allow_nan=False),
    hours=st.lists(
        st.decimals(min_value=Decimal("0.01"), max_value=Decimal("24"), places=2, allow_nan=False),
        min_size=1,
        max_size=5,
    ),
    markup=st.decimals(min_value=Decimal(0), max_value=Decimal(100), places=3, allow_nan=False),
    cost=st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("99999"), places=4, allow_nan=False),
    tax=st.decimals(min_value=Decimal(0), max_value=Decimal(1), places=5, allow_nan=False),
)
def test_rounding_never_loses_or_invents_a_minor_unit_beyond_half_up(
    currency: str, rate: Decimal, hours: list[Decimal], markup: Decimal, cost: Decimal, tax: Decimal
) -> None:
    from .billing_builders import active, expenses, month, spend, taxed, tm, work
    from .builders import rate_card

    cards = {"rc-1": [rate_card(date(2025, 1, 1), currency=currency, rates={"engineer": str(rate)})]}
    driver = active(
        tm(),
        expenses(str(markup)),
        currency=currency,
        rate_cards=cards,
        who=taxed(str(tax), billing_currency=currency),
    )
    for n, h in enumerate(hours):
        work(driver, f"t{n}", date(2025, 3, 1 + n), str(h))
    spend(driver, "x", Money(currency=currency, amount=cost))
    events = driver.run(cmd.GenerateInvoice(period=month("2025-03")))
    invoice = next(e.invoice for e in events if isinstance(e, ev.InvoiceGenerated))
    half, places = quantum(currency) / 2, minor_units(currency)
    exact = {f"t{n}": h * rate for n, h in enumerate(hours)} | {"x": cost * (1 + markup / 100)}
    for line in invoice.lines:
        assert abs(line.amount.amount - exact[line.source_id]) <= half
        assert line.amount.amount == round_half_up(exact[line.source_id], currency)
        assert line.amount.amount.as_tuple().exponent == -places
    subtotal = sum((round_half_up(v, currency) for v in exact.values()), Decimal(0))
    assert invoice.subtotal.amount == subtotal
    assert invoice.tax.amount.amount == round_half_up(subtotal * tax, currency)
    assert invoice.total.amount == subtotal + round_half_up(subtotal * tax, currency)
    assert invoice.total.amount.as_tuple().exponent == -places
