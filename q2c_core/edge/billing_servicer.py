"""BillingService: invoice reads and mutations (routed to the owning engagement) and bill runs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

from q2c.v1 import billing_pb2, billing_pb2_grpc
from q2c_core.domain.errors import NotFoundError
from q2c_core.edge.context import current_caller
from q2c_core.edge.converters import convert
from q2c_core.edge.deadlines import START_BILL_RUN_SECONDS, require_time
from q2c_core.edge.runner import CommandRunner, blocking

if TYPE_CHECKING:
    from q2c_core.app.runtime import Runtime

Context = Any
"""grpc.aio.ServicerContext (the interceptor owns metadata, deadlines and errors)."""

WATCH_POLL_SECONDS = 0.2
"""How often WatchBillRun re-reads a running bill run."""


def _invoice_mutation(to_command: Callable[[Any], convert.Mutation]) -> Callable[..., Any]:
    """An RPC handler: run the invoice command on its engagement, return the invoice after it."""

    async def handler(self: BillingServicer, request: Any, context: Context) -> billing_pb2.Invoice:
        mutation = to_command(request)
        try:
            engagement = await self.runner.run(mutation.engagement_id, mutation.request_id, mutation.command)
        except NotFoundError as error:
            if error.reason != "ENGAGEMENT_NOT_FOUND":
                raise
            missing = NotFoundError("invoice", request.invoice_id)  # the id names no engagement
            missing.audited = error.audited
            raise missing from None
        return convert.invoice_out(engagement.invoices[request.invoice_id])

    handler.__doc__ = to_command.__doc__
    return handler


class BillingServicer(billing_pb2_grpc.BillingServiceServicer):
    """q2c.v1.BillingService over a Runtime."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.queries = runtime.queries
        self.runner = CommandRunner(runtime)

    async def GetInvoice(
        self, request: billing_pb2.GetInvoiceRequest, context: Context
    ) -> billing_pb2.Invoice:
        """One invoice."""
        invoice_id = convert.require_id(request.invoice_id, "invoice_id")
        invoice = await blocking(self.queries.get_invoice, current_caller().tenant_id, invoice_id)
        return convert.invoice_out(invoice)

    async def ListInvoices(
        self, request: billing_pb2.ListInvoicesRequest, context: Context
    ) -> billing_pb2.ListInvoicesResponse:
        """A page of invoices, filtered by engagement, customer, state and bill run."""
        page = await blocking(
            self.queries.list_invoices,
            current_caller().tenant_id,
            request.engagement_id or None,
            request.customer_id or None,
            convert.invoice_state_in(request.state),
            request.bill_run_id or None,
            convert.check_page_size(request.page_size),
            request.page_token,
        )
        return billing_pb2.ListInvoicesResponse(
            invoices=[convert.invoice_out(i) for i in page.items], next_page_token=page.next_page_token
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

    async def GetBillRun(
        self, request: billing_pb2.GetBillRunRequest, context: Context
    ) -> billing_pb2.BillRun:
        """One bill run with its current progress."""
        bill_run_id = convert.require_id(request.bill_run_id, "bill_run_id")
        run = await blocking(self.queries.get_bill_run, current_caller().tenant_id, bill_run_id)
        return convert.bill_run_out(run)

    async def ListBillRuns(
        self, request: billing_pb2.ListBillRunsRequest, context: Context
    ) -> billing_pb2.ListBillRunsResponse:
        """A page of bill runs."""
        page = await blocking(
            self.queries.list_bill_runs,
            current_caller().tenant_id,
            convert.check_page_size(request.page_size),
            request.page_token,
        )
        return billing_pb2.ListBillRunsResponse(
            bill_runs=[convert.bill_run_out(r) for r in page.items], next_page_token=page.next_page_token
        )

    async def WatchBillRun(
        self, request: billing_pb2.WatchBillRunRequest, context: Context
    ) -> AsyncIterator[billing_pb2.BillRun]:
        """The run now, then after every change, ending after a terminal state.

        A client that cancels (or whose deadline passes) cancels this task at its next await.
        """
        bill_run_id = convert.require_id(request.bill_run_id, "bill_run_id")
        tenant_id = current_caller().tenant_id
        run = await blocking(self.queries.get_bill_run, tenant_id, bill_run_id)
        yield convert.bill_run_out(run)
        while not run.state.finished:
            await asyncio.sleep(WATCH_POLL_SECONDS)
            latest = await blocking(self.queries.get_bill_run, tenant_id, bill_run_id)
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
