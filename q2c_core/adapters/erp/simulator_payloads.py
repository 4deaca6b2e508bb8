"""q2c domain objects as the simulator's JSON (the ERP/PSA wire shapes), built deterministically.

Mapping (every amount is an exact decimal string, never a float, with its currency alongside):

* ``Customer`` -> ``PUT /erp/customers/{key}``: ``customer_id``, ``name`` (display name),
  ``legal_entity``, ``currency`` (billing currency), ``payment_terms_days``, ``po_required``,
  ``status``, ``tax`` (``jurisdiction``, ``rate``, ``exempt``; null without a tax profile).
* ``Engagement`` -> ``PUT /erp/jobs/{key}`` and ``PUT /psa/projects/{key}``: ``engagement_id``,
  ``customer`` (customer id), ``name``, ``service_line``, ``opportunity_ref``, ``start_date``,
  ``end_date`` and ``currency`` / ``po_reference`` from the current contract; the PSA project
  adds ``project_template_id`` and ``roles`` (the staffing plan's roles, sorted).
* ``Invoice`` -> ``POST /erp/invoices``: ``invoice_id``, ``engagement_id``, ``customer``,
  ``currency``, ``period`` (``start``, ``end``), ``issue_date``, ``due_date``,
  ``po_reference``, ``lines`` (``line_id``, ``description``, ``quantity``, ``unit_price``,
  ``amount``), ``line_count``, ``subtotal``, ``tax`` (``jurisdiction``, ``rate``, ``exempt``,
  ``amount``), ``total``.
* ``Payment`` -> ``POST /erp/payments``: ``payment_id``, ``invoice_id``, ``invoice_number``
  (the ERP's number of the invoice), ``currency``, ``amount``, ``received_date``, ``reference``.

Only fields fixed once the document is issued are sent (no state, amount paid, payments or
update times), so a retry of the same document always sends the same payload and the ERP's
key check replays it instead of reporting a conflict.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from q2c_core.domain.engagement import Engagement
from q2c_core.domain.invoices import Invoice, InvoiceLine, Payment
from q2c_core.domain.reference import Customer


def exact(amount: Decimal) -> str:
    """A decimal as a plain string with every digit kept (never exponent notation)."""
    return format(amount, "f")


def _day(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


def customer_json(customer: Customer) -> dict[str, Any]:
    """The ERP customer record."""
    tax = customer.tax_profile
    return {
        "customer_id": customer.customer_id,
        "name": customer.display_name,
        "legal_entity": customer.legal_entity,
        "currency": customer.billing_currency,
        "payment_terms_days": customer.payment_terms_days,
        "po_required": customer.po_required,
        "status": customer.status.value,
        "tax": None
        if tax is None
        else {"jurisdiction": tax.jurisdiction, "rate": exact(tax.rate), "exempt": tax.exempt},
    }


def job_json(engagement: Engagement) -> dict[str, Any]:
    """The ERP job for an engagement."""
    contract = engagement.contract
    return {
        "engagement_id": engagement.engagement_id,
        "customer": engagement.customer_id,
        "name": engagement.display_name,
        "service_line": engagement.service_line,
        "opportunity_ref": engagement.opportunity_ref,
        "start_date": _day(engagement.start_date or (contract.start_date if contract else None)),
        "end_date": _day(contract.end_date if contract else None),
        "currency": contract.currency if contract else None,
        "po_reference": contract.po_reference if contract else "",
    }


def project_json(engagement: Engagement) -> dict[str, Any]:
    """The PSA project for an engagement."""
    roles = sorted({assignment.role for assignment in engagement.staffing_plan})
    return {**job_json(engagement), "project_template_id": engagement.project_template_id, "roles": roles}


def _line_json(line: InvoiceLine) -> dict[str, Any]:
    return {
        "line_id": line.line_id,
        "description": line.description,
        "quantity": exact(line.quantity),
        "unit_price": exact(line.unit_price.amount),
        "amount": exact(line.amount.amount),
    }


def invoice_json(invoice: Invoice) -> dict[str, Any]:
    """The ERP invoice posting."""
    return {
        "invoice_id": invoice.invoice_id,
        "engagement_id": invoice.engagement_id,
        "customer": invoice.customer_id,
        "currency": invoice.currency,
        "period": {"start": invoice.period.start.isoformat(), "end": invoice.period.end.isoformat()},
        "issue_date": _day(invoice.issue_date),
        "due_date": _day(invoice.due_date),
        "po_reference": invoice.po_reference,
        "lines": [_line_json(line) for line in invoice.lines],
        "line_count": len(invoice.lines),
        "subtotal": exact(invoice.subtotal.amount),
        "tax": {
            "jurisdiction": invoice.tax.jurisdiction,
            "rate": exact(invoice.tax.rate),
            "exempt": invoice.tax.exempt,
            "amount": exact(invoice.tax.amount.amount),
        },
        "total": exact(invoice.total.amount),
    }


def payment_json(invoice: Invoice, payment: Payment, invoice_number: str) -> dict[str, Any]:
    """The ERP payment posting against the invoice's ERP number."""
    return {
        "payment_id": payment.payment_id,
        "invoice_id": invoice.invoice_id,
        "invoice_number": invoice_number,
        "currency": payment.amount.currency,
        "amount": exact(payment.amount.amount),
        "received_date": payment.received_date.isoformat(),
        "reference": payment.reference,
    }
