"""The CLI's only door to the server: every gRPC call the `q2c` commands make goes through here.

Commands see protobuf messages and `grpc.RpcError`s, nothing else; when the typed Python SDK
lands, this module is the one to swap.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import grpc

from clients.connection import Q2c
from q2c.v1 import (
    audit_pb2,
    billing_pb2,
    common_pb2,
    customer_pb2,
    delivery_pb2,
    delivery_pb2_grpc,
    engagement_pb2,
    exception_pb2,
    rate_card_pb2,
)

MAX_PAGE_SIZE = 500
"""The largest page the server serves; bigger requests are coerced to it."""

TERMINAL_BILL_RUN_STATES = frozenset(
    {
        billing_pb2.BILL_RUN_STATE_SUCCEEDED,
        billing_pb2.BILL_RUN_STATE_CANCELLED,
        billing_pb2.BILL_RUN_STATE_FAILED,
    }
)
WATCH_RECONNECTS = 3
"""How often a watch resumes after the stream is cut (UNAVAILABLE) before giving up."""


class CliApi:
    """Typed operations over one connection (credentials, TLS, deadline per call).

    `connection` is what `clients.connection.Q2c` takes besides target and deadline: `token`,
    `token_file`, `tls_ca_file`, `tls_cert_file`, `tls_key_file` and the `tenant_id` /
    `principal` hints.
    """

    def __init__(self, target: str, timeout: float, **connection: Any) -> None:
        self.target = target
        self.q = Q2c(target, deadline=timeout, **connection)
        self.deliveries = delivery_pb2_grpc.DeliveryServiceStub(self.q.channel)

    def close(self) -> None:
        """Close the channel."""
        self.q.close()

    def page_through(self, method: Any, request: Any, field: str, limit: int) -> Any:
        """Follow next_page_token until `limit` items (0 = all); one merged response message.

        The merged response has every item fetched in `field` and, when more remain, the token
        to continue from (keyset tokens, so it resumes exactly after the last item returned).
        """
        merged: Any = None
        while True:
            fetched = 0 if merged is None else len(getattr(merged, field))
            request.page_size = min(limit - fetched, MAX_PAGE_SIZE) if limit else MAX_PAGE_SIZE
            response = self.q.call(method, request)
            if merged is None:
                merged = type(response)()
            getattr(merged, field).extend(getattr(response, field))
            merged.next_page_token = response.next_page_token
            done = limit and len(getattr(merged, field)) >= limit
            if not response.next_page_token or done:
                return merged
            request.page_token = response.next_page_token

    # --- reference data -------------------------------------------------------------------
    def list_customers(self, request: customer_pb2.ListCustomersRequest, limit: int) -> Any:
        """Customers, ordered as the server lists them."""
        return self.page_through(self.q.customers.ListCustomers, request, "customers", limit)

    def get_customer(self, customer_id: str) -> customer_pb2.Customer:
        """One customer."""
        request = customer_pb2.GetCustomerRequest(customer_id=customer_id)
        return self.q.call(self.q.customers.GetCustomer, request)  # type: ignore[no-any-return]

    def list_rate_cards(self, request: rate_card_pb2.ListRateCardsRequest, limit: int) -> Any:
        """The latest revision of each rate card."""
        return self.page_through(self.q.rate_cards.ListRateCards, request, "rate_cards", limit)

    def get_rate_card(self, rate_card_id: str, revision: int = 0) -> rate_card_pb2.RateCard:
        """One rate card revision (0 = the latest)."""
        request = rate_card_pb2.GetRateCardRequest(rate_card_id=rate_card_id, revision=revision)
        return self.q.call(self.q.rate_cards.GetRateCard, request)  # type: ignore[no-any-return]

    # --- engagements and exceptions ----------------------------------------------------------
    def list_engagements(self, request: engagement_pb2.ListEngagementsRequest, limit: int) -> Any:
        """Engagements matching the request's filters."""
        return self.page_through(self.q.engagements.ListEngagements, request, "engagements", limit)

    def get_engagement(
        self, engagement_id: str, view: int = engagement_pb2.ENGAGEMENT_VIEW_UNSPECIFIED
    ) -> engagement_pb2.Engagement:
        """One engagement with its contract, time, expenses and milestones (`view` BASIC: its own
        fields only)."""
        request = engagement_pb2.GetEngagementRequest(engagement_id=engagement_id, view=view)
        return self.q.call(self.q.engagements.GetEngagement, request)  # type: ignore[no-any-return]

    def list_exceptions(self, request: exception_pb2.ListExceptionsRequest, limit: int) -> Any:
        """Business exceptions matching the request's filters, in its order (default oldest first)."""
        return self.page_through(self.q.exceptions.ListExceptions, request, "exceptions", limit)

    def get_exception(self, exception_id: str) -> exception_pb2.BusinessException:
        """One business exception."""
        request = exception_pb2.GetExceptionRequest(exception_id=exception_id)
        return self.q.call(self.q.exceptions.GetException, request)  # type: ignore[no-any-return]

    def resolve_exception(self, request: exception_pb2.ResolveExceptionRequest) -> Any:
        """OPEN -> RESOLVED (a request_id is added, so a retry is safe)."""
        return self.q.call(self.q.exceptions.ResolveException, request)

    # --- billing ----------------------------------------------------------------------------
    def list_invoices(self, request: billing_pb2.ListInvoicesRequest, limit: int) -> Any:
        """Invoices matching the request's filters."""
        return self.page_through(self.q.billing.ListInvoices, request, "invoices", limit)

    def get_invoice(self, invoice_id: str) -> billing_pb2.Invoice:
        """One invoice with its lines, tax and payments."""
        request = billing_pb2.GetInvoiceRequest(invoice_id=invoice_id)
        return self.q.call(self.q.billing.GetInvoice, request)  # type: ignore[no-any-return]

    def start_bill_run(self, month: str, customer_ids: list[str], currency: str) -> billing_pb2.BillRun:
        """Start a bill run for a calendar month."""
        request = billing_pb2.StartBillRunRequest(
            period=common_pb2.BillingPeriod(month=month), customer_ids=customer_ids, currency_code=currency
        )
        return self.q.call(self.q.billing.StartBillRun, request)  # type: ignore[no-any-return]

    def list_bill_runs(self, limit: int, page_token: str = "") -> Any:
        """Bill runs, newest first."""
        request = billing_pb2.ListBillRunsRequest(page_token=page_token)
        return self.page_through(self.q.billing.ListBillRuns, request, "bill_runs", limit)

    def get_bill_run(self, bill_run_id: str) -> billing_pb2.BillRun:
        """One bill run with its progress."""
        request = billing_pb2.GetBillRunRequest(bill_run_id=bill_run_id)
        return self.q.call(self.q.billing.GetBillRun, request)  # type: ignore[no-any-return]

    def cancel_bill_run(self, bill_run_id: str, reason: str) -> billing_pb2.BillRun:
        """Stop dispatching a PENDING or RUNNING bill run."""
        request = billing_pb2.CancelBillRunRequest(bill_run_id=bill_run_id, reason=reason)
        return self.q.call(self.q.billing.CancelBillRun, request)  # type: ignore[no-any-return]

    def watch_bill_run(self, bill_run_id: str) -> Iterator[billing_pb2.BillRun]:
        """Every state of the run until a terminal one; resumes a cut stream (no deadline)."""
        request = billing_pb2.WatchBillRunRequest(bill_run_id=bill_run_id)
        reconnects = 0
        while True:
            try:
                for run in self.q.billing.WatchBillRun(request, metadata=self.q.metadata, timeout=None):
                    yield run
                    if run.state in TERMINAL_BILL_RUN_STATES:
                        return
            except grpc.RpcError as error:
                if error.code() != grpc.StatusCode.UNAVAILABLE or reconnects >= WATCH_RECONNECTS:
                    raise
            reconnects += 1

    # --- audit ------------------------------------------------------------------------------
    def list_audit_records(self, stream_id: str, limit: int, page_token: str = "") -> Any:
        """One stream's audit chain, in sequence order."""
        request = audit_pb2.ListAuditRecordsRequest(stream_id=stream_id, page_token=page_token)
        return self.page_through(self.q.audit.ListAuditRecords, request, "audit_records", limit)

    def verify_audit_log(self, stream_id: str) -> audit_pb2.VerifyAuditLogResponse:
        """Recompute the hash chain of one stream, or of every stream of the tenant (following
        the server's page tokens to the end; the last reply counts every page)."""
        request = audit_pb2.VerifyAuditLogRequest(stream_id=stream_id)
        response: audit_pb2.VerifyAuditLogResponse = self.q.call(self.q.audit.VerifyAuditLog, request)
        while response.next_page_token:
            request.page_token = response.next_page_token
            response = self.q.call(self.q.audit.VerifyAuditLog, request)
        return response

    # --- deliveries ---------------------------------------------------------------------------
    def list_dead_letters(self, request: delivery_pb2.ListDeadLettersRequest, limit: int) -> Any:
        """Dead letters matching the request's filters, oldest first."""
        return self.page_through(self.deliveries.ListDeadLetters, request, "dead_letters", limit)

    def get_dead_letter(self, delivery_id: int) -> delivery_pb2.Delivery:
        """One delivery item with its attempt history."""
        request = delivery_pb2.GetDeadLetterRequest(delivery_id=delivery_id)
        return self.q.call(self.deliveries.GetDeadLetter, request)  # type: ignore[no-any-return]

    def retry_dead_letter(
        self, request: delivery_pb2.RetryDeadLetterRequest
    ) -> delivery_pb2.RetryDeadLetterResponse:
        """Dead letters back to PENDING (a request_id is added, so a retry is safe)."""
        return self.q.call(self.deliveries.RetryDeadLetter, request)  # type: ignore[no-any-return]

    def list_deliveries(self, request: delivery_pb2.ListDeliveriesRequest, limit: int) -> Any:
        """Delivery items of any status matching the request's filters."""
        return self.page_through(self.deliveries.ListDeliveries, request, "deliveries", limit)

    def get_delivery_stats(self) -> delivery_pb2.DeliveryStats:
        """Counts per destination and the outbox lag."""
        request = delivery_pb2.GetDeliveryStatsRequest()
        return self.q.call(self.deliveries.GetDeliveryStats, request)  # type: ignore[no-any-return]
