"""EngagementService requests -> domain commands, validated on the way in."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from q2c.v1 import engagement_pb2 as pb
from q2c.v1 import exception_pb2
from q2c_core.domain import commands as cmd
from q2c_core.domain.entities import BillingModel, PeriodUnit
from q2c_core.domain.limits import HOURS, PERCENT
from q2c_core.edge.converters.convert_common import (
    Payload,
    Violations,
    build,
    date_in,
    decimal_in,
    enum_in,
    money_payload,
    require_id,
)


@dataclass(frozen=True, slots=True)
class Mutation:
    """A validated mutating request: which engagement, under which request_id, doing what."""

    engagement_id: str
    request_id: str | None
    command: cmd.Command


def _mutation(
    request: Any, command_type: type[cmd.Command], payload: Payload, bad: Violations | None = None
) -> Mutation:
    """Check the engagement id and build the command, reporting every bad field at once."""
    bad = bad or Violations()
    require_id(request.engagement_id, "engagement_id", bad)
    command = build(command_type, payload, bad=bad)
    return Mutation(request.engagement_id, request.request_id or None, command)


def create_engagement(request: pb.CreateEngagementRequest) -> cmd.CreateEngagement:
    """CreateEngagementRequest -> CreateEngagement (the engagement id is derived later)."""
    bad = Violations()
    payload = {
        "customer_id": request.customer_id,
        "display_name": request.display_name,
        "opportunity_ref": request.opportunity_ref,
        "expected_start_date": date_in(request, "expected_start_date", "expected_start_date", bad),
        "service_line": request.service_line,
    }
    return build(cmd.CreateEngagement, payload, bad=bad)


def qualify(request: pb.QualifyEngagementRequest) -> Mutation:
    """QualifyEngagementRequest -> QualifyEngagement."""
    return _mutation(request, cmd.QualifyEngagement, {"comment": request.comment})


def close_won(request: pb.CloseWonEngagementRequest) -> Mutation:
    """CloseWonEngagementRequest -> CloseWonEngagement."""
    return _mutation(request, cmd.CloseWonEngagement, {"comment": request.comment})


def _terms(line: pb.BillingLine, path: str, bad: Violations) -> Payload | None:
    """The oneof `terms` as a discriminated domain payload."""
    which = line.WhichOneof("terms")
    if which == "time_and_materials":
        tm = line.time_and_materials
        cap_path = f"{path}.time_and_materials.not_to_exceed"
        return {
            "model": BillingModel.TIME_AND_MATERIALS,
            "rate_card_id": tm.rate_card_id,
            "not_to_exceed": money_payload(tm, "not_to_exceed", cap_path, bad),
        }
    if which == "fixed_fee":
        milestones = [
            {
                "milestone_id": m.milestone_id,
                "display_name": m.display_name,
                "amount": money_payload(m, "amount", f"{path}.fixed_fee.milestones[{i}].amount", bad),
                "due_date": date_in(m, "due_date", f"{path}.fixed_fee.milestones[{i}].due_date", bad),
            }
            for i, m in enumerate(line.fixed_fee.milestones)
        ]
        return {"model": BillingModel.FIXED_FEE, "milestones": milestones}
    if which == "retainer":
        return {
            "model": BillingModel.RETAINER,
            "amount_per_month": money_payload(
                line.retainer, "amount_per_month", f"{path}.retainer.amount_per_month", bad
            ),
        }
    if which == "pass_through_expenses":
        markup = line.pass_through_expenses.markup_percent or "0"
        percent = decimal_in(markup, PERCENT, f"{path}.pass_through_expenses.markup_percent", bad)
        return {"model": BillingModel.PASS_THROUGH_EXPENSES, "markup_percent": percent}
    if which == "subscription":
        return _subscription(line.subscription, f"{path}.subscription", bad)
    bad.add(f"{path}.terms", "exactly one billing model (time_and_materials, fixed_fee, ...) must be set")
    return None


def _subscription(terms: pb.SubscriptionTerms, path: str, bad: Violations) -> Payload:
    unit = terms.period
    period: PeriodUnit | None = None
    if unit == 0 or unit not in pb.BillingPeriodUnit.values():
        bad.add(f"{path}.period", "is required")
    else:
        period = PeriodUnit(pb.BillingPeriodUnit.Name(unit).removeprefix("BILLING_PERIOD_UNIT_"))
    return {
        "model": BillingModel.SUBSCRIPTION,
        "period": period,
        "amount_per_period": money_payload(terms, "amount_per_period", f"{path}.amount_per_period", bad),
    }


def billing_lines_payload(lines: Iterable[pb.BillingLine], bad: Violations) -> list[Payload]:
    """Contract billing lines as domain payloads (ApproveContract and AmendContract)."""
    return [
        {
            "line_id": line.line_id,
            "description": line.description,
            "terms": _terms(line, f"billing_lines[{i}]", bad),
        }
        for i, line in enumerate(lines)
    ]


def approve_contract(request: pb.ApproveContractRequest) -> Mutation:
    """ApproveContractRequest -> ApproveContract (billing-line oneof -> discriminated terms)."""
    bad = Violations()
    lines = billing_lines_payload(request.billing_lines, bad)
    payload = {
        "currency": request.currency_code,
        "start_date": date_in(request, "start_date", "start_date", bad),
        "end_date": date_in(request, "end_date", "end_date", bad),
        "po_reference": request.po_reference,
        "billing_lines": lines,
        "comment": request.comment,
    }
    return _mutation(request, cmd.ApproveContract, payload, bad)


def activate(request: pb.ActivateEngagementRequest) -> Mutation:
    """ActivateEngagementRequest -> ActivateEngagement."""
    bad = Violations()
    payload = {
        "start_date": date_in(request, "start_date", "start_date", bad),
        "project_template_id": request.project_template_id,
        "staffing_plan": [{"person": s.person, "role": s.role} for s in request.staffing_plan],
        "comment": request.comment,
    }
    return _mutation(request, cmd.ActivateEngagement, payload, bad)


def submit_time(request: pb.SubmitTimeEntriesRequest) -> Mutation:
    """SubmitTimeEntriesRequest -> SubmitTimeEntries (hours stay exact decimal strings)."""
    bad = Violations()
    entries = [
        {
            "entry_id": e.entry_id,
            "billing_line_id": e.billing_line_id,
            "person": e.person,
            "role": e.role,
            "work_date": date_in(e, "work_date", f"entries[{i}].work_date", bad),
            "hours": decimal_in(e.hours, HOURS, f"entries[{i}].hours", bad),
            "description": e.description,
        }
        for i, e in enumerate(request.entries)
    ]
    return _mutation(request, cmd.SubmitTimeEntries, {"entries": entries}, bad)


def approve_time(request: pb.ApproveTimeEntriesRequest) -> Mutation:
    """ApproveTimeEntriesRequest -> ApproveTimeEntries."""
    payload = {"entry_ids": list(request.entry_ids), "comment": request.comment}
    return _mutation(request, cmd.ApproveTimeEntries, payload)


def reject_time(request: pb.RejectTimeEntriesRequest) -> Mutation:
    """RejectTimeEntriesRequest -> RejectTimeEntries."""
    payload = {"entry_ids": list(request.entry_ids), "reason": request.reason}
    return _mutation(request, cmd.RejectTimeEntries, payload)


def submit_expenses(request: pb.SubmitExpensesRequest) -> Mutation:
    """SubmitExpensesRequest -> SubmitExpenses."""
    bad = Violations()
    expenses = [
        {
            "expense_id": x.expense_id,
            "billing_line_id": x.billing_line_id,
            "category": x.category,
            "incurred_date": date_in(x, "incurred_date", f"expenses[{i}].incurred_date", bad),
            "amount": money_payload(x, "amount", f"expenses[{i}].amount", bad),
            "description": x.description,
        }
        for i, x in enumerate(request.expenses)
    ]
    return _mutation(request, cmd.SubmitExpenses, {"expenses": expenses}, bad)


def approve_expenses(request: pb.ApproveExpensesRequest) -> Mutation:
    """ApproveExpensesRequest -> ApproveExpenses."""
    payload = {"expense_ids": list(request.expense_ids), "comment": request.comment}
    return _mutation(request, cmd.ApproveExpenses, payload)


def reject_expenses(request: pb.RejectExpensesRequest) -> Mutation:
    """RejectExpensesRequest -> RejectExpenses."""
    payload = {"expense_ids": list(request.expense_ids), "reason": request.reason}
    return _mutation(request, cmd.RejectExpenses, payload)


def _milestone(command_type: type[cmd.Command], note: str) -> Callable[[Any], Mutation]:
    def convert(request: Any) -> Mutation:
        payload = {"milestone_id": request.milestone_id, note: getattr(request, note)}
        return _mutation(request, command_type, payload)

    convert.__doc__ = f"{command_type.__name__}Request -> {command_type.__name__}."
    return convert


complete_milestone = _milestone(cmd.CompleteMilestone, "comment")
accept_milestone = _milestone(cmd.AcceptMilestone, "comment")
reject_milestone = _milestone(cmd.RejectMilestone, "reason")


def complete(request: pb.CompleteEngagementRequest) -> Mutation:
    """CompleteEngagementRequest -> CompleteEngagement."""
    return _mutation(request, cmd.CompleteEngagement, {"comment": request.comment})


def cancel(request: pb.CancelEngagementRequest) -> Mutation:
    """CancelEngagementRequest -> CancelEngagement."""
    return _mutation(request, cmd.CancelEngagement, {"reason": request.reason})


def resolve_exception(request: exception_pb2.ResolveExceptionRequest) -> cmd.ResolveException:
    """ResolveExceptionRequest -> ResolveException; resolution UNSPECIFIED is a plain RESOLVE."""
    bad = Violations()
    require_id(request.exception_id, "exception_id", bad)
    resolution = enum_in(
        exception_pb2.ExceptionResolution,
        "EXCEPTION_RESOLUTION_",
        request.resolution,
        cmd.Resolution,
        "resolution",
    )
    payload = {
        "exception_id": request.exception_id,
        "resolution_note": request.resolution_note,
        "resolution": resolution or cmd.Resolution.RESOLVE,
    }
    return build(cmd.ResolveException, payload, bad=bad)
