"""BillingService methods of the q2c client (one per RPC; see `q2c/v1/billing.proto`)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Unpack

from q2c.v1 import billing_pb2
from q2c_sdk.stubs import Bound
from q2c_sdk.transport import CallOptions, MutationOptions


class BillingMethods(Bound):
    """BillingService: every RPC as a typed method taking the request message and per-call options."""

    def get_invoice(
        self, request: billing_pb2.GetInvoiceRequest, **options: Unpack[CallOptions]
    ) -> billing_pb2.Invoice:
        """Returns one invoice.

        `BillingService.GetInvoice`. Read: retried on UNAVAILABLE.
        """
        return self._transport.read(self._stubs.billing.GetInvoice, request, billing_pb2.Invoice, options)

    def list_invoices(
        self, request: billing_pb2.ListInvoicesRequest, **options: Unpack[CallOptions]
    ) -> billing_pb2.ListInvoicesResponse:
        """Lists invoices ordered by create_time, then invoice_id.

        `BillingService.ListInvoices`. Read: retried on UNAVAILABLE.
        """
        return self._transport.read(
            self._stubs.billing.ListInvoices, request, billing_pb2.ListInvoicesResponse, options
        )

    def issue_invoice(
        self, request: billing_pb2.IssueInvoiceRequest, **options: Unpack[MutationOptions]
    ) -> billing_pb2.Invoice:
        """DRAFT -> ISSUED: sets issue_date (today, UTC) and due_date (issue_date + the customer's
        payment_terms_days).

        `BillingService.IssueInvoice`. Mutation: idempotent by request_id (set automatically; retried on
        UNAVAILABLE).
        """
        return self._transport.mutate(self._stubs.billing.IssueInvoice, request, billing_pb2.Invoice, options)

    def record_payment(
        self, request: billing_pb2.RecordPaymentRequest, **options: Unpack[MutationOptions]
    ) -> billing_pb2.Invoice:
        """Records a payment against an ISSUED or PARTIALLY_PAID invoice: PARTIALLY_PAID while a balance
        remains, PAID when balance_due reaches zero.

        `BillingService.RecordPayment`. Mutation: idempotent by request_id (set automatically; retried on
        UNAVAILABLE).
        """
        return self._transport.mutate(
            self._stubs.billing.RecordPayment, request, billing_pb2.Invoice, options
        )

    def void_invoice(
        self, request: billing_pb2.VoidInvoiceRequest, **options: Unpack[MutationOptions]
    ) -> billing_pb2.Invoice:
        """DRAFT, or ISSUED without payments -> VOID.

        `BillingService.VoidInvoice`. Mutation: idempotent by request_id (set automatically; retried on
        UNAVAILABLE).
        """
        return self._transport.mutate(self._stubs.billing.VoidInvoice, request, billing_pb2.Invoice, options)

    def start_bill_run(
        self, request: billing_pb2.StartBillRunRequest, **options: Unpack[MutationOptions]
    ) -> billing_pb2.BillRun:
        """Starts a bill run and returns it at once (PENDING or already RUNNING).

        `BillingService.StartBillRun`. Mutation: idempotent by request_id (set automatically; retried on
        UNAVAILABLE).
        """
        return self._transport.mutate(self._stubs.billing.StartBillRun, request, billing_pb2.BillRun, options)

    def get_bill_run(
        self, request: billing_pb2.GetBillRunRequest, **options: Unpack[CallOptions]
    ) -> billing_pb2.BillRun:
        """Returns one bill run with its current progress.

        `BillingService.GetBillRun`. Read: retried on UNAVAILABLE.
        """
        return self._transport.read(self._stubs.billing.GetBillRun, request, billing_pb2.BillRun, options)

    def list_bill_runs(
        self, request: billing_pb2.ListBillRunsRequest, **options: Unpack[CallOptions]
    ) -> billing_pb2.ListBillRunsResponse:
        """Lists bill runs, newest first (create_time descending, then bill_run_id).

        `BillingService.ListBillRuns`. Read: retried on UNAVAILABLE.
        """
        return self._transport.read(
            self._stubs.billing.ListBillRuns, request, billing_pb2.ListBillRunsResponse, options
        )

    def watch_bill_run(
        self, request: billing_pb2.WatchBillRunRequest, **options: Unpack[CallOptions]
    ) -> Iterator[billing_pb2.BillRun]:
        """Streams a bill run: its current state at once, then after every change, until a terminal state.

        `BillingService.WatchBillRun`. Server stream (a read): re-opened on UNAVAILABLE; iterate to follow
        it.
        """
        return self._transport.stream(self._stubs.billing.WatchBillRun, request, billing_pb2.BillRun, options)

    def cancel_bill_run(
        self, request: billing_pb2.CancelBillRunRequest, **options: Unpack[MutationOptions]
    ) -> billing_pb2.BillRun:
        """PENDING or RUNNING -> CANCELLED: stops dispatching engagements.

        `BillingService.CancelBillRun`. Mutation: idempotent by request_id (set automatically; retried on
        UNAVAILABLE).
        """
        return self._transport.mutate(
            self._stubs.billing.CancelBillRun, request, billing_pb2.BillRun, options
        )
