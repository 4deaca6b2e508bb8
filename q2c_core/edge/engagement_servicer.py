"""EngagementService: lifecycle commands go to the runtime, reads to the query side."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from q2c.v1 import billing_pb2, engagement_pb2_grpc
from q2c.v1 import engagement_pb2 as pb
from q2c_core.app.messages import CommandResult, new_resource_id
from q2c_core.domain.commands import GenerateInvoice
from q2c_core.domain.entities import EngagementState
from q2c_core.domain.errors import PreconditionError
from q2c_core.domain.invoices import Invoice, InvoiceState
from q2c_core.domain.periods import BillingPeriod
from q2c_core.edge.context import current_caller
from q2c_core.edge.converters import convert
from q2c_core.edge.converters.convert_common import enum_in
from q2c_core.edge.converters.convert_invoices import invoice_number
from q2c_core.edge.runner import CommandRunner, blocking

if TYPE_CHECKING:
    from q2c_core.app.runtime import Runtime

Context = Any
"""grpc.aio.ServicerContext (unused by these handlers: the interceptor owns metadata)."""


def _mutation(to_command: Callable[[Any], convert.Mutation]) -> Callable[..., Any]:
    """An RPC handler: validate, run the command, return the whole engagement."""

    async def handler(self: EngagementServicer, request: Any, context: Context) -> pb.Engagement:
        mutation = to_command(request)
        engagement = await self.runner.run(mutation.engagement_id, mutation.request_id, mutation.command)
        return convert.engagement_out(engagement)

    handler.__doc__ = to_command.__doc__
    return handler


class EngagementServicer(engagement_pb2_grpc.EngagementServiceServicer):
    """q2c.v1.EngagementService over a Runtime."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.runner = CommandRunner(runtime)

    async def CreateEngagement(self, request: pb.CreateEngagementRequest, context: Context) -> pb.Engagement:
        """Create an engagement; its id is derived from (tenant, request_id) when one is given."""
        command = convert.create_engagement(request)
        engagement_id = new_resource_id(current_caller().tenant_id, request.request_id or None, "engagement")
        engagement = await self.runner.run(engagement_id, request.request_id, command)
        return convert.engagement_out(engagement)

    async def GetEngagement(self, request: pb.GetEngagementRequest, context: Context) -> pb.Engagement:
        """One engagement with its contract, time, expenses and milestones."""
        engagement_id = convert.require_id(request.engagement_id, "engagement_id")
        tenant = current_caller().tenant_id
        engagement = await blocking(self.runtime.queries.get_engagement, tenant, engagement_id)
        return convert.engagement_out(engagement)

    async def ListEngagements(
        self, request: pb.ListEngagementsRequest, context: Context
    ) -> pb.ListEngagementsResponse:
        """A page of engagements (summary view)."""
        state = enum_in(pb.EngagementState, "ENGAGEMENT_STATE_", request.state, EngagementState, "state")
        page = await blocking(
            self.runtime.queries.list_engagements,
            current_caller().tenant_id,
            state,
            request.customer_id or None,
            convert.check_page_size(request.page_size),
            request.page_token,
        )
        return pb.ListEngagementsResponse(
            engagements=[convert.engagement_out(e, summary=True) for e in page.items],
            next_page_token=page.next_page_token,
        )

    QualifyEngagement = _mutation(convert.qualify)
    CloseWonEngagement = _mutation(convert.close_won)
    ApproveContract = _mutation(convert.approve_contract)
    ActivateEngagement = _mutation(convert.activate)
    SubmitTimeEntries = _mutation(convert.submit_time)
    ApproveTimeEntries = _mutation(convert.approve_time)
    RejectTimeEntries = _mutation(convert.reject_time)
    SubmitExpenses = _mutation(convert.submit_expenses)
    ApproveExpenses = _mutation(convert.approve_expenses)
    RejectExpenses = _mutation(convert.reject_expenses)
    CompleteMilestone = _mutation(convert.complete_milestone)
    AcceptMilestone = _mutation(convert.accept_milestone)
    RejectMilestone = _mutation(convert.reject_milestone)
    CompleteEngagement = _mutation(convert.complete)
    CancelEngagement = _mutation(convert.cancel)
    AmendContract = _mutation(convert.amend_contract)

    async def GetInvoiceReadiness(
        self, request: pb.GetInvoiceReadinessRequest, context: Context
    ) -> pb.InvoiceReadiness:
        """What GenerateInvoice would bill for the period now, and what blocks it."""
        engagement_id, period = convert.readiness_query(request)
        draft = await blocking(
            self.runtime.queries.invoice_readiness, current_caller().tenant_id, engagement_id, period
        )
        return convert.readiness_out(engagement_id, request.period, draft)

    async def GenerateInvoice(
        self, request: pb.GenerateInvoiceRequest, context: Context
    ) -> billing_pb2.Invoice:
        """Create the period's DRAFT invoice and return it; hours only held at the cap -> NOTHING_TO_BILL."""
        mutation = convert.generate_invoice(request)
        result = await self.runner.run_result(mutation.engagement_id, mutation.request_id, mutation.command)
        assert isinstance(mutation.command, GenerateInvoice)
        return convert.invoice_out(created_invoice(result, mutation.engagement_id, mutation.command.period))


def created_invoice(result: CommandResult, engagement_id: str, period: BillingPeriod) -> Invoice:
    """The invoice an accepted GenerateInvoice created; none (every hour held at the cap) is an error."""
    if result.invoice is not None:
        return result.invoice
    candidates = [
        invoice
        for invoice in (result.engagement.invoices.values() if result.engagement else ())
        if invoice.period == period and invoice.state is not InvoiceState.VOID
    ]
    if candidates:  # an accepted command leaves no older live invoice for the period
        return max(candidates, key=lambda invoice: invoice_number(invoice.invoice_id))
    error = PreconditionError(
        "NOTHING_TO_BILL",
        f"nothing billable for {period.key}: the approved hours are held at the not-to-exceed cap",
        {"engagement_id": engagement_id, "period": period.key},
    )
    error.audited = True  # the host recorded the accepted command (it held the hours)
    raise error
