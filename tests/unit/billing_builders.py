"""Builders for the billing-core tests: an ACTIVE engagement on any billing lines, and shortcuts."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from q2c_core.domain import commands as cmd
from q2c_core.domain import events as ev
from q2c_core.domain.entities import (
    BillingLine,
    EngagementState,
    ExpenseTerms,
    FixedFeeTerms,
    MilestoneSpec,
    PeriodUnit,
    RetainerTerms,
    StaffingAssignment,
    SubscriptionTerms,
    TimeAndMaterialsTerms,
)
from q2c_core.domain.invoices import Invoice
from q2c_core.domain.money import Money, minor_units
from q2c_core.domain.periods import BillingPeriod
from q2c_core.domain.reference import Customer, RateCard, TaxProfile

from .builders import Driver, create, customer, rate_card

JAN1 = date(2025, 1, 1)
START = date(2025, 1, 1)
END = date(2025, 12, 31)


def money(amount: str, currency: str = "USD") -> Money:
    """An amount in a currency."""
    return Money.of(amount, currency)


def half_up(amount: Decimal, currency: str) -> Decimal:
    """Reference rounding, from first principles: half up to the currency's minor unit."""
    return amount.quantize(Decimal(1).scaleb(-minor_units(currency)), rounding=ROUND_HALF_UP)


def tm(line_id: str = "tm", rate_card_id: str = "rc-1", cap: Money | None = None) -> BillingLine:
    """Time-and-materials terms on a rate card, optionally capped."""
    return BillingLine(
        line_id=line_id, terms=TimeAndMaterialsTerms(rate_card_id=rate_card_id, not_to_exceed=cap)
    )


def fixed(line_id: str = "ff", currency: str = "USD", **amounts: str) -> BillingLine:
    """Fixed fee: one milestone per keyword (id=amount); default m1=1000, m2=2000."""
    amounts = amounts or {"m1": "1000", "m2": "2000"}
    specs = [
        MilestoneSpec(milestone_id=m, display_name=f"Milestone {m}", amount=Money.of(a, currency))
        for m, a in amounts.items()
    ]
    return BillingLine(line_id=line_id, terms=FixedFeeTerms(milestones=specs))


def retainer(amount: str, currency: str = "USD", line_id: str = "ret") -> BillingLine:
    """A retainer of `amount` a month."""
    return BillingLine(line_id=line_id, terms=RetainerTerms(amount_per_month=Money.of(amount, currency)))


def subscription(
    amount: str, period: PeriodUnit = PeriodUnit.MONTH, currency: str = "USD", line_id: str = "sub"
) -> BillingLine:
    """A subscription of `amount` per period."""
    terms = SubscriptionTerms(amount_per_period=Money.of(amount, currency), period=period)
    return BillingLine(line_id=line_id, terms=terms)


def expenses(markup: str = "0", line_id: str = "exp") -> BillingLine:
    """Pass-through expenses with a markup in percent."""
    return BillingLine(line_id=line_id, terms=ExpenseTerms(markup_percent=markup))


def taxed(rate: str = "0.20", exempt: bool = False, **overrides: Any) -> Customer:
    """A customer taxed at `rate` (or exempt)."""
    return customer(tax_profile=TaxProfile(jurisdiction="GB", rate=rate, exempt=exempt), **overrides)


def cards(currency: str = "USD", **rates: str) -> dict[str, list[RateCard]]:
    """rc-1, one open-ended revision from 2025-01-01 (engineer 133.333, manager 200 by default)."""
    rates = rates or {"engineer": "133.333", "manager": "200"}
    return {"rc-1": [rate_card(JAN1, currency=currency, rates=rates)]}


