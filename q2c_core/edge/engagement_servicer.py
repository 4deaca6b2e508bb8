"""EngagementService: lifecycle commands go to the runtime, reads to the query side."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from q2c.v1 import billing_pb2, engagement_pb2_grpc
from q2c.v1 import engagement_pb2 as pb
from q2c_core.app.messages import Caller, CommandResult, EngagementSummary, new_resource_id
from q2c_core.app.reads import Queries
from q2c_core.domain.commands import Command, GenerateInvoice
from q2c_core.domain.entities import EngagementState
from q2c_core.domain.errors import PreconditionError
from q2c_core.domain.invoices import Invoice, InvoiceState
from q2c_core.domain.periods import BillingPeriod
from q2c_core.edge.context import current_caller
from q2c_core.edge.converters import convert
from q2c_core.edge.converters.convert_common import enum_in, require_id
from q2c_core.edge.converters.convert_engagement import basic_view, engagement_basic_out
from q2c_core.edge.converters.convert_invoices import basic_invoice_view, invoice_number
from q2c_core.edge.servicers import Context, blocking, engagement_of, lister

if TYPE_CHECKING:
    from q2c_core.app.runtime import Runtime


def _mutation(to_command: Callable[[Any], convert.Mutation]) -> Callable[..., Any]:
    """An RPC handler: validate, run the command, return the engagement in the view asked for."""

    async def handler(self: EngagementServicer, request: Any, context: Context) -> pb.Engagement:
        m = to_command(request)
        basic = basic_view(request.view)
        return await self.reply(current_caller(), m.engagement_id, m.request_id, m.command, basic)

    handler.__doc__ = to_command.__doc__
    return handler


def _engagement_filters(request: pb.ListEngagementsRequest) -> tuple[EngagementState | None, str | None]:
    state = enum_in(pb.EngagementState, "ENGAGEMENT_STATE_", request.state, EngagementState, "state")
    return state, request.customer_id or None


class EngagementServicer(engagement_pb2_grpc.EngagementServiceServicer):
    """q2c.v1.EngagementService over a Runtime."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.reads = runtime.queries

    async def reply(
        self, caller: Caller, engagement_id: str, request_id: str | None, command: Command, basic: bool
    ) -> pb.Engagement:
        """Run the command; the whole engagement, or for BASIC its summary, which the host sends
        instead of the engagement (a slim reply: no engagement tree pickled across Ray)."""
        if not basic:
            result = await self.runtime.run(caller, engagement_id, request_id, command)
            return convert.engagement_out(engagement_of(result))
        summary = (await self.runtime.run(caller, engagement_id, request_id, command, slim=True)).summary
        if summary is None:  # a replay read from the store: ask for the engagement as it was then
            result = await self.runtime.run(caller, engagement_id, request_id, command)
            summary = EngagementSummary.of(engagement_of(result))
        return engagement_basic_out(summary)

    async def CreateEngagement(self, request: pb.CreateEngagementRequest, context: Context) -> pb.Engagement:
        """Create an engagement; its id is derived from (tenant, request_id) when one is given."""
        command = convert.create_engagement(request)
        basic = basic_view(request.view)
        caller = current_caller()
        engagement_id = new_resource_id(caller.tenant_id, request.request_id or None, "engagement")
        return await self.reply(caller, engagement_id, request.request_id, command, basic)

    async def GetEngagement(self, request: pb.GetEngagementRequest, context: Context) -> pb.Engagement:
        """One engagement with its contract, time, expenses and milestones (BASIC: its own fields)."""
        basic = basic_view(request.view)
        engagement_id = require_id(request.engagement_id, "engagement_id")
        reads, tenant_id = self.reads, current_caller().tenant_id
        engagement = await blocking(reads.get_engagement, tenant_id, engagement_id)
        if basic:
            return engagement_basic_out(EngagementSummary.of(engagement))
        return convert.engagement_out(engagement)

    ListEngagements = lister(
        "A page of engagements (summary view).",
        Queries.list_engagements,
        pb.ListEngagementsResponse,
        partial(convert.engagement_out, summary=True),
        _engagement_filters,
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
            self.reads.invoice_readiness, current_caller().tenant_id, engagement_id, period
        )
        return convert.readiness_out(engagement_id, request.period, draft)

    async def GenerateInvoice(
        self, request: pb.GenerateInvoiceRequest, context: Context
    ) -> billing_pb2.Invoice:
        """Create the period's DRAFT invoice and return it in the view asked for; hours only held at
        the cap -> NOTHING_TO_BILL."""
        m = convert.generate_invoice(request)
        basic = basic_invoice_view(request.view)
        caller = current_caller()
        result = await self.runtime.run(
            caller, m.engagement_id, m.request_id, m.command, slim=True, invoice_lines=not basic
        )
        if result.invoice is None and result.replayed:  # recorded without its invoice: look it up
            result = await self.runtime.run(caller, m.engagement_id, m.request_id, m.command)
        assert isinstance(m.command, GenerateInvoice)
        invoice = created_invoice(result, m.engagement_id, m.command.period)
        return convert.invoice_out(invoice, basic=basic)


def created_invoice(result: CommandResult, engagement_id: str, period: BillingPeriod) -> Invoice:
    """The invoice an accepted GenerateInvoice created; none (every hour held at the cap) is an error.

    A slim result carries the invoice; a full one (a replay of a reply recorded without it) the
    engagement, where the invoice is the period's newest live one."""
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
