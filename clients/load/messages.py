"""Protobuf requests for a plan's commands (the generated stubs' messages, built per call).

Engagement commands ask for the BASIC view, and invoice commands for the invoice's BASIC view:
the load tool goes on with the ids and amounts it has, so the server neither builds nor sends the
whole engagement tree, or every invoice line, per reply (its check reads the invoices afterwards).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from google.type import date_pb2

from clients.load.plan import Command, CustomerPlan, EngagementPlan, ExpensePlan, RateCardPlan, TimeEntryPlan
from clients.load.profile import money_text
from q2c.v1 import billing_pb2, common_pb2, customer_pb2, engagement_pb2, rate_card_pb2

BASIC = engagement_pb2.ENGAGEMENT_VIEW_BASIC
INVOICE_BASIC = billing_pb2.INVOICE_VIEW_BASIC
UNITS = {
    "MONTH": engagement_pb2.BILLING_PERIOD_UNIT_MONTH,
    "QUARTER": engagement_pb2.BILLING_PERIOD_UNIT_QUARTER,
    "YEAR": engagement_pb2.BILLING_PERIOD_UNIT_YEAR,
}


@dataclass(frozen=True)
class Ids:
    """What the server assigned: plan keys -> customer and rate card ids."""

    customers: dict[str, str]
    rate_cards: dict[str, str]


def pb_date(value: date) -> date_pb2.Date:
    """A google.type.Date."""
    return date_pb2.Date(year=value.year, month=value.month, day=value.day)


def money(amount: Decimal, currency: str) -> common_pb2.Money:
    """Money at the currency's minor unit."""
    return common_pb2.Money(currency_code=currency, amount=money_text(amount, currency))


def rate_money(amount: Decimal, currency: str) -> common_pb2.Money:
    """An hourly rate, exact (rates may carry more places than the currency)."""
    return common_pb2.Money(currency_code=currency, amount=format(amount, "f"))


def customer_request(plan: CustomerPlan, run_tag: str) -> customer_pb2.CreateCustomerRequest:
    """CreateCustomer for a planned customer."""
    name = f"Load {run_tag} {plan.key}"
    customer = customer_pb2.Customer(
        display_name=name,
        legal_entity=f"{name} Ltd",
        billing_currency=plan.currency,
        payment_terms_days=30,
        service_line="Month-end load",
        status=customer_pb2.CUSTOMER_STATUS_ACTIVE,
        tax_profile=customer_pb2.TaxProfile(
            jurisdiction=plan.jurisdiction, rate=format(plan.tax_rate, "f"), exempt=plan.exempt
        ),
    )
    return customer_pb2.CreateCustomerRequest(request_id=f"{run_tag}.{plan.key}", customer=customer)


def rate_card_request(
    plan: RateCardPlan, run_tag: str, effective: date
) -> rate_card_pb2.CreateRateCardRequest:
    """CreateRateCard for a planned card, effective from the contract start, open-ended."""
    card = rate_card_pb2.RateCard(
        display_name=f"Load {run_tag} {plan.key}",
        currency_code=plan.currency,
        effective_from=pb_date(effective),
        rates=[
            rate_card_pb2.RoleRate(role=r, hourly_rate=rate_money(a, plan.currency))
            for r, a in plan.rates.items()
        ],
    )
    return rate_card_pb2.CreateRateCardRequest(request_id=f"{run_tag}.{plan.key}", rate_card=card)


def billing_lines(plan: EngagementPlan, ids: Ids, amended: bool) -> list[engagement_pb2.BillingLine]:
    """The contract's lines; `amended`: as the change order leaves them."""
    c, change = plan.currency, plan.change_order
    lines = []
    if plan.model in ("time_and_materials", "nte_capped"):
        card, cap = (change.rate_card, change.cap) if amended and change else (plan.rate_card, plan.cap)
        terms = engagement_pb2.TimeAndMaterialsTerms(rate_card_id=ids.rate_cards[card])
        if cap is not None:
            terms.not_to_exceed.CopyFrom(money(cap, c))
        lines.append(
            engagement_pb2.BillingLine(line_id="tm", description="Delivery team", time_and_materials=terms)
        )
    if plan.milestones:
        specs = [
            engagement_pb2.MilestoneSpec(
                milestone_id=m.milestone_id,
                display_name=f"Milestone {m.milestone_id}",
                amount=money(m.amount, c),
            )
            for m in plan.milestones
        ]
        lines.append(
            engagement_pb2.BillingLine(
                line_id="ff",
                description="Milestones",
                fixed_fee=engagement_pb2.FixedFeeTerms(milestones=specs),
            )
        )
    if plan.retainer is not None:
        terms_r = engagement_pb2.RetainerTerms(amount_per_month=money(plan.retainer, c))
        lines.append(engagement_pb2.BillingLine(line_id="ret", description="Retainer", retainer=terms_r))
    if plan.subscription is not None:
        terms_s = engagement_pb2.SubscriptionTerms(
            amount_per_period=money(plan.subscription, c), period=UNITS[plan.subscription_unit]
        )
        lines.append(
            engagement_pb2.BillingLine(line_id="sub", description="Subscription", subscription=terms_s)
        )
    if plan.markup is not None:
        terms_x = engagement_pb2.ExpenseTerms(markup_percent=format(plan.markup, "f"))
        lines.append(
            engagement_pb2.BillingLine(line_id="exp", description="Expenses", pass_through_expenses=terms_x)
        )
    return lines


