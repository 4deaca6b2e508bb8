"""Delivery items through `decide`: time entries, expenses and milestones in an active engagement."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from q2c_core.domain import commands as cmd
from q2c_core.domain import events as ev
from q2c_core.domain.entities import (
    EngagementState,
    ItemStatus,
    MilestoneStatus,
)
from q2c_core.domain.errors import (
    NotFoundError,
    PreconditionError,
    Q2cError,
    ValidationError,
)
from q2c_core.domain.money import Money

from .builders import (
    Driver,
    driven_to,
    expense,
    rate_card,
    time_entry,
    usd,
)

S = EngagementState


def fields(error: Q2cError) -> list[str]:
    return [v.field for v in error.field_violations]


def milestone_status(driver: Driver, milestone_id: str) -> MilestoneStatus:
    return driver.engagement.milestones[milestone_id].status


# --- time entries --------------------------------------------------------------------------


def submit(*entries: cmd.TimeEntryInput) -> cmd.SubmitTimeEntries:
    return cmd.SubmitTimeEntries(entries=list(entries))


def test_submitted_time_entries_wait_for_approval() -> None:
    driver = driven_to(S.ACTIVE)
    driver.run(submit(time_entry("t1"), time_entry("t2", "4", role="manager")))
    entries = driver.engagement.time_entries
    assert {e.status for e in entries.values()} == {ItemStatus.SUBMITTED}
    assert entries["t2"].role == "manager"


def test_approving_submitted_time_entries_marks_them_approved() -> None:
    driver = driven_to(S.ACTIVE)
    driver.run(submit(time_entry("t1"), time_entry("t2", "4")))
    assert driver.run(cmd.ApproveTimeEntries(entry_ids=["t1"])) == [ev.TimeEntriesApproved(entry_ids=["t1"])]
    assert driver.engagement.time_entries["t1"].status is ItemStatus.APPROVED
    assert driver.engagement.time_entries["t2"].status is ItemStatus.SUBMITTED


def test_rejecting_time_entries_keeps_the_reason() -> None:
    driver = driven_to(S.ACTIVE)
    driver.run(submit(time_entry("t1")))
    driver.run(cmd.RejectTimeEntries(entry_ids=["t1"], reason="wrong project"))
    entry = driver.engagement.time_entries["t1"]
    assert entry.status is ItemStatus.REJECTED
    assert entry.rejection_reason == "wrong project"


def test_approving_an_approved_entry_is_refused_as_not_submitted() -> None:
    driver = driven_to(S.ACTIVE)
    driver.run(submit(time_entry("t1")))
    driver.run(cmd.ApproveTimeEntries(entry_ids=["t1"]))
    with pytest.raises(PreconditionError) as caught:
        driver.decide(cmd.ApproveTimeEntries(entry_ids=["t1"]))
    assert caught.value.reason == "ITEM_NOT_SUBMITTED"
    assert caught.value.metadata == {"id": "t1", "status": "APPROVED"}


def test_approving_an_unknown_time_entry_raises_not_found() -> None:
    driver = driven_to(S.ACTIVE)
    with pytest.raises(NotFoundError) as caught:
        driver.decide(cmd.ApproveTimeEntries(entry_ids=["ghost"]))
    assert caught.value.metadata == {"resource": "time_entry", "id": "ghost"}


def test_rejecting_an_unknown_time_entry_raises_not_found() -> None:
    driver = driven_to(S.ACTIVE)
    with pytest.raises(NotFoundError):
        driver.decide(cmd.RejectTimeEntries(entry_ids=["ghost"], reason="x"))


def test_approving_the_same_id_twice_in_one_batch_is_a_validation_error() -> None:
    driver = driven_to(S.ACTIVE)
    driver.run(submit(time_entry("t1")))
    with pytest.raises(ValidationError) as caught:
        driver.decide(cmd.ApproveTimeEntries(entry_ids=["t1", "t1"]))
    assert fields(caught.value) == ["entry_ids"]


def test_time_entries_can_still_be_reviewed_after_completion() -> None:
    driver = driven_to(S.ACTIVE)
    driver.run(submit(time_entry("t1")))
    driver.run(cmd.CompleteEngagement())
    driver.run(cmd.ApproveTimeEntries(entry_ids=["t1"]))
    assert driver.engagement.time_entries["t1"].status is ItemStatus.APPROVED


def test_more_than_24_hours_per_person_per_day_across_existing_and_batch_is_refused() -> None:
    driver = driven_to(S.ACTIVE)
    driver.run(submit(time_entry("t1", "10")))
    with pytest.raises(ValidationError) as caught:
        driver.decide(submit(time_entry("t2", "8"), time_entry("t3", "6.5"), time_entry("t4", "1")))
    assert fields(caught.value) == ["entries[1].hours", "entries[2].hours"]


def test_exactly_24_hours_in_a_day_is_accepted() -> None:
    driver = driven_to(S.ACTIVE)
    driver.run(submit(time_entry("t1", "10"), time_entry("t2", "14")))
    assert len(driver.engagement.time_entries) == 2


def test_rejected_hours_do_not_count_towards_the_daily_limit() -> None:
    driver = driven_to(S.ACTIVE)
    driver.run(submit(time_entry("t1", "20")))
    driver.run(cmd.RejectTimeEntries(entry_ids=["t1"], reason="typo"))
    driver.run(submit(time_entry("t2", "20")))
    assert driver.engagement.time_entries["t2"].status is ItemStatus.SUBMITTED


def test_daily_limit_is_per_person() -> None:
    driver = driven_to(S.ACTIVE)
    driver.run(submit(time_entry("t1", "20"), time_entry("t2", "20", person="grace")))
    assert len(driver.engagement.time_entries) == 2


def test_unknown_role_is_a_validation_error_on_the_entry_role() -> None:
    driver = driven_to(S.ACTIVE)
    with pytest.raises(ValidationError) as caught:
        driver.decide(submit(time_entry("t1"), time_entry("t2", role="astronaut")))
    assert fields(caught.value) == ["entries[1].role"]


def test_duplicate_entry_id_is_refused_within_a_batch_and_against_the_journal() -> None:
    driver = driven_to(S.ACTIVE)
    driver.run(submit(time_entry("t1", "1")))
    with pytest.raises(ValidationError) as caught:
        driver.decide(submit(time_entry("t1", "1"), time_entry("t2", "1"), time_entry("t2", "1")))
    assert fields(caught.value) == ["entries[0].entry_id", "entries[2].entry_id"]


def test_time_on_a_non_time_and_materials_line_is_refused() -> None:
    driver = driven_to(S.ACTIVE)
    with pytest.raises(ValidationError) as caught:
        driver.decide(
            submit(time_entry("t1", billing_line_id="ff"), time_entry("t2", billing_line_id="nope"))
        )
    assert fields(caught.value) == ["entries[0].billing_line_id", "entries[1].billing_line_id"]


def test_time_outside_the_engagement_and_contract_period_is_refused() -> None:
    driver = driven_to(S.ACTIVE)
    with pytest.raises(ValidationError) as caught:
        driver.decide(
            submit(
                time_entry("t1", work_date=date(2025, 1, 31)),
                time_entry("t2", work_date=date(2026, 1, 1)),
            )
        )
    assert fields(caught.value) == [
        "entries[0].work_date",
        "entries[1].work_date",
    ]


def test_time_on_a_day_no_rate_card_revision_covers_is_refused() -> None:
    driver = driven_to(S.ACTIVE)
    driver.rate_cards = {"rc-1": [rate_card(date(2025, 6, 1))]}
    with pytest.raises(ValidationError) as caught:
        driver.decide(submit(time_entry("t1", work_date=date(2025, 3, 3))))
    assert fields(caught.value) == ["entries[0].work_date"]


def test_role_is_checked_against_the_revision_effective_on_the_work_day() -> None:
    driver = driven_to(S.ACTIVE)
    driver.rate_cards = {
        "rc-1": [
            rate_card(date(2025, 1, 1), date(2025, 6, 30), rates={"engineer": "100"}),
            rate_card(date(2025, 7, 1), revision=2, rates={"architect": "300"}),
        ]
    }
    driver.run(
        submit(
            time_entry("t1", role="engineer"), time_entry("t2", role="architect", work_date=date(2025, 7, 7))
        )
    )
    with pytest.raises(ValidationError) as caught:
        driver.decide(submit(time_entry("t3", role="architect")))
    assert fields(caught.value) == ["entries[0].role"]


# --- expenses ------------------------------------------------------------------------------


def test_submitted_expenses_can_be_approved_and_rejected() -> None:
    driver = driven_to(S.ACTIVE)
    driver.run(cmd.SubmitExpenses(expenses=[expense("e1"), expense("e2")]))
    driver.run(cmd.ApproveExpenses(expense_ids=["e1"]))
    driver.run(cmd.RejectExpenses(expense_ids=["e2"], reason="no receipt"))
    expenses = driver.engagement.expenses
    assert expenses["e1"].status is ItemStatus.APPROVED
    assert expenses["e2"].status is ItemStatus.REJECTED
    assert expenses["e2"].rejection_reason == "no receipt"
    assert expenses["e1"].amount == usd("120.50")


def test_expense_in_a_currency_other_than_the_contract_is_refused() -> None:
    driver = driven_to(S.ACTIVE)
    with pytest.raises(ValidationError) as caught:
        driver.decide(cmd.SubmitExpenses(expenses=[expense("e1", Money.of("10", "EUR"))]))
    assert fields(caught.value) == ["expenses[0].amount.currency_code"]


def test_expense_on_a_non_pass_through_line_and_duplicate_ids_are_refused() -> None:
    driver = driven_to(S.ACTIVE)
    driver.run(cmd.SubmitExpenses(expenses=[expense("e1")]))
    with pytest.raises(ValidationError) as caught:
        driver.decide(cmd.SubmitExpenses(expenses=[expense("e1"), expense("e2", billing_line_id="tm")]))
    assert fields(caught.value) == ["expenses[0].expense_id", "expenses[1].billing_line_id"]


def test_approving_an_unknown_expense_raises_not_found() -> None:
    driver = driven_to(S.ACTIVE)
    with pytest.raises(NotFoundError) as caught:
        driver.decide(cmd.ApproveExpenses(expense_ids=["ghost"]))
    assert caught.value.reason == "EXPENSE_NOT_FOUND"


def test_rejecting_an_approved_expense_is_refused_as_not_submitted() -> None:
    driver = driven_to(S.ACTIVE)
    driver.run(cmd.SubmitExpenses(expenses=[expense("e1")]))
    driver.run(cmd.ApproveExpenses(expense_ids=["e1"]))
    with pytest.raises(PreconditionError) as caught:
        driver.decide(cmd.RejectExpenses(expense_ids=["e1"], reason="late"))
    assert caught.value.reason == "ITEM_NOT_SUBMITTED"


# --- milestones ----------------------------------------------------------------------------


def test_milestone_is_completed_then_accepted() -> None:
    driver = driven_to(S.ACTIVE)
    driver.run(cmd.CompleteMilestone(milestone_id="m1"))
    assert milestone_status(driver, "m1") is MilestoneStatus.COMPLETED
    driver.run(cmd.AcceptMilestone(milestone_id="m1"))
    assert milestone_status(driver, "m1") is MilestoneStatus.ACCEPTED


def test_rejected_milestone_can_be_reworked_and_completed_again() -> None:
    driver = driven_to(S.ACTIVE)
    driver.run(cmd.CompleteMilestone(milestone_id="m1"))
    driver.run(cmd.RejectMilestone(milestone_id="m1", reason="missing docs"))
    milestone = driver.engagement.milestones["m1"]
    assert milestone.status is MilestoneStatus.REJECTED
    assert milestone.rejection_reason == "missing docs"
    driver.run(cmd.CompleteMilestone(milestone_id="m1"))
    assert driver.engagement.milestones["m1"].status is MilestoneStatus.COMPLETED


def test_accepting_a_planned_milestone_is_refused() -> None:
    driver = driven_to(S.ACTIVE)
    with pytest.raises(PreconditionError) as caught:
        driver.decide(cmd.AcceptMilestone(milestone_id="m1"))
    assert caught.value.reason == "MILESTONE_INVALID_STATUS"
    assert caught.value.metadata == {"milestone_id": "m1", "status": "PLANNED"}


def test_completing_an_accepted_milestone_is_refused() -> None:
    driver = driven_to(S.ACTIVE)
    driver.run(cmd.CompleteMilestone(milestone_id="m1"))
    driver.run(cmd.AcceptMilestone(milestone_id="m1"))
    with pytest.raises(PreconditionError):
        driver.decide(cmd.CompleteMilestone(milestone_id="m1"))


@pytest.mark.parametrize(
    "command",
    [
        cmd.CompleteMilestone(milestone_id="m404"),
        cmd.AcceptMilestone(milestone_id="m404"),
        cmd.RejectMilestone(milestone_id="m404", reason="x"),
    ],
)
def test_unknown_milestone_raises_not_found(command: Any) -> None:
    driver = driven_to(S.ACTIVE)
    with pytest.raises(NotFoundError) as caught:
        driver.decide(command)
    assert caught.value.reason == "MILESTONE_NOT_FOUND"
