"""An engagement's scripts: the ordered commands before the bill run, and after it.

Before: create, qualify, close-won, approve the contract, activate; then, batch by batch, the
submitter submits time (and the approver approves or rejects each batch), a change order
half-way through the time batches, expenses the same way, milestones completed and accepted or
rejected. After the bill run: the late time entries (dated in the period, submitted after the
run) with their approvals, then issuing the run's invoice and the payment.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace

from clients.load.plan import Command, EngagementPlan, ExpensePlan, TimeEntryPlan

OPENING = (
    "CreateEngagement",
    "QualifyEngagement",
    "CloseWonEngagement",
    "ApproveContract",
    "ActivateEngagement",
)


def _batches(
    items: Sequence[TimeEntryPlan | ExpensePlan], size: int
) -> Iterator[list[TimeEntryPlan | ExpensePlan]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def _item_id(item: TimeEntryPlan | ExpensePlan) -> str:
    return item.entry_id if isinstance(item, TimeEntryPlan) else item.expense_id


def _reviewed(
    batch: list[TimeEntryPlan | ExpensePlan], noun: str
) -> Iterator[tuple[str, bool, tuple[str, ...]]]:
    """Submit the batch, then approve the approved part and reject the rest (approver)."""
    yield f"Submit{noun}", False, tuple(_item_id(i) for i in batch)
    approved = tuple(_item_id(i) for i in batch if i.approved)
    rejected = tuple(_item_id(i) for i in batch if not i.approved)
    if approved:
        yield f"Approve{noun}", True, approved
    if rejected:
        yield f"Reject{noun}", True, rejected


def _time(
    entries: Sequence[TimeEntryPlan], size: int, amend: bool
) -> Iterator[tuple[str, bool, tuple[str, ...]]]:
    batches = list(_batches(entries, size))
    middle = len(batches) // 2
    for n, batch in enumerate(batches):
        if amend and n == middle:
            yield "AmendContract", False, ()
        yield from _reviewed(batch, "TimeEntries")
    if amend and not batches:
        yield "AmendContract", False, ()


def before_run(
    plan: EngagementPlan, time_batch: int, expense_batch: int
) -> Iterator[tuple[str, bool, tuple[str, ...]]]:
    """(rpc, as approver, items) of the script before the bill run."""
    for rpc in OPENING:
        yield rpc, False, ()
    on_time = [e for e in plan.time_entries if not e.late]
    yield from _time(on_time, time_batch, plan.change_order is not None)
    for batch in _batches(plan.expenses, expense_batch):
        yield from _reviewed(batch, "Expenses")
    for milestone in plan.milestones:
        yield "CompleteMilestone", False, (milestone.milestone_id,)
        yield (
            ("AcceptMilestone" if milestone.accepted else "RejectMilestone"),
            True,
            (milestone.milestone_id,),
        )


def after_run(
    plan: EngagementPlan, time_batch: int, invoiced: bool
) -> Iterator[tuple[str, bool, tuple[str, ...]]]:
    """(rpc, as approver, items) of the script after the bill run."""
    late = [e for e in plan.time_entries if e.late]
    for batch in _batches(late, time_batch):
        yield from _reviewed(batch, "TimeEntries")
    if invoiced:
        yield "IssueInvoice", False, ()
        if plan.payment != "none":
            yield "RecordPayment", False, (plan.payment,)


def with_scripts(
    plan: EngagementPlan, run_tag: str, time_batch: int, expense_batch: int, invoiced: bool
) -> EngagementPlan:
    """The plan with both scripts, every command with its own request id."""
    before = [
        Command(rpc, f"{run_tag}.{plan.key}.{n:04d}", approver, items)
        for n, (rpc, approver, items) in enumerate(before_run(plan, time_batch, expense_batch))
    ]
    after = [
        Command(rpc, f"{run_tag}.{plan.key}.a{n:03d}", approver, items)
        for n, (rpc, approver, items) in enumerate(after_run(plan, time_batch, invoiced))
    ]
    return replace(plan, commands=tuple(before), after=tuple(after))
