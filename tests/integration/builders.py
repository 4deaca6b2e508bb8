"""Small builders of the domain objects the connectors carry."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from q2c_core.domain.engagement import Engagement
from q2c_core.domain.entities import StaffingAssignment
from q2c_core.domain.invoices import Invoice, InvoiceLine, InvoiceState, LineSource, Payment, TaxDetail
from q2c_core.domain.money import Money
from q2c_core.domain.periods import BillingPeriod
from q2c_core.domain.reference import Customer, TaxProfile

NOW = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


def eur(amount: str) -> Money:
    """Euros, exactly."""
    return Money(currency="EUR", amount=Decimal(amount))


def customer(**overrides: Any) -> Customer:
    """An active, taxed customer."""
    fields: dict[str, Any] = {
        "customer_id": "cust-1",
        "display_name": "ACME GmbH",
        "billing_currency": "EUR",
        "tax_profile": TaxProfile(jurisdiction="DE", rate=Decimal("0.19")),
        "create_time": NOW,
        "update_time": NOW,
    }
    return Customer(**{**fields, **overrides})


def engagement(**overrides: Any) -> Engagement:
    """An engagement with a staffing plan (no contract needed for provisioning)."""
    fields: dict[str, Any] = {
        "engagement_id": "eng-1",
        "customer_id": "cust-1",
        "display_name": "ERP rollout",
        "service_line": "consulting",
        "start_date": date(2025, 2, 1),
        "project_template_id": "tmpl-std",
        "staffing_plan": [StaffingAssignment(person="ada", role="architect")],
        "create_time": NOW,
        "update_time": NOW,
    }
    return Engagement(**{**fields, **overrides})


def _line(line_id: str, hours: str, rate: str) -> InvoiceLine:
    amount = (Decimal(hours) * Decimal(rate)).quantize(Decimal("0.01"))
    return InvoiceLine(
        line_id=line_id,
        source=LineSource.TIME_ENTRY,
        source_id=f"te-{line_id}",
        billing_line_id="tm",
        contract_revision=1,
        description=f"Consulting {line_id}",
        quantity=Decimal(hours),
        unit_price=eur(rate),
        amount=Money(currency="EUR", amount=amount),
        rounding_rule="ROUND_HALF_UP_PER_LINE",
    )


def invoice(invoice_id: str = "inv-1", **overrides: Any) -> Invoice:
    """An issued invoice of two lines, 19% tax (total 1190.00 EUR)."""
    lines = [_line("l1", "7.5", "100.00"), _line("l2", "2.5", "100.00")]
    fields: dict[str, Any] = {
        "invoice_id": invoice_id,
        "engagement_id": "eng-1",
        "customer_id": "cust-1",
        "period": BillingPeriod.month(2025, 2),
        "state": InvoiceState.ISSUED,
        "currency": "EUR",
        "lines": lines,
        "subtotal": eur("1000.00"),
        "tax": TaxDetail(
            jurisdiction="DE",
            rate=Decimal("0.19"),
            exempt=False,
            amount=eur("190.00"),
            rounding_rule="TAX_ON_SUBTOTAL_HALF_UP",
        ),
        "total": eur("1190.00"),
        "amount_paid": eur("0"),
        "issue_date": date(2025, 3, 1),
        "due_date": date(2025, 3, 31),
        "create_time": NOW,
        "update_time": NOW,
    }
    return Invoice(**{**fields, **overrides})


def payment(payment_id: str = "pay-1", amount: str = "1190.00") -> Payment:
    """A payment received in full."""
    return Payment(
        payment_id=payment_id, amount=eur(amount), received_date=date(2025, 3, 20), record_time=NOW
    )