def active(
    *lines: BillingLine,
    currency: str = "USD",
    activated: date = START,
    contract_start: date = START,
    contract_end: date | None = END,
    po_reference: str = "PO-1",
    who: Customer | None = None,
    rate_cards: dict[str, list[RateCard]] | None = None,
    now: datetime | None = None,
) -> Driver:
    """A driver whose engagement is ACTIVE on these billing lines from `activated`."""
    driver = Driver(
        customer=who or taxed(billing_currency=currency),
        rate_cards=rate_cards if rate_cards is not None else cards(currency),
        now=now or datetime(2025, 1, 1, 9, tzinfo=UTC),
    )
    driver.run(create())
    driver.run(cmd.QualifyEngagement())
    driver.run(cmd.CloseWonEngagement())
    driver.run(
        cmd.ApproveContract(
            currency=currency,
            start_date=contract_start,
            end_date=contract_end,
            po_reference=po_reference,
            billing_lines=list(lines),
        )
    )
    driver.run(
        cmd.ActivateEngagement(
            start_date=activated,
            project_template_id="tpl",
            staffing_plan=[StaffingAssignment(person="ada", role="engineer")],
        )
    )
    assert driver.engagement.state is EngagementState.ACTIVE, driver.engagement.state
    return driver


def work(
    driver: Driver,
    entry_id: str,
    day: date,
    hours: str = "8",
    role: str = "engineer",
    line: str = "tm",
    person: str = "ada",
    approve: bool = True,
) -> None:
    """Submit (and approve) one time entry."""
    entry = cmd.TimeEntryInput(
        entry_id=entry_id, billing_line_id=line, person=person, role=role, work_date=day, hours=hours
    )
    driver.run(cmd.SubmitTimeEntries(entries=[entry]))
    if approve:
        driver.run(cmd.ApproveTimeEntries(entry_ids=[entry_id]))


def spend(
    driver: Driver, expense_id: str, amount: Money, day: date = date(2025, 3, 3), line: str = "exp"
) -> None:
    """Submit and approve one expense."""
    item = cmd.ExpenseInput(
        expense_id=expense_id, billing_line_id=line, category="travel", incurred_date=day, amount=amount
    )
    driver.run(cmd.SubmitExpenses(expenses=[item]))
    driver.run(cmd.ApproveExpenses(expense_ids=[expense_id]))


def accept(driver: Driver, milestone_id: str) -> None:
    """Complete and accept a milestone."""
    driver.run(cmd.CompleteMilestone(milestone_id=milestone_id))
    driver.run(cmd.AcceptMilestone(milestone_id=milestone_id))


def month(text: str) -> BillingPeriod:
    """A calendar month from "YYYY-MM"."""
    return BillingPeriod.parse_month(text)


def span(start: date, end: date) -> BillingPeriod:
    """An explicit range."""
    return BillingPeriod(start=start, end=end)


def bill(driver: Driver, period: BillingPeriod, bill_run_id: str = "") -> Invoice:
    """Generate an invoice for the period and return it (it must be generated)."""
    events = driver.run(cmd.GenerateInvoice(period=period, bill_run_id=bill_run_id))
    generated = [e for e in events if isinstance(e, ev.InvoiceGenerated)]
    assert len(generated) == 1, events
    return driver.engagement.invoices[generated[0].invoice.invoice_id]


def issue(driver: Driver, invoice: Invoice) -> Invoice:
    """Issue the invoice and return it as now stored."""
    driver.run(cmd.IssueInvoice(invoice_id=invoice.invoice_id))
    return driver.engagement.invoices[invoice.invoice_id]


def pay(driver: Driver, invoice: Invoice, amount: Money | None = None) -> list[ev.Event]:
    """Pay the invoice (in full unless an amount is given)."""
    current = driver.engagement.invoices[invoice.invoice_id]
    return driver.run(
        cmd.RecordPayment(
            invoice_id=invoice.invoice_id,
            amount=amount or current.balance_due,
            received_date=date(2025, 6, 1),
        )
    )


def void(driver: Driver, invoice: Invoice, reason: str = "wrong rate") -> list[ev.Event]:
    """Void the invoice."""
    return driver.run(cmd.VoidInvoice(invoice_id=invoice.invoice_id, reason=reason))


def amounts(invoice: Invoice) -> dict[str, Decimal]:
    """Line amounts by source id."""
    return {line.source_id: line.amount.amount for line in invoice.lines}
