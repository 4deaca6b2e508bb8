"""Lifecycle steps through the SDK (synchronous; tests run them off the server's event loop)."""

from __future__ import annotations

import datetime as dt

from q2c.v1 import customer_pb2, rate_card_pb2
from q2c.v1 import engagement_pb2 as pb
from q2c_sdk import Q2cClient, date, money

CONTRACT_START = dt.date(2025, 2, 1)
CONTRACT_END = dt.date(2025, 12, 31)


def new_customer(q2c: Q2cClient) -> customer_pb2.Customer:
    """A customer that passes every close-won check."""
    customer = customer_pb2.Customer(
        display_name="Acme",
        legal_entity="Acme Holdings LLC",
        billing_currency="USD",
        tax_profile=customer_pb2.TaxProfile(jurisdiction="US-NY", rate="0.08875"),
        service_line="CONSULTING",
    )
    return q2c.create_customer(customer_pb2.CreateCustomerRequest(customer=customer))


def new_rate_card(q2c: Q2cClient) -> rate_card_pb2.RateCard:
    """A USD rate card: engineer 150/h, manager 200/h, from 2025-01-01, open-ended."""
    card = rate_card_pb2.RateCard(
        display_name="Standard",
        currency_code="USD",
        effective_from=date(dt.date(2025, 1, 1)),
        rates=[
            rate_card_pb2.RoleRate(role="engineer", hourly_rate=money("150.00", "USD")),
            rate_card_pb2.RoleRate(role="manager", hourly_rate=money("200.00", "USD")),
        ],
    )
    return q2c.create_rate_card(rate_card_pb2.CreateRateCardRequest(rate_card=card))


def billing_lines(rate_card_id: str) -> list[pb.BillingLine]:
    """A T&M line on the rate card and a fixed-fee line with one 5000 USD milestone."""
    milestone = pb.MilestoneSpec(milestone_id="M1", display_name="Design", amount=money("5000", "USD"))
    return [
        pb.BillingLine(
            line_id="TM-1",
            description="Consulting",
            time_and_materials=pb.TimeAndMaterialsTerms(rate_card_id=rate_card_id),
        ),
        pb.BillingLine(
            line_id="FF-1", description="Delivery", fixed_fee=pb.FixedFeeTerms(milestones=[milestone])
        ),
    ]


def active_engagement(q2c: Q2cClient) -> pb.Engagement:
    """An ACTIVE engagement of a new customer, under the standard contract."""
    customer = new_customer(q2c)
    card = new_rate_card(q2c)
    engagement = q2c.create_engagement(
        pb.CreateEngagementRequest(customer_id=customer.customer_id, display_name="Platform build")
    )
    eid = engagement.engagement_id
    q2c.qualify_engagement(pb.QualifyEngagementRequest(engagement_id=eid))
    won = q2c.close_won_engagement(pb.CloseWonEngagementRequest(engagement_id=eid))
    assert won.state == pb.ENGAGEMENT_STATE_WON, won
    q2c.approve_contract(
        pb.ApproveContractRequest(
            engagement_id=eid,
            currency_code="USD",
            start_date=date(CONTRACT_START),
            end_date=date(CONTRACT_END),
            po_reference="PO-1",
            billing_lines=billing_lines(card.rate_card_id),
        )
    )
    active = q2c.activate_engagement(
        pb.ActivateEngagementRequest(engagement_id=eid, project_template_id="TPL-1")
    )
    assert active.state == pb.ENGAGEMENT_STATE_ACTIVE, active
    return active


def time_entries(*ids: str, day: dt.date = dt.date(2025, 3, 3)) -> list[pb.TimeEntryInput]:
    """Eight engineer hours per id on the T&M line."""
    return [
        pb.TimeEntryInput(
            entry_id=entry_id,
            billing_line_id="TM-1",
            person="bob",
            role="engineer",
            work_date=date(day),
            hours="8",
            description="work",
        )
        for entry_id in ids
    ]
