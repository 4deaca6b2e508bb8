"""The billing part of the q2c demo: invoice a month, issue and collect it, run a bill run."""

from __future__ import annotations

from datetime import date

from rich.console import Console
from rich.table import Table

from clients.connection import Q2c, money, pb_date
from q2c.v1 import billing_pb2, billing_pb2_grpc, common_pb2, engagement_pb2

console = Console()


def step(text: str) -> None:
    """Print one step of the story."""
    console.print(f"[bold cyan]>[/bold cyan] {text}")


def state_name(invoice: billing_pb2.Invoice) -> str:
    """INVOICE_STATE_PAID -> PAID."""
    return billing_pb2.InvoiceState.Name(invoice.state).removeprefix("INVOICE_STATE_")


def show_invoice(invoice: billing_pb2.Invoice) -> None:
    """The invoice lines and totals as a table."""
    table = Table("source", "item", "qty", "unit price", "amount", title=f"invoice {invoice.invoice_id}")
    for line in invoice.lines:
        source = billing_pb2.InvoiceLineSource.Name(line.source).removeprefix("INVOICE_LINE_SOURCE_")
        table.add_row(source, line.source_id, line.quantity, line.unit_price.amount, line.amount.amount)
    table.add_row("", "subtotal", "", "", invoice.subtotal.amount)
    table.add_row(
        "", f"tax {invoice.tax.jurisdiction} @ {invoice.tax.rate}", "", "", invoice.tax.amount.amount
    )
    table.add_row("", "total", "", "", f"{invoice.total.amount} {invoice.currency_code}")
    console.print(table)


def invoice_month(q: Q2c, engagement_id: str, month: str) -> billing_pb2.Invoice:
    """Generate the month's invoice, issue it, and collect it in two payments."""
    billing = billing_pb2_grpc.BillingServiceStub(q.channel)
    period = common_pb2.BillingPeriod(month=month)
    readiness = q.call(
        q.engagements.GetInvoiceReadiness,
        engagement_pb2.GetInvoiceReadinessRequest(engagement_id=engagement_id, period=period),
    )
    kinds = [engagement_pb2.ReadinessBlockerKind.Name(b.kind)[23:] for b in readiness.blockers]
    step(
        f"readiness for {month}: ready={readiness.ready}, total {readiness.total.amount},"
        f" notes {kinds or 'none'}"
    )
    invoice = q.call(
        q.engagements.GenerateInvoice,
        engagement_pb2.GenerateInvoiceRequest(engagement_id=engagement_id, period=period),
    )
    show_invoice(invoice)
    invoice = q.call(billing.IssueInvoice, billing_pb2.IssueInvoiceRequest(invoice_id=invoice.invoice_id))
    step(
        f"issued {invoice.invoice_id}, due"
        f" {invoice.due_date.year}-{invoice.due_date.month:02d}-{invoice.due_date.day:02d}"
    )
    for share in ("10000.00", None):  # a first instalment, then the rest of the balance
        amount = share or invoice.balance_due.amount
        invoice = q.call(
            billing.RecordPayment,
            billing_pb2.RecordPaymentRequest(
                invoice_id=invoice.invoice_id,
                amount=money(amount, invoice.currency_code),
                received_date=pb_date(date(2026, 2, 20)),
                reference="WIRE-2026-0142",
            ),
        )
        step(f"payment {amount} -> {state_name(invoice)}, balance due {invoice.balance_due.amount}")
    return invoice


def bill_run(q: Q2c, month: str) -> billing_pb2.BillRun:
    """Start a bill run for the month and print its progress as WatchBillRun streams it."""
    billing = billing_pb2_grpc.BillingServiceStub(q.channel)
    run = q.call(
        billing.StartBillRun, billing_pb2.StartBillRunRequest(period=common_pb2.BillingPeriod(month=month))
    )
    step(f"bill run {run.bill_run_id[:8]} for {month} started")
    for progress in q.call(
        billing.WatchBillRun, billing_pb2.WatchBillRunRequest(bill_run_id=run.bill_run_id)
    ):
        state = billing_pb2.BillRunState.Name(progress.state).removeprefix("BILL_RUN_STATE_")
        totals = ", ".join(f"{m.amount} {m.currency_code}" for m in progress.invoiced_totals) or "-"
        step(
            f"  {state}: {progress.engagements_processed}/{progress.engagements_total} engagements,"
            f" {progress.invoices_created} invoiced, {progress.engagements_already_invoiced} already,"
            f" {progress.engagements_skipped} skipped; totals {totals}"
        )
        run = progress
    return run
