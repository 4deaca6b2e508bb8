"""Seed a tenant through gRPC for the CLI tests: customers, a rate card, engagements, an
invoice, a blocking exception and a finished bill run.

The seeder submits time and a second principal approves it (separation of duties), each with a
token for the new tenant.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import date

from clients.connection import Q2c
from q2c.v1 import billing_pb2, common_pb2, customer_pb2, exception_pb2, rate_card_pb2
from q2c.v1 import engagement_pb2 as pb
from tests import credentials
from tests.service.client import contract_request, customer, gdate, rate_card, time_entry

CONTRACT_START = date(2026, 1, 1)
CONTRACT_END = date(2026, 12, 31)
WORK_DAYS = (date(2026, 1, 5), date(2026, 1, 6))
INVOICED_MONTH = "2026-01"
SEEDED_RUN_MONTH = "2025-12"


@dataclass(frozen=True)
class Seed:
    """Ids of everything seeded, in one fresh tenant."""

    tenant_id: str
    customer_id: str
    rate_card_id: str
    engagement_id: str
    billable_engagement_id: str
    held_engagement_id: str
    invoice_id: str
    exception_id: str
    bill_run_id: str


def seed(target: str) -> Seed:
    """Create the scenario over gRPC in a new tenant and return its ids."""
    tenant_id = f"tenant-{uuid.uuid4().hex}"
    q = Q2c(target, token=credentials.token(tenant_id, "seeder"), deadline=20.0)
    approver = Q2c(target, token=credentials.token(tenant_id, "approver"), deadline=20.0)
    try:
        card = q.call(q.rate_cards.CreateRateCard, rate_card_pb2.CreateRateCardRequest(rate_card=rate_card()))
        acme = _customer(q, customer(display_name="Acme"))
        invoiced = _active_with_time(q, approver, acme.customer_id, card.rate_card_id)
        billable = _active_with_time(q, approver, acme.customer_id, card.rate_card_id)
        invoice = q.call(
            q.engagements.GenerateInvoice,
            pb.GenerateInvoiceRequest(
                engagement_id=invoiced, period=common_pb2.BillingPeriod(month=INVOICED_MONTH)
            ),
        )
        held, exception_id = _held(q)
        return Seed(
            tenant_id,
            acme.customer_id,
            card.rate_card_id,
            invoiced,
            billable,
            held,
            invoice.invoice_id,
            exception_id,
            _finished_bill_run(q, SEEDED_RUN_MONTH),
        )
    finally:
        q.close()
        approver.close()


def _customer(q: Q2c, fields: customer_pb2.Customer) -> customer_pb2.Customer:
    result: customer_pb2.Customer = q.call(
        q.customers.CreateCustomer, customer_pb2.CreateCustomerRequest(customer=fields)
    )
    return result


def _drafted(q: Q2c, customer_id: str) -> str:
    created = q.call(
        q.engagements.CreateEngagement,
        pb.CreateEngagementRequest(
            customer_id=customer_id, display_name="Platform build", opportunity_ref="OPP-7"
        ),
    )
    q.call(q.engagements.QualifyEngagement, pb.QualifyEngagementRequest(engagement_id=created.engagement_id))
    return str(created.engagement_id)


def _active_with_time(q: Q2c, approver: Q2c, customer_id: str, rate_card_id: str) -> str:
    """An ACTIVE engagement with two time entries in January 2026, approved by `approver`."""
    engagement_id = _drafted(q, customer_id)
    q.call(q.engagements.CloseWonEngagement, pb.CloseWonEngagementRequest(engagement_id=engagement_id))
    contract = contract_request(
        engagement_id, rate_card_id, start_date=gdate(CONTRACT_START), end_date=gdate(CONTRACT_END)
    )
    contract.request_id = ""
    q.call(q.engagements.ApproveContract, contract)
    q.call(
        q.engagements.ActivateEngagement,
        pb.ActivateEngagementRequest(
            engagement_id=engagement_id, start_date=gdate(CONTRACT_START), project_template_id="TPL-1"
        ),
    )
    entries = [time_entry(n, hours="7.5", day=day) for n, day in enumerate(WORK_DAYS, start=1)]
    q.call(
        q.engagements.SubmitTimeEntries,
        pb.SubmitTimeEntriesRequest(engagement_id=engagement_id, entries=entries),
    )
    approver.call(
        approver.engagements.ApproveTimeEntries,
        pb.ApproveTimeEntriesRequest(engagement_id=engagement_id, entry_ids=[e.entry_id for e in entries]),
    )
    return engagement_id


def _held(q: Q2c) -> tuple[str, str]:
    """An engagement ON_HOLD at close-won (customer without tax profile) and its exception."""
    globex = _customer(q, customer(display_name="Globex", legal_entity="Globex Corp", tax_profile=None))
    engagement_id = _drafted(q, globex.customer_id)
    held = q.call(q.engagements.CloseWonEngagement, pb.CloseWonEngagementRequest(engagement_id=engagement_id))
    assert held.state == pb.ENGAGEMENT_STATE_ON_HOLD, held
    queue = q.call(
        q.exceptions.ListExceptions, exception_pb2.ListExceptionsRequest(engagement_id=engagement_id)
    )
    return engagement_id, queue.exceptions[0].exception_id


def _finished_bill_run(q: Q2c, month: str) -> str:
    """Start a bill run and wait until it reaches a terminal state."""
    run = q.call(
        q.billing.StartBillRun, billing_pb2.StartBillRunRequest(period=common_pb2.BillingPeriod(month=month))
    )
    deadline = time.monotonic() + 30
    while run.state not in (billing_pb2.BILL_RUN_STATE_SUCCEEDED, billing_pb2.BILL_RUN_STATE_FAILED):
        assert time.monotonic() < deadline, run
        time.sleep(0.05)
        run = q.call(q.billing.GetBillRun, billing_pb2.GetBillRunRequest(bill_run_id=run.bill_run_id))
    return str(run.bill_run_id)
