"""Request builders and short flows shared by the end-to-end tests (async stubs)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from google.type import date_pb2

from q2c.v1 import common_pb2, customer_pb2, engagement_pb2, rate_card_pb2

Metadata = list[tuple[str, str]]


def rid() -> str:
    """A fresh request id."""
    return uuid.uuid4().hex


def d(value: date) -> date_pb2.Date:
    """google.type.Date of a date."""
    return date_pb2.Date(year=value.year, month=value.month, day=value.day)


def usd(amount: str) -> common_pb2.Money:
    """Money in USD."""
    return common_pb2.Money(currency_code="USD", amount=amount)


async def customer(stack: Any, md: Metadata, *, tax: bool = True) -> customer_pb2.Customer:
    """An active USD customer, with or without a tax profile."""
    body = customer_pb2.Customer(
        display_name="Acme",
        legal_entity="Acme Ltd",
        billing_currency="USD",
        service_line="Cloud",
        status=customer_pb2.CUSTOMER_STATUS_ACTIVE,
    )
    if tax:
        body.tax_profile.CopyFrom(customer_pb2.TaxProfile(jurisdiction="US-NY", rate="0.08"))
    return await stack.customers.CreateCustomer(
        customer_pb2.CreateCustomerRequest(request_id=rid(), customer=body), metadata=md
    )


async def rate_card(
    stack: Any, md: Metadata, start: date = date(2026, 1, 1), end: date | None = None
) -> rate_card_pb2.RateCard:
    """Rates for architect and engineer, effective from `start` (to `end`)."""
    card = rate_card_pb2.RateCard(
        currency_code="USD",
        effective_from=d(start),
        rates=[
            rate_card_pb2.RoleRate(role="architect", hourly_rate=usd("200")),
            rate_card_pb2.RoleRate(role="engineer", hourly_rate=usd("150")),
        ],
    )
    if end:
        card.effective_to.CopyFrom(d(end))
    return await stack.rate_cards.CreateRateCard(
        rate_card_pb2.CreateRateCardRequest(request_id=rid(), rate_card=card), metadata=md
    )


async def won(stack: Any, md: Metadata, customer_id: str) -> engagement_pb2.Engagement:
    """Create, qualify and close-won an engagement."""
    e = stack.engagements
    eng = await e.CreateEngagement(
        engagement_pb2.CreateEngagementRequest(
            request_id=rid(),
            customer_id=customer_id,
            display_name="Migration",
            expected_start_date=d(date(2026, 2, 2)),
        ),
        metadata=md,
    )
    await e.QualifyEngagement(
        engagement_pb2.QualifyEngagementRequest(request_id=rid(), engagement_id=eng.engagement_id),
        metadata=md,
    )
    return await e.CloseWonEngagement(
        engagement_pb2.CloseWonEngagementRequest(request_id=rid(), engagement_id=eng.engagement_id),
        metadata=md,
    )


def contract(engagement_id: str, rate_card_id: str) -> engagement_pb2.ApproveContractRequest:
    """A 2026 contract: capped T&M, one fixed-fee milestone, pass-through expenses."""
    return engagement_pb2.ApproveContractRequest(
        request_id=rid(),
        engagement_id=engagement_id,
        currency_code="USD",
        start_date=d(date(2026, 2, 1)),
        end_date=d(date(2026, 12, 31)),
        po_reference="PO-1",
        billing_lines=[
            engagement_pb2.BillingLine(
                line_id="tm",
                time_and_materials=engagement_pb2.TimeAndMaterialsTerms(
                    rate_card_id=rate_card_id, not_to_exceed=usd("100000")
                ),
            ),
            engagement_pb2.BillingLine(
                line_id="ff",
                fixed_fee=engagement_pb2.FixedFeeTerms(
                    milestones=[
                        engagement_pb2.MilestoneSpec(
                            milestone_id="m1", display_name="Design", amount=usd("20000")
                        )
                    ]
                ),
            ),
            engagement_pb2.BillingLine(
                line_id="ex", pass_through_expenses=engagement_pb2.ExpenseTerms(markup_percent="0")
            ),
        ],
    )


async def active(stack: Any, md: Metadata) -> engagement_pb2.Engagement:
    """An ACTIVE engagement on a fresh customer and rate card."""
    cust = await customer(stack, md)
    card = await rate_card(stack, md)
    eng = await won(stack, md, cust.customer_id)
    await stack.engagements.ApproveContract(contract(eng.engagement_id, card.rate_card_id), metadata=md)
    return await stack.engagements.ActivateEngagement(
        engagement_pb2.ActivateEngagementRequest(
            request_id=rid(), engagement_id=eng.engagement_id, project_template_id="tpl"
        ),
        metadata=md,
    )


def time_entry(
    entry_id: str, hours: str = "8", role: str = "engineer", day: date = date(2026, 2, 3), person: str = "ana"
) -> engagement_pb2.TimeEntryInput:
    """One time entry on the T&M line."""
    return engagement_pb2.TimeEntryInput(
        entry_id=entry_id, billing_line_id="tm", person=person, role=role, work_date=d(day), hours=hours
    )
