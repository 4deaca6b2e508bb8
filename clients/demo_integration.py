"""The integration part of the q2c demo: the ERP acknowledges postings, delivery statistics,
and a reconciliation that catches an amount someone changed in the ERP."""

from __future__ import annotations

import time

from google.protobuf import duration_pb2
from rich.console import Console
from rich.table import Table

from clients.connection import Q2c
from q2c.v1 import (
    billing_pb2,
    billing_pb2_grpc,
    delivery_pb2,
    delivery_pb2_grpc,
    exception_pb2,
    reconciliation_pb2,
    reconciliation_pb2_grpc,
)
from simulator.client import SimulatorClient

console = Console()


def step(text: str) -> None:
    """Print one step of the story."""
    console.print(f"[bold cyan]>[/bold cyan] {text}")


def wait_posted(q: Q2c, invoice_id: str, timeout: float = 60.0) -> billing_pb2.Invoice:
    """Poll GetInvoice until the ERP's document number is recorded on the invoice."""
    billing = billing_pb2_grpc.BillingServiceStub(q.channel)
    deadline = time.monotonic() + timeout
    while True:
        invoice = q.call(billing.GetInvoice, billing_pb2.GetInvoiceRequest(invoice_id=invoice_id))
        if invoice.erp_document_number or time.monotonic() > deadline:
            return invoice
        time.sleep(0.2)


def show_stats(q: Q2c) -> None:
    """Delivery statistics per destination."""
    deliveries = delivery_pb2_grpc.DeliveryServiceStub(q.channel)
    stats = q.call(deliveries.GetDeliveryStats, delivery_pb2.GetDeliveryStatsRequest())
    table = Table("destination", "pending", "delivered", "dead letters", "attempts", title="delivery")
    for d in stats.destinations:
        name = delivery_pb2.DeliveryDestination.Name(d.destination).removeprefix("DELIVERY_DESTINATION_")
        table.add_row(name, str(d.pending), str(d.delivered), str(d.dead), str(d.attempts))
    console.print(table)


def integration(q: Q2c, erp_url: str, invoice_id: str) -> None:
    """Posting acknowledged, statistics, then a planted ERP change found by reconciliation."""
    invoice = wait_posted(q, invoice_id)
    state = billing_pb2.InvoiceState.Name(invoice.state).removeprefix("INVOICE_STATE_")
    step(
        f"ERP acknowledged invoice {invoice_id[:8]} as {invoice.erp_document_number or '(not yet)'} ({state})"
    )
    show_stats(q)
    erp = SimulatorClient(erp_url)
    erp.tamper("invoice", f"q2c:invoice:{invoice_id}", fields={"total": "1.00"})
    step("someone changes the invoice total in the ERP to 1.00")
    reconciliation = reconciliation_pb2_grpc.ReconciliationServiceStub(q.channel)
    report = q.call(
        reconciliation.RunReconciliation,
        reconciliation_pb2.RunReconciliationRequest(grace_period=duration_pb2.Duration(seconds=0)),
    )
    for m in report.mismatches:
        kind = reconciliation_pb2.ReconciliationMismatchKind.Name(m.kind).removeprefix(
            "RECONCILIATION_MISMATCH_KIND_"
        )
        step(f"  reconciliation: {kind} on {m.invoice_id[:8]}: {m.detail}")
    step(
        f"reconciliation checked {report.invoices_checked} invoices, {report.payments_checked} payments:"
        f" {len(report.mismatches)} mismatch(es), {report.exceptions_raised} exception(s) raised"
    )
    queue = q.call(
        q.exceptions.ListExceptions,
        exception_pb2.ListExceptionsRequest(
            owner_queue=exception_pb2.OWNER_QUEUE_FINANCE_OPS, state=exception_pb2.EXCEPTION_STATE_OPEN
        ),
    )
    for item in queue.exceptions:
        step(f"  finance ops queue: {item.check} - {item.message[:90]}")
