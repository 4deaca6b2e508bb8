"""Domain engagement -> EngagementService proto messages."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from q2c.v1 import common_pb2
from q2c.v1 import engagement_pb2 as pb
from q2c_core.app.messages import ContractHeader, EngagementSummary
from q2c_core.domain.engagement import Engagement
from q2c_core.domain.entities import (
    BillingLine,
    Contract,
    EngagementState,
    ExpenseTerms,
    FixedFeeTerms,
    GatedStep,
    RetainerTerms,
    SubscriptionTerms,
    TimeAndMaterialsTerms,
)
from q2c_core.domain.entities import Expense as DomainExpense
from q2c_core.domain.entities import Milestone as DomainMilestone
from q2c_core.domain.entities import TimeEntry as DomainTimeEntry
from q2c_core.edge.converters.convert_common import (
    billing_model_name,
    date_out,
    enum_out,
    money_out,
    timestamp_out,
    view_is_basic,
)
from q2c_core.edge.converters.convert_invoices import invoice_number


def state_out(state: EngagementState | None) -> Any:
    """Engagement state -> proto enum number."""
    return enum_out(pb.EngagementState, "ENGAGEMENT_STATE_", state)


def step_out(step: GatedStep | None) -> Any:
    """Gated step -> proto enum number."""
    return enum_out(common_pb2.GatedStep, "GATED_STEP_", step)


def engagement_etag(engagement: Engagement | EngagementSummary) -> str:
    """The engagement's etag: changes with every accepted command."""
    return f'"v{engagement.version}"'


def basic_view(view: int) -> bool:
    """Whether a request's EngagementView asks for BASIC (UNSPECIFIED is FULL); unknown values
    are a field violation on `view`."""
    return view_is_basic(view, pb.ENGAGEMENT_VIEW_BASIC, pb.ENGAGEMENT_VIEW_FULL)


def _own_fields(engagement: Engagement | EngagementSummary) -> dict[str, Any]:
    """The engagement's own fields, the same in every view (no contract, no collections)."""
    return {
        "engagement_id": engagement.engagement_id,
        "customer_id": engagement.customer_id,
        "display_name": engagement.display_name,
        "opportunity_ref": engagement.opportunity_ref,
        "service_line": engagement.service_line,
        "expected_start_date": date_out(engagement.expected_start_date),
        "start_date": date_out(engagement.start_date),
        "state": state_out(engagement.state),
        "held_from_state": state_out(engagement.held_from),
        "held_step": step_out(engagement.held_step),
        "version": engagement.version,
        "create_time": timestamp_out(engagement.create_time),
        "update_time": timestamp_out(engagement.update_time),
        "etag": engagement_etag(engagement),
        "project_template_id": engagement.project_template_id,
    }


def engagement_basic_out(summary: EngagementSummary) -> pb.Engagement:
    """An engagement summary -> proto in view BASIC: the engagement's own fields, no collections."""
    return pb.Engagement(
        **_own_fields(summary),
        contract=contract_header_out(summary.contract) if summary.contract else None,
        open_exception_ids=summary.open_exception_ids,
    )


def contract_header_out(contract: ContractHeader) -> pb.Contract:
    """A contract revision's header -> proto Contract without billing lines (view BASIC)."""
    return pb.Contract(
        revision=contract.revision,
        currency_code=contract.currency,
        start_date=date_out(contract.start_date),
        end_date=date_out(contract.end_date),
        po_reference=contract.po_reference,
        approve_time=timestamp_out(contract.approve_time),
        effective_from=date_out(contract.effective_from or contract.start_date),
    )


def engagement_out(engagement: Engagement, *, summary: bool = False) -> pb.Engagement:
    """Domain engagement -> proto; `summary` leaves out time, expenses, milestones and revisions."""
    message = pb.Engagement(
        **_own_fields(engagement),
        contract=contract_out(engagement.contract) if engagement.contract else None,
        open_exception_ids=[x.exception_id for x in engagement.open_exceptions()],
        staffing_plan=[pb.StaffingAssignment(person=s.person, role=s.role) for s in engagement.staffing_plan],
        invoice_ids=sorted(engagement.invoices, key=invoice_number),
    )
    if not summary:
        message.contract_revisions.extend(contract_out(c) for c in engagement.contract_revisions)
        created = engagement.contract.approve_time if engagement.contract else None
        message.time_entries.extend(time_entry_out(e) for e in engagement.time_entries.values())
        message.expenses.extend(expense_out(x) for x in engagement.expenses.values())
        message.milestones.extend(milestone_out(m, created) for m in engagement.milestones.values())
    return message


