"""Billing steps over gRPC: engagements on any billing lines, time and expenses, invoices."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from q2c.v1 import billing_pb2, common_pb2, customer_pb2
from q2c.v1 import engagement_pb2 as pb
from tests.service import flows
from tests.service.client import Api, gdate, money, rid

YEAR_START = date(2026, 1, 1)
YEAR_END = date(2026, 12, 31)
US_TAX = customer_pb2.TaxProfile(jurisdiction="US-NY", rate="0.08875")
NO_TAX = customer_pb2.TaxProfile(jurisdiction="US-OR", exempt=True)

Lines = Callable[[str], list[pb.BillingLine]]
"""Billing lines for a contract, given the id of the rate card created for it."""


@dataclass(frozen=True)
class Billable:
    """An ACTIVE engagement ready to bill: its id, customer and rate card."""

    engagement_id: str
    customer_id: str
    rate_card_id: str


def month(text: str) -> common_pb2.BillingPeriod:
    """A calendar-month billing period on the wire."""
    return common_pb2.BillingPeriod(month=text)


def tm_line(card_id: str, cap: str = "", currency: str = "USD", line_id: str = "TM-1") -> pb.BillingLine:
    """A time-and-materials line, capped when `cap` is given."""
    terms = pb.TimeAndMaterialsTerms(
        rate_card_id=card_id, not_to_exceed=money(cap, currency) if cap else None
    )
    return pb.BillingLine(line_id=line_id, description="Consulting", time_and_materials=terms)


def fixed_fee_line(currency: str = "USD", **amounts: str) -> pb.BillingLine:
    """A fixed-fee line with one milestone per keyword (id=amount)."""
    milestones = [
        pb.MilestoneSpec(milestone_id=m, display_name=f"Milestone {m}", amount=money(a, currency))
        for m, a in amounts.items()
    ]
    return pb.BillingLine(
        line_id="FF-1", description="Delivery", fixed_fee=pb.FixedFeeTerms(milestones=milestones)
    )


def retainer_line(per_month: str, currency: str = "USD") -> pb.BillingLine:
    """A monthly retainer."""
    terms = pb.RetainerTerms(amount_per_month=money(per_month, currency))
    return pb.BillingLine(line_id="RET-1", description="Retainer", retainer=terms)


def expense_line(markup: str) -> pb.BillingLine:
    """Pass-through expenses with a markup percentage."""
    terms = pb.ExpenseTerms(markup_percent=markup)
    return pb.BillingLine(line_id="EXP-1", description="Expenses", pass_through_expenses=terms)


def subscription_line(per_period: str, unit: int = pb.BILLING_PERIOD_UNIT_QUARTER) -> pb.BillingLine:
    """A recurring subscription billed in advance."""
    terms = pb.SubscriptionTerms(amount_per_period=money(per_period), period=unit)  # type: ignore[arg-type]
    return pb.BillingLine(line_id="SUB-1", description="Support", subscription=terms)


async def active_on(
    api: Api,
    lines: Lines,
    *,
    currency: str = "USD",
    rates: dict[str, str] | None = None,
    activate_on: date = YEAR_START,
    po_reference: str = "PO-1",
    **customer_fields: Any,
) -> Billable:
    """An ACTIVE engagement of a new customer whose 2026 contract has these billing lines."""
    rates = rates or {"engineer": "150.00", "manager": "200.00"}
    card = await flows.new_rate_card(api, currency=currency, **rates)
    fields: dict[str, Any] = {"billing_currency": currency, "tax_profile": US_TAX, **customer_fields}
    engagement = await flows.qualified(api, **fields)
    eid = engagement.engagement_id
    await api.engagements.CloseWonEngagement(
        pb.CloseWonEngagementRequest(request_id=rid(), engagement_id=eid)
    )
    contracted = await api.engagements.ApproveContract(
        pb.ApproveContractRequest(
            request_id=rid(),
            engagement_id=eid,
            currency_code=currency,
            start_date=gdate(YEAR_START),
            end_date=gdate(YEAR_END),
            po_reference=po_reference,
            billing_lines=lines(card.rate_card_id),
        )
    )
    assert contracted.state == pb.ENGAGEMENT_STATE_CONTRACTED, contracted
    activated = await api.engagements.ActivateEngagement(
        pb.ActivateEngagementRequest(
            request_id=rid(), engagement_id=eid, start_date=gdate(activate_on), project_template_id="TPL-1"
        )
    )
    assert activated.state == pb.ENGAGEMENT_STATE_ACTIVE, activated
    return Billable(eid, engagement.customer_id, card.rate_card_id)


def entry(n: int, day: date, hours: str = "8", role: str = "engineer") -> pb.TimeEntryInput:
    """A time entry on TM-1."""
    return pb.TimeEntryInput(
        entry_id=f"T{n}",
        billing_line_id="TM-1",
        person="bob",
        role=role,
        work_date=gdate(day),
        hours=hours,
        description=f"work {n}",
    )


async def approved_time(api: Api, eid: str, *entries: pb.TimeEntryInput) -> pb.Engagement:
    """Submit and approve time entries."""
    await api.engagements.SubmitTimeEntries(
        pb.SubmitTimeEntriesRequest(request_id=rid(), engagement_id=eid, entries=list(entries))
    )
    result: pb.Engagement = await api.engagements.ApproveTimeEntries(
        pb.ApproveTimeEntriesRequest(
            request_id=rid(), engagement_id=eid, entry_ids=[e.entry_id for e in entries]
        )
    )
    return result


async def approved_expense(api: Api, eid: str, expense_id: str, day: date, amount: str) -> pb.Engagement:
    """Submit and approve one expense on EXP-1."""
    expense = pb.ExpenseInput(
        expense_id=expense_id,
        billing_line_id="EXP-1",
        category="TRAVEL",
        incurred_date=gdate(day),
        amount=money(amount),
        description="flight",
    )
    await api.engagements.SubmitExpenses(
        pb.SubmitExpensesRequest(request_id=rid(), engagement_id=eid, expenses=[expense])
    )
    result: pb.Engagement = await api.engagements.ApproveExpenses(
        pb.ApproveExpensesRequest(request_id=rid(), engagement_id=eid, expense_ids=[expense_id])
    )
    return result


async def accepted_milestone(api: Api, eid: str, milestone_id: str) -> None:
    """Complete a milestone and have the customer accept it."""
    await api.engagements.CompleteMilestone(
        pb.CompleteMilestoneRequest(request_id=rid(), engagement_id=eid, milestone_id=milestone_id)
    )
    await api.engagements.AcceptMilestone(
        pb.AcceptMilestoneRequest(request_id=rid(), engagement_id=eid, milestone_id=milestone_id)
    )


def generate_request(eid: str, period: str) -> pb.GenerateInvoiceRequest:
    """GenerateInvoice for a month."""
    return pb.GenerateInvoiceRequest(request_id=rid(), engagement_id=eid, period=month(period))


async def invoice_for(api: Api, eid: str, period: str) -> billing_pb2.Invoice:
    """Generate the month's DRAFT invoice."""
    result: billing_pb2.Invoice = await api.engagements.GenerateInvoice(generate_request(eid, period))
    return result


