"""EngagementService methods of the q2c client (one per RPC; see `q2c/v1/engagement.proto`)."""

from __future__ import annotations

from typing import Unpack

from q2c.v1 import billing_pb2, engagement_pb2
from q2c_sdk.stubs import Bound
from q2c_sdk.transport import CallOptions, MutationOptions


class EngagementMethods(Bound):
    """EngagementService: every RPC as a typed method taking the request message and per-call options."""

    def create_engagement(
        self, request: engagement_pb2.CreateEngagementRequest, **options: Unpack[MutationOptions]
    ) -> engagement_pb2.Engagement:
        """Creates an engagement in DRAFT for an existing customer.

        `EngagementService.CreateEngagement`. Mutation: idempotent by request_id (set automatically; retried
        on UNAVAILABLE).
        """
        return self._transport.mutate(
            self._stubs.engagements.CreateEngagement, request, engagement_pb2.Engagement, options
        )

    def get_engagement(
        self, request: engagement_pb2.GetEngagementRequest, **options: Unpack[CallOptions]
    ) -> engagement_pb2.Engagement:
        """Returns one engagement with its contract, time entries, expenses and milestones.

        `EngagementService.GetEngagement`. Read: retried on UNAVAILABLE.
        """
        return self._transport.read(
            self._stubs.engagements.GetEngagement, request, engagement_pb2.Engagement, options
        )

    def list_engagements(
        self, request: engagement_pb2.ListEngagementsRequest, **options: Unpack[CallOptions]
    ) -> engagement_pb2.ListEngagementsResponse:
        """Lists engagements (summary view), ordered by create_time then engagement_id.

        `EngagementService.ListEngagements`. Read: retried on UNAVAILABLE.
        """
        return self._transport.read(
            self._stubs.engagements.ListEngagements, request, engagement_pb2.ListEngagementsResponse, options
        )

    def qualify_engagement(
        self, request: engagement_pb2.QualifyEngagementRequest, **options: Unpack[MutationOptions]
    ) -> engagement_pb2.Engagement:
        """DRAFT -> QUALIFIED.

        `EngagementService.QualifyEngagement`. Mutation: idempotent by request_id (set automatically;
        retried on UNAVAILABLE).
        """
        return self._transport.mutate(
            self._stubs.engagements.QualifyEngagement, request, engagement_pb2.Engagement, options
        )

    def close_won_engagement(
        self, request: engagement_pb2.CloseWonEngagementRequest, **options: Unpack[MutationOptions]
    ) -> engagement_pb2.Engagement:
        """QUALIFIED -> WON.

        `EngagementService.CloseWonEngagement`. Mutation: idempotent by request_id (set automatically;
        retried on UNAVAILABLE).
        """
        return self._transport.mutate(
            self._stubs.engagements.CloseWonEngagement, request, engagement_pb2.Engagement, options
        )

    def approve_contract(
        self, request: engagement_pb2.ApproveContractRequest, **options: Unpack[MutationOptions]
    ) -> engagement_pb2.Engagement:
        """WON -> CONTRACTED: records contract revision 1.

        `EngagementService.ApproveContract`. Mutation: idempotent by request_id (set automatically; retried
        on UNAVAILABLE).
        """
        return self._transport.mutate(
            self._stubs.engagements.ApproveContract, request, engagement_pb2.Engagement, options
        )

    def activate_engagement(
        self, request: engagement_pb2.ActivateEngagementRequest, **options: Unpack[MutationOptions]
    ) -> engagement_pb2.Engagement:
        """CONTRACTED -> ACTIVE; sets start_date and creates the fixed-fee milestones.

        `EngagementService.ActivateEngagement`. Mutation: idempotent by request_id (set automatically;
        retried on UNAVAILABLE).
        """
        return self._transport.mutate(
            self._stubs.engagements.ActivateEngagement, request, engagement_pb2.Engagement, options
        )

    def submit_time_entries(
        self, request: engagement_pb2.SubmitTimeEntriesRequest, **options: Unpack[MutationOptions]
    ) -> engagement_pb2.Engagement:
        """Records a batch of time entries as SUBMITTED (ACTIVE only).

        `EngagementService.SubmitTimeEntries`. Mutation: idempotent by request_id (set automatically;
        retried on UNAVAILABLE).
        """
        return self._transport.mutate(
            self._stubs.engagements.SubmitTimeEntries, request, engagement_pb2.Engagement, options
        )

    def approve_time_entries(
        self, request: engagement_pb2.ApproveTimeEntriesRequest, **options: Unpack[MutationOptions]
    ) -> engagement_pb2.Engagement:
        """SUBMITTED -> APPROVED for each listed time entry.

        `EngagementService.ApproveTimeEntries`. Mutation: idempotent by request_id (set automatically;
        retried on UNAVAILABLE).
        """
        return self._transport.mutate(
            self._stubs.engagements.ApproveTimeEntries, request, engagement_pb2.Engagement, options
        )

    def reject_time_entries(
        self, request: engagement_pb2.RejectTimeEntriesRequest, **options: Unpack[MutationOptions]
    ) -> engagement_pb2.Engagement:
        """SUBMITTED -> REJECTED for each listed time entry.

        `EngagementService.RejectTimeEntries`. Mutation: idempotent by request_id (set automatically;
        retried on UNAVAILABLE).
        """
        return self._transport.mutate(
            self._stubs.engagements.RejectTimeEntries, request, engagement_pb2.Engagement, options
        )

    def submit_expenses(
        self, request: engagement_pb2.SubmitExpensesRequest, **options: Unpack[MutationOptions]
    ) -> engagement_pb2.Engagement:
        """Records a batch of expenses as SUBMITTED (ACTIVE only).

        `EngagementService.SubmitExpenses`. Mutation: idempotent by request_id (set automatically; retried
        on UNAVAILABLE).
        """
        return self._transport.mutate(
            self._stubs.engagements.SubmitExpenses, request, engagement_pb2.Engagement, options
        )

    def approve_expenses(
        self, request: engagement_pb2.ApproveExpensesRequest, **options: Unpack[MutationOptions]
    ) -> engagement_pb2.Engagement:
        """SUBMITTED -> APPROVED for each listed expense.

        `EngagementService.ApproveExpenses`. Mutation: idempotent by request_id (set automatically; retried
        on UNAVAILABLE).
        """
        return self._transport.mutate(
            self._stubs.engagements.ApproveExpenses, request, engagement_pb2.Engagement, options
        )

    def reject_expenses(
        self, request: engagement_pb2.RejectExpensesRequest, **options: Unpack[MutationOptions]
    ) -> engagement_pb2.Engagement:
        """SUBMITTED -> REJECTED for each listed expense.

        `EngagementService.RejectExpenses`. Mutation: idempotent by request_id (set automatically; retried
        on UNAVAILABLE).
        """
        return self._transport.mutate(
            self._stubs.engagements.RejectExpenses, request, engagement_pb2.Engagement, options
        )

    def complete_milestone(
        self, request: engagement_pb2.CompleteMilestoneRequest, **options: Unpack[MutationOptions]
    ) -> engagement_pb2.Engagement:
        """PLANNED or REJECTED -> COMPLETED: delivery says the milestone is done (ACTIVE only).

        `EngagementService.CompleteMilestone`. Mutation: idempotent by request_id (set automatically;
        retried on UNAVAILABLE).
        """
        return self._transport.mutate(
            self._stubs.engagements.CompleteMilestone, request, engagement_pb2.Engagement, options
        )

    def accept_milestone(
        self, request: engagement_pb2.AcceptMilestoneRequest, **options: Unpack[MutationOptions]
    ) -> engagement_pb2.Engagement:
        """COMPLETED -> ACCEPTED: the customer accepts; the milestone amount becomes billable.

        `EngagementService.AcceptMilestone`. Mutation: idempotent by request_id (set automatically; retried
        on UNAVAILABLE).
        """
        return self._transport.mutate(
            self._stubs.engagements.AcceptMilestone, request, engagement_pb2.Engagement, options
        )

    def reject_milestone(
        self, request: engagement_pb2.RejectMilestoneRequest, **options: Unpack[MutationOptions]
    ) -> engagement_pb2.Engagement:
        """COMPLETED -> REJECTED: the customer rejects; it can be completed again after rework.

        `EngagementService.RejectMilestone`. Mutation: idempotent by request_id (set automatically; retried
        on UNAVAILABLE).
        """
        return self._transport.mutate(
            self._stubs.engagements.RejectMilestone, request, engagement_pb2.Engagement, options
        )

    def complete_engagement(
        self, request: engagement_pb2.CompleteEngagementRequest, **options: Unpack[MutationOptions]
    ) -> engagement_pb2.Engagement:
        """ACTIVE -> COMPLETED: delivery is over; no new time, expenses or milestone changes.

        `EngagementService.CompleteEngagement`. Mutation: idempotent by request_id (set automatically;
        retried on UNAVAILABLE).
        """
        return self._transport.mutate(
            self._stubs.engagements.CompleteEngagement, request, engagement_pb2.Engagement, options
        )

    def cancel_engagement(
        self, request: engagement_pb2.CancelEngagementRequest, **options: Unpack[MutationOptions]
    ) -> engagement_pb2.Engagement:
        """Any open state (DRAFT, QUALIFIED, WON, CONTRACTED, ACTIVE, ON_HOLD) -> CANCELLED.

        `EngagementService.CancelEngagement`. Mutation: idempotent by request_id (set automatically; retried
        on UNAVAILABLE).
        """
        return self._transport.mutate(
            self._stubs.engagements.CancelEngagement, request, engagement_pb2.Engagement, options
        )

    def get_invoice_readiness(
        self, request: engagement_pb2.GetInvoiceReadinessRequest, **options: Unpack[CallOptions]
    ) -> engagement_pb2.InvoiceReadiness:
        """Previews the invoice GenerateInvoice would create for the period now, with every blocker.

        `EngagementService.GetInvoiceReadiness`. Read: retried on UNAVAILABLE.
        """
        return self._transport.read(
            self._stubs.engagements.GetInvoiceReadiness, request, engagement_pb2.InvoiceReadiness, options
        )

    def generate_invoice(
        self, request: engagement_pb2.GenerateInvoiceRequest, **options: Unpack[MutationOptions]
    ) -> billing_pb2.Invoice:
        """Creates a DRAFT invoice of everything billable for the period and marks its items BILLED.

        `EngagementService.GenerateInvoice`. Mutation: idempotent by request_id (set automatically; retried
        on UNAVAILABLE).
        """
        return self._transport.mutate(
            self._stubs.engagements.GenerateInvoice, request, billing_pb2.Invoice, options
        )

    def amend_contract(
        self, request: engagement_pb2.AmendContractRequest, **options: Unpack[MutationOptions]
    ) -> engagement_pb2.Engagement:
        """Records a change order: contract revision N+1 effective from effective_date.

        `EngagementService.AmendContract`. Mutation: idempotent by request_id (set automatically; retried on
        UNAVAILABLE).
        """
        return self._transport.mutate(
            self._stubs.engagements.AmendContract, request, engagement_pb2.Engagement, options
        )