def contract_out(contract: Contract) -> pb.Contract:
    """Contract revision -> proto."""
    return pb.Contract(
        revision=contract.revision,
        currency_code=contract.currency,
        start_date=date_out(contract.start_date),
        end_date=date_out(contract.end_date),
        po_reference=contract.po_reference,
        billing_lines=[billing_line_out(line) for line in contract.billing_lines],
        approve_time=timestamp_out(contract.approve_time),
        effective_from=date_out(contract.effective),
    )


def billing_line_out(line: BillingLine) -> pb.BillingLine:
    """Billing line -> proto, setting the terms oneof and the billing_model it implies."""
    message = pb.BillingLine(
        line_id=line.line_id,
        description=line.description,
        billing_model=enum_out(pb.BillingModel, "BILLING_MODEL_", line.terms.model),
    )
    getattr(message, billing_model_name(line.terms.model)).CopyFrom(_terms_out(line.terms))
    return message


def _terms_out(
    terms: TimeAndMaterialsTerms | FixedFeeTerms | RetainerTerms | ExpenseTerms | SubscriptionTerms,
) -> pb.TimeAndMaterialsTerms | pb.FixedFeeTerms | pb.RetainerTerms | pb.ExpenseTerms | pb.SubscriptionTerms:
    if isinstance(terms, TimeAndMaterialsTerms):
        return pb.TimeAndMaterialsTerms(
            rate_card_id=terms.rate_card_id, not_to_exceed=money_out(terms.not_to_exceed)
        )
    if isinstance(terms, FixedFeeTerms):
        return pb.FixedFeeTerms(
            milestones=[
                pb.MilestoneSpec(
                    milestone_id=m.milestone_id,
                    display_name=m.display_name,
                    amount=money_out(m.amount),
                    due_date=date_out(m.due_date),
                )
                for m in terms.milestones
            ]
        )
    if isinstance(terms, RetainerTerms):
        return pb.RetainerTerms(amount_per_month=money_out(terms.amount_per_month))
    if isinstance(terms, ExpenseTerms):
        return pb.ExpenseTerms(markup_percent=str(terms.markup_percent))
    return pb.SubscriptionTerms(
        amount_per_period=money_out(terms.amount_per_period),
        period=enum_out(pb.BillingPeriodUnit, "BILLING_PERIOD_UNIT_", terms.period),
    )


def time_entry_out(entry: DomainTimeEntry) -> pb.TimeEntry:
    """Time entry -> proto."""
    return pb.TimeEntry(
        entry_id=entry.entry_id,
        billing_line_id=entry.billing_line_id,
        person=entry.person,
        role=entry.role,
        work_date=date_out(entry.work_date),
        hours=str(entry.hours),
        description=entry.description,
        status=enum_out(pb.TimeEntryStatus, "TIME_ENTRY_STATUS_", entry.status),
        rejection_reason=entry.rejection_reason,
        invoice_id=entry.invoice_id,
        submitted_by=entry.submitted_by,
        submit_time=timestamp_out(entry.submit_time),
        update_time=timestamp_out(entry.update_time),
    )


def expense_out(expense: DomainExpense) -> pb.Expense:
    """Expense -> proto."""
    return pb.Expense(
        expense_id=expense.expense_id,
        billing_line_id=expense.billing_line_id,
        category=expense.category,
        incurred_date=date_out(expense.incurred_date),
        amount=money_out(expense.amount),
        description=expense.description,
        status=enum_out(pb.ExpenseStatus, "EXPENSE_STATUS_", expense.status),
        rejection_reason=expense.rejection_reason,
        invoice_id=expense.invoice_id,
        submitted_by=expense.submitted_by,
        submit_time=timestamp_out(expense.submit_time),
        update_time=timestamp_out(expense.update_time),
    )


def milestone_out(milestone: DomainMilestone, created: datetime | None = None) -> pb.Milestone:
    """Milestone -> proto; `created` is when the contract that made it was approved."""
    return pb.Milestone(
        milestone_id=milestone.milestone_id,
        billing_line_id=milestone.billing_line_id,
        display_name=milestone.display_name,
        amount=money_out(milestone.amount),
        due_date=date_out(milestone.due_date),
        status=enum_out(pb.MilestoneStatus, "MILESTONE_STATUS_", milestone.status),
        rejection_reason=milestone.rejection_reason,
        invoice_id=milestone.invoice_id,
        update_time=timestamp_out(milestone.update_time),
        create_time=timestamp_out(created),
    )
