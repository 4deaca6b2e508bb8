"""What the server acknowledged, and whether each acknowledged command's effect is there.

A script runs in order and stops at its first failure, so what an engagement's server state
must show is the plan cut to the acknowledged prefix of each script.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal

from clients.load.plan import Command, EngagementPlan
from q2c.v1 import billing_pb2, engagement_pb2

LIFECYCLE = {
    "QualifyEngagement": "QUALIFIED",
    "CloseWonEngagement": "WON",
    "ApproveContract": "CONTRACTED",
    "ActivateEngagement": "ACTIVE",
}
APPROVED_OR_LATER = frozenset({"APPROVED", "BILLED", "HELD_AT_CAP", "WRITTEN_OFF"})
ISSUED_OR_LATER = frozenset({"ISSUED", "POSTED", "PARTIALLY_PAID", "PAID"})


def as_acknowledged(plan: EngagementPlan, done: int) -> EngagementPlan | None:
    """The plan as far as the server acknowledged it before the bill run (None: not active,
    so nothing to bill): unacknowledged approvals count as not approved, milestones not
    accepted, the change order not made, unsent items absent."""
    acked = plan.commands[:done]
    if "ActivateEngagement" not in {c.rpc for c in acked}:
        return None
    sent = {i for c in acked if c.rpc.startswith("Submit") for i in c.items}
    approved = {i for c in acked if c.rpc.startswith(("Approve", "Accept")) for i in c.items}
    return replace(
        plan,
        time_entries=tuple(
            replace(e, approved=e.entry_id in approved) for e in plan.time_entries if e.entry_id in sent
        ),
        expenses=tuple(
            replace(x, approved=x.expense_id in approved) for x in plan.expenses if x.expense_id in sent
        ),
        milestones=tuple(replace(m, accepted=m.milestone_id in approved) for m in plan.milestones),
        change_order=plan.change_order if any(c.rpc == "AmendContract" for c in acked) else None,
    )


def _name(enum: object, value: int, prefix: str) -> str:
    return enum.Name(value).removeprefix(prefix)  # type: ignore[attr-defined, no-any-return]


def _statuses(engagement: engagement_pb2.Engagement) -> dict[str, str]:
    found = {
        t.entry_id: _name(engagement_pb2.TimeEntryStatus, t.status, "TIME_ENTRY_STATUS_")
        for t in engagement.time_entries
    }
    found |= {
        x.expense_id: _name(engagement_pb2.ExpenseStatus, x.status, "EXPENSE_STATUS_")
        for x in engagement.expenses
    }
    found |= {
        m.milestone_id: _name(engagement_pb2.MilestoneStatus, m.status, "MILESTONE_STATUS_")
        for m in engagement.milestones
    }
    return found


def _effect_missing(
    command: Command,
    engagement: engagement_pb2.Engagement,
    statuses: dict[str, str],
    invoice: billing_pb2.Invoice | None,
    paid: Decimal | None,
) -> bool:
    rpc = command.rpc
    if rpc.startswith("Submit"):
        return any(i not in statuses for i in command.items)
    if rpc.startswith("Approve") or rpc == "AcceptMilestone":
        wanted = APPROVED_OR_LATER if rpc.startswith("Approve") else {"ACCEPTED"}
        return any(statuses.get(i) not in wanted for i in command.items)
    if rpc.startswith("Reject"):
        return any(statuses.get(i) != "REJECTED" for i in command.items)
    if rpc == "CompleteMilestone":
        return any(statuses.get(i) in (None, "PLANNED") for i in command.items)
    if rpc == "AmendContract":
        return len(engagement.contract_revisions) < 2
    if rpc == "IssueInvoice":
        return (
            invoice is None
            or _name(billing_pb2.InvoiceState, invoice.state, "INVOICE_STATE_") not in ISSUED_OR_LATER
        )
    if rpc == "RecordPayment":
        return invoice is None or paid is None or Decimal(invoice.amount_paid.amount or "0") != paid
    return False


def lost_commands(
    plan: EngagementPlan,
    done: tuple[int, int],
    engagement: engagement_pb2.Engagement | None,
    invoice: billing_pb2.Invoice | None,
    paid: Decimal | None,
) -> Iterator[str]:
    """Request ids of acknowledged commands whose effect the server does not show."""
    acked = [*plan.commands[: done[0]], *plan.after[: done[1]]]
    if engagement is None:
        yield from (c.request_id for c in acked)
        return
    statuses = _statuses(engagement)
    lifecycle = [c for c in acked if c.rpc in LIFECYCLE]
    state = _name(engagement_pb2.EngagementState, engagement.state, "ENGAGEMENT_STATE_")
    if lifecycle and state != LIFECYCLE[lifecycle[-1].rpc]:
        yield lifecycle[-1].request_id
    for command in acked:
        if _effect_missing(command, engagement, statuses, invoice, paid):
            yield command.request_id
