"""BillingService: invoice reads and mutations (routed to the owning engagement) and bill runs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

from q2c.v1 import billing_pb2, billing_pb2_grpc
from q2c_core.app.reads import Queries
from q2c_core.domain.errors import NotFoundError
from q2c_core.domain.invoices import InvoiceState
from q2c_core.edge.context import current_caller
from q2c_core.edge.converters import convert
from q2c_core.edge.converters.convert_invoices import basic_invoice_view
from q2c_core.edge.deadlines import START_BILL_RUN_SECONDS, require_time
from q2c_core.edge.servicers import Context, blocking, engagement_of, getter, lister

if TYPE_CHECKING:
    from q2c_core.app.runtime import Runtime

WATCH_POLL_SECONDS = 0.2
"""How often WatchBillRun re-reads a running bill run."""


def _invoice_mutation(to_command: Callable[[Any], convert.Mutation]) -> Callable[..., Any]:
    """An RPC handler: run the invoice command on its engagement, return the invoice after it
    in the view asked for.

    It runs as a slim reply (the result carries the changed invoice, not the engagement); a
    replay recorded before results carried it is answered from the engagement rebuilt then."""

    async def handler(self: BillingServicer, request: Any, context: Context) -> billing_pb2.Invoice:
        m = to_command(request)
        basic = basic_invoice_view(request.view)
        caller = current_caller()
        try:
            invoice = (
                await self.runtime.run(
                    caller, m.engagement_id, m.request_id, m.command, slim=True, invoice_lines=not basic
                )
            ).invoice
            if invoice is None:  # a replay of a reply recorded without its invoice
                result = await self.runtime.run(caller, m.engagement_id, m.request_id, m.command)
                invoice = engagement_of(result).invoices[request.invoice_id]
        except NotFoundError as error:
            if error.reason != "ENGAGEMENT_NOT_FOUND":
                raise
            missing = NotFoundError("invoice", request.invoice_id)  # the id names no engagement
            missing.audited = error.audited
            raise missing from None
        return convert.invoice_out(invoice, basic=basic)

    handler.__doc__ = to_command.__doc__
    return handler


def _invoice_filters(
    request: billing_pb2.ListInvoicesRequest,
) -> tuple[str | None, str | None, InvoiceState | None, str | None]:
    state = convert.invoice_state_in(request.state)
    return request.engagement_id or None, request.customer_id or None, state, request.bill_run_id or None


def _invoice_view(
    request: billing_pb2.GetInvoiceRequest | billing_pb2.ListInvoicesRequest,
) -> dict[str, bool]:
    """invoice_out's keyword arguments for the InvoiceView a read asks for."""
    return {"basic": basic_invoice_view(request.view)}


class BillingServicer(billing_pb2_grpc.BillingServiceServicer):
    """q2c.v1.BillingService over a Runtime."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.reads = runtime.queries

    GetInvoice = getter(
        "One invoice (BASIC: without its lines).",
        Queries.get_invoice,
        "invoice_id",
        convert.invoice_out,
        _invoice_view,
    )
    ListInvoices = lister(
        "A page of invoices, filtered by engagement, customer, state and bill run (BASIC: without lines).",
        Queries.list_invoices,
        billing_pb2.ListInvoicesResponse,
        convert.invoice_out,
        _invoice_filters,
        view=_invoice_view,
    )
    IssueInvoice = _invoice_mutation(convert.issue_invoice)
    RecordPayment = _invoice_mutation(convert.record_payment)
    VoidInvoice = _invoice_mutation(convert.void_invoice)

    async def StartBillRun(
        self, request: billing_pb2.StartBillRunRequest, context: Context
    ) -> billing_pb2.BillRun:
        """Start a bill run; it is returned at once and progresses in the background."""
        spec = convert.bill_run_spec(request)
        require_time("a bill run start", START_BILL_RUN_SECONDS)
        run = await self.runtime.start_bill_run(current_caller(), request.request_id or None, spec)
        return convert.bill_run_out(run)

    GetBillRun = getter(
        "One bill run with its current progress.", Queries.get_bill_run, "bill_run_id", convert.bill_run_out
    )
    ListBillRuns = lister(
        "A page of bill runs.", Queries.list_bill_runs, billing_pb2.ListBillRunsResponse, convert.bill_run_out
    )

    async def WatchBillRun(
        self, request: billing_pb2.WatchBillRunRequest, context: Context
    ) -> AsyncIterator[billing_pb2.BillRun]:
        """The run now, then after every change, ending after a terminal state.

        A client that cancels (or whose deadline passes) cancels this task at its next await.
        """
        bill_run_id = convert.require_id(request.bill_run_id, "bill_run_id")
        tenant_id = current_caller().tenant_id
        run = await blocking(self.reads.get_bill_run, tenant_id, bill_run_id)
        yield convert.bill_run_out(run)
        while not run.state.finished:
            await asyncio.sleep(WATCH_POLL_SECONDS)
            latest = await blocking(self.reads.get_bill_run, tenant_id, bill_run_id)
            if latest != run:
                run = latest
                yield convert.bill_run_out(run)

    async def CancelBillRun(
        self, request: billing_pb2.CancelBillRunRequest, context: Context
    ) -> billing_pb2.BillRun:
        """Stop dispatching a PENDING or RUNNING bill run."""
        bill_run_id, reason = convert.cancel_bill_run(request)
        run = await self.runtime.cancel_bill_run(
            current_caller(), request.request_id or None, bill_run_id, reason
        )
        return convert.bill_run_out(run)
