"""Billing requests -> domain commands: invoices, payments, voids, change orders, bill runs."""

from __future__ import annotations

from typing import Any

from q2c.v1 import billing_pb2
from q2c.v1 import engagement_pb2 as pb
from q2c_core.app.billing.runs import BillRunSpec
from q2c_core.domain import commands as cmd
from q2c_core.domain.money import MINOR_UNITS
from q2c_core.domain.periods import BillingPeriod
from q2c_core.edge.converters.convert_commands import Mutation, billing_lines_payload
from q2c_core.edge.converters.convert_common import Violations, build, date_in, money_payload, require_id
from q2c_core.edge.converters.convert_invoices import engagement_of_invoice
from q2c_core.edge.converters.convert_periods import period_in


def generate_invoice(request: pb.GenerateInvoiceRequest) -> Mutation:
    """GenerateInvoiceRequest -> GenerateInvoice (clients never set a bill_run_id)."""
    bad = Violations()
    require_id(request.engagement_id, "engagement_id", bad)
    period = period_in(request, bad)
    if period is None:
        bad.raise_if_any()
    command = build(cmd.GenerateInvoice, {"period": period, "comment": request.comment}, bad=bad)
    return Mutation(request.engagement_id, request.request_id or None, command)


def amend_contract(request: pb.AmendContractRequest) -> Mutation:
    """AmendContractRequest -> AmendContract; an empty po_reference keeps the current one."""
    bad = Violations()
    require_id(request.engagement_id, "engagement_id", bad)
    effective = date_in(request, "effective_date", "effective_date", bad)
    if effective is None and not bad.covers("effective_date"):
        bad.add("effective_date", "is required")
    payload = {
        "effective_date": effective,
        "billing_lines": billing_lines_payload(request.billing_lines, bad),
        "po_reference": request.po_reference or None,
        "comment": request.comment,
    }
    command = build(cmd.AmendContract, payload, bad=bad)
    return Mutation(request.engagement_id, request.request_id or None, command)


def _invoice_mutation(
    request: Any, command_type: type[cmd.Command], payload: dict[str, Any], bad: Violations
) -> Mutation:
    """Validate first, then route to the engagement that owns the invoice id."""
    require_id(request.invoice_id, "invoice_id", bad)
    command = build(command_type, {"invoice_id": request.invoice_id, **payload}, bad=bad)
    return Mutation(engagement_of_invoice(request.invoice_id), request.request_id or None, command)


def issue_invoice(request: billing_pb2.IssueInvoiceRequest) -> Mutation:
    """IssueInvoiceRequest -> IssueInvoice."""
    return _invoice_mutation(request, cmd.IssueInvoice, {"comment": request.comment}, Violations())


def record_payment(request: billing_pb2.RecordPaymentRequest) -> Mutation:
    """RecordPaymentRequest -> RecordPayment (the amount stays an exact decimal)."""
    bad = Violations()
    received = date_in(request, "received_date", "received_date", bad)
    if received is None and not bad.covers("received_date"):
        bad.add("received_date", "is required")
    payload = {
        "amount": money_payload(request, "amount", "amount", bad),
        "received_date": received,
        "reference": request.reference,
    }
    return _invoice_mutation(request, cmd.RecordPayment, payload, bad)


def void_invoice(request: billing_pb2.VoidInvoiceRequest) -> Mutation:
    """VoidInvoiceRequest -> VoidInvoice."""
    return _invoice_mutation(request, cmd.VoidInvoice, {"reason": request.reason}, Violations())


def bill_run_spec(request: billing_pb2.StartBillRunRequest) -> BillRunSpec:
    """StartBillRunRequest -> BillRunSpec (period, customer and currency filters)."""
    bad = Violations()
    period = period_in(request, bad)
    for i, customer_id in enumerate(request.customer_ids):
        require_id(customer_id, f"customer_ids[{i}]", bad)
    if request.currency_code and request.currency_code not in MINOR_UNITS:
        bad.add("currency_code", f"unknown ISO-4217 currency {request.currency_code!r}")
    if period is None:
        bad.raise_if_any()
    payload = {
        "period": period,
        "customer_ids": list(request.customer_ids),
        "currency": request.currency_code,
    }
    return build(BillRunSpec, payload, bad=bad)


def cancel_bill_run(request: billing_pb2.CancelBillRunRequest) -> tuple[str, str]:
    """CancelBillRunRequest -> (bill_run_id, reason), both required."""
    bad = Violations()
    require_id(request.bill_run_id, "bill_run_id", bad)
    reason = request.reason.strip()
    if not reason:
        bad.add("reason", "is required")
    elif len(reason) > 2000:
        bad.add("reason", "must be at most 2000 characters")
    bad.raise_if_any()
    return request.bill_run_id, reason


def readiness_query(request: pb.GetInvoiceReadinessRequest) -> tuple[str, BillingPeriod]:
    """GetInvoiceReadinessRequest -> (engagement_id, period), every bad field reported at once."""
    bad = Violations()
    require_id(request.engagement_id, "engagement_id", bad)
    period = period_in(request, bad)
    bad.raise_if_any()
    assert period is not None  # period_in names the bad field whenever it returns None
    return request.engagement_id, period
