"""Issued invoices with payments, built through LocalRuntime and posted to the simulated ERP."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from q2c_core.adapters.erp.simulator_connectors import SimulatorErp
from q2c_core.app.connectors import PostedDocument, invoice_key, payment_key
from q2c_core.app.messages import CommandResult
from q2c_core.app.reads import Queries
from q2c_core.app.runtime import LocalRuntime
from q2c_core.domain import commands as cmd
from q2c_core.domain.invoices import Invoice, Payment
from q2c_core.domain.money import Money
from q2c_core.domain.periods import BillingPeriod
from tests.host.helpers import (
    activate,
    approve_contract,
    close_won,
    create,
    envelope,
    new_id,
    qualify,
    seed_customer,
    submit_expense,
)

MARCH = BillingPeriod.month(2025, 3)


@dataclass(frozen=True)
class Billed:
    """An engagement with one issued invoice (expense 120.50 + tax = 131.19 USD) and one payment."""

    tenant_id: str
    engagement_id: str
    invoice: Invoice

    @property
    def payment(self) -> Payment:
        """The invoice's payment."""
        return self.invoice.payments[0]

    @property
    def invoice_key(self) -> str:
        """The invoice's ERP idempotency key."""
        return invoice_key(self.invoice)

    @property
    def payment_key(self) -> str:
        """The payment's ERP idempotency key."""
        return payment_key(self.invoice, self.payment)


async def run(
    runtime: LocalRuntime, tenant_id: str, engagement_id: str, command: cmd.Command
) -> CommandResult:
    """Execute one command, failing the test when it is rejected."""
    result = await runtime.execute(envelope(tenant_id, engagement_id, command))
    assert result.ok, result.error
    return result


async def issued_invoice(runtime: LocalRuntime, tenant_id: str, *, paid: str | None = "50.00") -> Billed:
    """An ACTIVE engagement billed for March: its invoice ISSUED, with a payment unless paid=None."""
    engagement_id = new_id("eng")
    customer_id = seed_customer(runtime.store, tenant_id)
    steps: list[cmd.Command] = [
        create(customer_id),
        qualify(),
        close_won(),
        approve_contract(),
        activate(),
        submit_expense("x1"),
        cmd.ApproveExpenses(expense_ids=["x1"]),
    ]
    for step in steps:
        await run(runtime, tenant_id, engagement_id, step)
    generated = await run(runtime, tenant_id, engagement_id, cmd.GenerateInvoice(period=MARCH))
    assert generated.invoice is not None
    invoice_id = generated.invoice.invoice_id
    await run(runtime, tenant_id, engagement_id, cmd.IssueInvoice(invoice_id=invoice_id))
    if paid is not None:
        payment = cmd.RecordPayment(
            invoice_id=invoice_id, amount=Money.of(paid, "USD"), received_date=date(2025, 4, 2)
        )
        await run(runtime, tenant_id, engagement_id, payment)
    invoice = Queries(runtime.store).get_invoice(tenant_id, invoice_id)
    assert invoice.total.amount == Decimal("131.19")
    return Billed(tenant_id, engagement_id, invoice)


async def post_invoice(runtime: LocalRuntime, erp: SimulatorErp, billed: Billed) -> str:
    """Post the invoice to the ERP and record the posting in q2c (as the delivery worker does)."""
    document = erp.post_invoice(billed.invoice, key=billed.invoice_key)
    assert isinstance(document, PostedDocument), document
    posting = cmd.RecordInvoicePosting(
        engagement_id=billed.engagement_id,
        invoice_id=billed.invoice.invoice_id,
        erp_document_number=document.document_number,
    )
    await run(runtime, billed.tenant_id, billed.engagement_id, posting)
    return document.document_number


def post_payment(erp: SimulatorErp, billed: Billed, invoice_number: str) -> str:
    """Post the invoice's payment to the ERP."""
    document = erp.record_payment(
        billed.invoice, billed.payment, invoice_number=invoice_number, key=billed.payment_key
    )
    assert isinstance(document, PostedDocument), document
    return document.document_number


async def posted_with_payment(runtime: LocalRuntime, erp: SimulatorErp, tenant_id: str) -> Billed:
    """An issued, partly paid invoice whose invoice and payment are both in the ERP."""
    billed = await issued_invoice(runtime, tenant_id)
    number = await post_invoice(runtime, erp, billed)
    post_payment(erp, billed, number)
    return billed
