"""Separation of duties: who submitted each time entry and expense is recorded and replayed."""

from __future__ import annotations

import json

from q2c_core.api.convert_engagement import expense_out, time_entry_out
from q2c_core.domain import commands as cmd
from q2c_core.domain import events as ev
from q2c_core.domain.engagement import Engagement, fold
from q2c_core.domain.entities import EngagementState

from .builders import Driver, driven_to, expense, time_entry

BOB = "bob@example.com"
ALICE = "alice@example.com"


def active() -> Driver:
    return driven_to(EngagementState.ACTIVE)


def submit_time(driver: Driver, *entry_ids: str, principal: str = BOB) -> None:
    entries = [time_entry(entry_id, "2") for entry_id in entry_ids]
    driver.run(cmd.SubmitTimeEntries(entries=entries), principal=principal)


def submit_expenses(driver: Driver, *expense_ids: str, principal: str = BOB) -> None:
    expenses = [expense(expense_id) for expense_id in expense_ids]
    driver.run(cmd.SubmitExpenses(expenses=expenses), principal=principal)


def replayed(driver: Driver) -> Engagement:
    """The journal through its stored JSON form, folded again."""
    stored = [(json.loads(json.dumps(ev.event_to_payload(e))), at) for e, at in driver.journal]
    state = fold((ev.event_from_payload(payload), at) for payload, at in stored)
    assert state is not None
    return state


# --- recording the submitter -----------------------------------------------------------------


def test_submitted_time_entries_name_their_submitter() -> None:
    driver = active()
    submit_time(driver, "t1", "t2")
    assert {e.submitted_by for e in driver.engagement.time_entries.values()} == {BOB}


def test_submitted_expenses_name_their_submitter() -> None:
    driver = active()
    submit_expenses(driver, "x1")
    assert driver.engagement.expenses["x1"].submitted_by == BOB


def test_the_submitted_events_carry_the_submitter_so_replay_reproduces_it() -> None:
    driver = active()
    submit_time(driver, "t1")
    submit_expenses(driver, "x1", principal=ALICE)
    state = replayed(driver)
    assert state.time_entries["t1"].submitted_by == BOB
    assert state.expenses["x1"].submitted_by == ALICE
    assert state == driver.engagement


def test_an_event_recorded_before_submitters_were_kept_still_decodes() -> None:
    driver = active()
    submit_time(driver, "t1")
    submit_expenses(driver, "x1")
    old_time = ev.event_to_payload(driver.journal[-2][0])
    old_expense = ev.event_to_payload(driver.journal[-1][0])
    for item in [*old_time["entries"], *old_expense["expenses"]]:  # type: ignore[attr-defined]
        del item["submitted_by"]
    time_event = ev.event_from_payload(old_time)
    expense_event = ev.event_from_payload(old_expense)
    assert isinstance(time_event, ev.TimeEntriesSubmitted)
    assert isinstance(expense_event, ev.ExpensesSubmitted)
    assert time_event.entries[0].submitted_by == ""
    assert expense_event.expenses[0].submitted_by == ""


def test_the_wire_time_entry_and_expense_show_the_submitter() -> None:
    driver = active()
    submit_time(driver, "t1")
    submit_expenses(driver, "x1")
    assert time_entry_out(driver.engagement.time_entries["t1"]).submitted_by == BOB
    assert expense_out(driver.engagement.expenses["x1"]).submitted_by == BOB