def _entry(e: TimeEntryPlan) -> engagement_pb2.TimeEntryInput:
    return engagement_pb2.TimeEntryInput(
        entry_id=e.entry_id,
        billing_line_id="tm",
        person=e.person,
        role=e.role,
        work_date=pb_date(e.work_date),
        hours=format(e.hours, "f"),
    )


def _expense(x: ExpensePlan, currency: str) -> engagement_pb2.ExpenseInput:
    return engagement_pb2.ExpenseInput(
        expense_id=x.expense_id,
        billing_line_id="exp",
        category=x.category,
        incurred_date=pb_date(x.incurred_date),
        amount=money(x.amount, currency),
    )


def engagement_request(command: Command, plan: EngagementPlan, ids: Ids, engagement_id: str) -> Any:
    """The request of one engagement command (not CreateEngagement: see `create_request`)."""
    e = engagement_pb2
    rpc, items = command.rpc, list(command.items)
    base: dict[str, Any] = {"request_id": command.request_id, "engagement_id": engagement_id}
    if rpc == "ApproveContract":
        extra: dict[str, Any] = {
            "currency_code": plan.currency,
            "start_date": pb_date(plan.contract_start),
            "end_date": pb_date(plan.contract_end),
            "billing_lines": billing_lines(plan, ids, amended=False),
        }
    elif rpc == "ActivateEngagement":
        staff = sorted({(t.person, t.role) for t in plan.time_entries}) or [("p01", "architect")]
        extra = {
            "start_date": pb_date(plan.start_date),
            "project_template_id": "load-template",
            "staffing_plan": [e.StaffingAssignment(person=p, role=r) for p, r in staff],
        }
    elif rpc == "SubmitTimeEntries":
        extra = {"entries": [_entry(plan.entry(i)) for i in items]}
    elif rpc == "SubmitExpenses":
        extra = {"expenses": [_expense(plan.expense(i), plan.currency) for i in items]}
    elif rpc in ("ApproveTimeEntries", "RejectTimeEntries"):
        extra = {"entry_ids": items}
    elif rpc in ("ApproveExpenses", "RejectExpenses"):
        extra = {"expense_ids": items}
    elif rpc in ("CompleteMilestone", "AcceptMilestone", "RejectMilestone"):
        extra = {"milestone_id": items[0]}
    elif rpc == "AmendContract":
        assert plan.change_order is not None
        extra = {
            "effective_date": pb_date(plan.change_order.effective),
            "billing_lines": billing_lines(plan, ids, amended=True),
        }
    else:
        extra = {}
    if rpc.startswith("Reject"):
        extra["reason"] = "load test: rejected by the approver"
    request = getattr(e, f"{rpc}Request")(**base, **extra)
    request.view = BASIC
    return request


def create_request(
    command: Command, plan: EngagementPlan, ids: Ids
) -> engagement_pb2.CreateEngagementRequest:
    """CreateEngagement for the planned engagement."""
    return engagement_pb2.CreateEngagementRequest(
        request_id=command.request_id,
        customer_id=ids.customers[plan.customer],
        display_name=f"Load {plan.key} ({plan.model})",
        opportunity_ref=f"OPP-{plan.key}",
        expected_start_date=pb_date(plan.start_date),
        service_line="Month-end load",
        view=BASIC,
    )


def issue_request(command: Command, invoice_id: str) -> billing_pb2.IssueInvoiceRequest:
    """IssueInvoice for the run's invoice."""
    return billing_pb2.IssueInvoiceRequest(
        request_id=command.request_id, invoice_id=invoice_id, view=INVOICE_BASIC
    )


def payment_request(
    command: Command, invoice_id: str, amount: str, currency: str, received: date
) -> billing_pb2.RecordPaymentRequest:
    """RecordPayment of `amount` on the run's invoice."""
    return billing_pb2.RecordPaymentRequest(
        request_id=command.request_id,
        invoice_id=invoice_id,
        amount=common_pb2.Money(currency_code=currency, amount=amount),
        received_date=pb_date(received),
        reference=f"LOAD-{command.request_id}",
        view=INVOICE_BASIC,
    )
