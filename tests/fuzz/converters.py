"""Every q2c.v1 request type and the edge converter(s) the gateway runs on it first.

The gateway validates each request through these before anything reaches a runtime or the
store; reads that only check an id or a page size map to those checks.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from google.protobuf.descriptor import Descriptor

from q2c.v1 import (
    audit_pb2,
    billing_pb2,
    customer_pb2,
    delivery_pb2,
    engagement_pb2,
    event_pb2,
    exception_pb2,
    rate_card_pb2,
    reconciliation_pb2,
    reporting_pb2,
)
from q2c.v1 import engagement_pb2 as pb
from q2c_core.domain.entities import EngagementState
from q2c_core.edge.converters import convert
from q2c_core.edge.converters import convert_delivery as delivery
from q2c_core.edge.converters.convert_audit import checkpoint_in
from q2c_core.edge.converters.convert_events import subscription_in
from q2c_core.edge.converters.convert_reconciliation import grace_period_in
from q2c_core.edge.converters.convert_reporting import period_in

Converter = Callable[[Any], Any]
MODULES = (
    audit_pb2,
    billing_pb2,
    customer_pb2,
    delivery_pb2,
    engagement_pb2,
    event_pb2,
    exception_pb2,
    rate_card_pb2,
    reconciliation_pb2,
    reporting_pb2,
)


def request_types() -> dict[str, Descriptor]:
    """Input message of every RPC of every q2c.v1 service, by full name."""
    return {
        method.input_type.full_name: method.input_type
        for module in MODULES
        for service in module.DESCRIPTOR.services_by_name.values()
        for method in service.methods
    }


def _id(field: str) -> Converter:
    return lambda request: convert.require_id(getattr(request, field), field)


def _page(request: Any) -> int:
    return convert.check_page_size(request.page_size)


def _verify(request: audit_pb2.VerifyAuditLogRequest) -> Any:
    return checkpoint_in(request.checkpoint) if request.HasField("checkpoint") else None


def _list_engagements(request: pb.ListEngagementsRequest) -> Any:
    state = convert.enum_in(pb.EngagementState, "ENGAGEMENT_STATE_", request.state, EngagementState, "state")
    return state, _page(request)


def _nothing(request: Any) -> None:
    """RPCs whose handler reads no request field before the store (or has no fields)."""


CONVERTERS: dict[str, tuple[Converter, ...]] = {
    "q2c.v1.ListAuditRecordsRequest": (_id("stream_id"), _page),
    "q2c.v1.VerifyAuditLogRequest": (_verify,),
    "q2c.v1.CreateAuditCheckpointRequest": (_nothing,),
    "q2c.v1.GetAuditCheckpointRequest": (_nothing,),
    "q2c.v1.ListAuditCheckpointsRequest": (_nothing,),
    "q2c.v1.ListSecurityEventsRequest": (_nothing,),
    "q2c.v1.GetInvoiceRequest": (_id("invoice_id"),),
    "q2c.v1.ListInvoicesRequest": (lambda r: convert.invoice_state_in(r.state), _page),
    "q2c.v1.IssueInvoiceRequest": (convert.issue_invoice,),
    "q2c.v1.RecordPaymentRequest": (convert.record_payment,),
    "q2c.v1.VoidInvoiceRequest": (convert.void_invoice,),
    "q2c.v1.StartBillRunRequest": (convert.bill_run_spec,),
    "q2c.v1.GetBillRunRequest": (_id("bill_run_id"),),
    "q2c.v1.ListBillRunsRequest": (_page,),
    "q2c.v1.WatchBillRunRequest": (_id("bill_run_id"),),
    "q2c.v1.CancelBillRunRequest": (convert.cancel_bill_run,),
    "q2c.v1.CreateCustomerRequest": (convert.customer_spec,),
    "q2c.v1.GetCustomerRequest": (_id("customer_id"),),
    "q2c.v1.ListCustomersRequest": (lambda r: convert.customer_status_filter(r.status), _page),
    "q2c.v1.UpdateCustomerRequest": (convert.customer_changes,),
    "q2c.v1.ListDeadLettersRequest": (delivery.dead_letter_filter,),
    "q2c.v1.GetDeadLetterRequest": (lambda r: delivery.delivery_id_in(r.delivery_id),),
    "q2c.v1.RetryDeadLetterRequest": (delivery.retry_filter,),
    "q2c.v1.ListDeliveriesRequest": (delivery.delivery_filter,),
    "q2c.v1.GetDeliveryStatsRequest": (_nothing,),
    "q2c.v1.CreateEngagementRequest": (convert.create_engagement,),
    "q2c.v1.GetEngagementRequest": (_id("engagement_id"),),
    "q2c.v1.ListEngagementsRequest": (_list_engagements,),
    "q2c.v1.QualifyEngagementRequest": (convert.qualify,),
    "q2c.v1.CloseWonEngagementRequest": (convert.close_won,),
    "q2c.v1.ApproveContractRequest": (convert.approve_contract,),
    "q2c.v1.ActivateEngagementRequest": (convert.activate,),
    "q2c.v1.SubmitTimeEntriesRequest": (convert.submit_time,),
    "q2c.v1.ApproveTimeEntriesRequest": (convert.approve_time,),
    "q2c.v1.RejectTimeEntriesRequest": (convert.reject_time,),
    "q2c.v1.SubmitExpensesRequest": (convert.submit_expenses,),
    "q2c.v1.ApproveExpensesRequest": (convert.approve_expenses,),
    "q2c.v1.RejectExpensesRequest": (convert.reject_expenses,),
    "q2c.v1.CompleteMilestoneRequest": (convert.complete_milestone,),
    "q2c.v1.AcceptMilestoneRequest": (convert.accept_milestone,),
    "q2c.v1.RejectMilestoneRequest": (convert.reject_milestone,),
    "q2c.v1.CompleteEngagementRequest": (convert.complete,),
    "q2c.v1.CancelEngagementRequest": (convert.cancel,),
    "q2c.v1.GetInvoiceReadinessRequest": (convert.readiness_query,),
    "q2c.v1.GenerateInvoiceRequest": (convert.generate_invoice,),
    "q2c.v1.AmendContractRequest": (convert.amend_contract,),
    "q2c.v1.SubscribeEventsRequest": (subscription_in,),
    "q2c.v1.ListExceptionsRequest": (convert.exception_filters, _page),
    "q2c.v1.GetExceptionRequest": (_id("exception_id"),),
    "q2c.v1.ResolveExceptionRequest": (convert.resolve_exception,),
    "q2c.v1.CreateRateCardRequest": (convert.rate_card_spec,),
    "q2c.v1.GetRateCardRequest": (_id("rate_card_id"),),
    "q2c.v1.ListRateCardsRequest": (_page,),
    "q2c.v1.RunReconciliationRequest": (grace_period_in,),
    "q2c.v1.GetKpisRequest": (period_in,),
}
"""Request full name -> the converters the gateway applies to it, in order."""