async def issued(api: Api, invoice_id: str) -> billing_pb2.Invoice:
    """Issue a DRAFT invoice."""
    result: billing_pb2.Invoice = await api.billing.IssueInvoice(
        billing_pb2.IssueInvoiceRequest(request_id=rid(), invoice_id=invoice_id)
    )
    return result


def payment(invoice_id: str, amount: str, currency: str = "USD") -> billing_pb2.RecordPaymentRequest:
    """A payment received on 2026-02-10."""
    return billing_pb2.RecordPaymentRequest(
        request_id=rid(),
        invoice_id=invoice_id,
        amount=money(amount, currency),
        received_date=gdate(date(2026, 2, 10)),
        reference="WIRE-1",
    )


async def paid(api: Api, invoice_id: str, amount: str, currency: str = "USD") -> billing_pb2.Invoice:
    """Record a payment."""
    result: billing_pb2.Invoice = await api.billing.RecordPayment(payment(invoice_id, amount, currency))
    return result


async def engagement(api: Api, eid: str) -> pb.Engagement:
    """The engagement now."""
    result: pb.Engagement = await api.engagements.GetEngagement(pb.GetEngagementRequest(engagement_id=eid))
    return result


def amounts(invoice: billing_pb2.Invoice) -> list[tuple[str, str]]:
    """(source_id, amount) of each line."""
    return [(line.source_id, line.amount.amount) for line in invoice.lines]
