"""Separation of duties: whoever submitted time or expenses may not approve them."""

from __future__ import annotations

import json
import pickle

import pytest

from q2c_core.domain import commands as cmd
from q2c_core.domain import events as ev
from q2c_core.domain.duties import NOBODY_EXEMPT, SELF_APPROVAL, SelfApprovalPolicy
from q2c_core.domain.engagement import Engagement
from q2c_core.domain.entities import EngagementState, ItemStatus
from q2c_core.domain.errors import ErrorKind, PermissionDeniedError
from q2c_core.domain.evolve import evolve, fold
from q2c_core.edge.converters.convert_engagement import expense_out, time_entry_out

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


# --- the rule ------------------------------------------------------------------------------


def approve_time(driver: Driver, *entry_ids: str, principal: str) -> None:
    driver.run(cmd.ApproveTimeEntries(entry_ids=list(entry_ids)), principal=principal)


def approve_expenses(driver: Driver, *expense_ids: str, principal: str) -> None:
    driver.run(cmd.ApproveExpenses(expense_ids=list(expense_ids)), principal=principal)


def test_a_submitter_may_not_approve_its_own_time_entries() -> None:
    driver = active()
    submit_time(driver, "t1")
    before = driver.engagement
    with pytest.raises(PermissionDeniedError) as raised:
        approve_time(driver, "t1", principal=BOB)
    assert raised.value.kind is ErrorKind.PERMISSION_DENIED
    assert raised.value.reason == SELF_APPROVAL
    assert raised.value.metadata == {"resource": "time_entry", "ids": "t1", "principal": BOB}
    assert driver.engagement == before
    assert driver.engagement.time_entries["t1"].status is ItemStatus.SUBMITTED


def test_another_principal_approves_them() -> None:
    driver = active()
    submit_time(driver, "t1", "t2")
    approve_time(driver, "t1", "t2", principal=ALICE)
    assert {e.status for e in driver.engagement.time_entries.values()} == {ItemStatus.APPROVED}


def test_one_own_entry_rejects_the_whole_approval_and_names_only_the_own_ones() -> None:
    driver = active()
    submit_time(driver, "t1", "t3")
    submit_time(driver, "t2", principal=ALICE)
    with pytest.raises(PermissionDeniedError) as raised:
        approve_time(driver, "t2", "t1", "t3", principal=BOB)
    assert raised.value.metadata["ids"] == "t1,t3"
    assert {e.status for e in driver.engagement.time_entries.values()} == {ItemStatus.SUBMITTED}


def test_a_submitter_may_reject_its_own_time_entries_which_only_withdraws_them() -> None:
    driver = active()
    submit_time(driver, "t1")
    driver.run(cmd.RejectTimeEntries(entry_ids=["t1"], reason="wrong day"), principal=BOB)
    assert driver.engagement.time_entries["t1"].status is ItemStatus.REJECTED


def test_a_tenant_that_allows_self_approval_lets_the_submitter_approve() -> None:
    driver = active()
    driver.allow_self_approval = True
    submit_time(driver, "t1")
    submit_expenses(driver, "x1")
    approve_time(driver, "t1", principal=BOB)
    approve_expenses(driver, "x1", principal=BOB)
    assert driver.engagement.time_entries["t1"].status is ItemStatus.APPROVED
    assert driver.engagement.expenses["x1"].status is ItemStatus.APPROVED


def test_a_submitter_may_not_approve_its_own_expenses() -> None:
    driver = active()
    submit_expenses(driver, "x1", "x2")
    with pytest.raises(PermissionDeniedError) as raised:
        approve_expenses(driver, "x1", "x2", principal=BOB)
    assert raised.value.reason == SELF_APPROVAL
    assert raised.value.metadata == {"resource": "expense", "ids": "x1,x2", "principal": BOB}
    assert {x.status for x in driver.engagement.expenses.values()} == {ItemStatus.SUBMITTED}
    approve_expenses(driver, "x1", "x2", principal=ALICE)
    assert {x.status for x in driver.engagement.expenses.values()} == {ItemStatus.APPROVED}


def test_a_submitter_may_reject_its_own_expenses() -> None:
    driver = active()
    submit_expenses(driver, "x1")
    driver.run(cmd.RejectExpenses(expense_ids=["x1"], reason="duplicate"), principal=BOB)
    assert driver.engagement.expenses["x1"].status is ItemStatus.REJECTED


def test_items_from_before_submitters_were_kept_are_approvable_by_anyone() -> None:
    driver = active()
    submit_time(driver, "t1")
    submit_expenses(driver, "x1")
    for event, at in driver.journal[-2:]:  # the two submissions, as an old journal holds them
        payload = ev.event_to_payload(event)
        for item in payload.get("entries", []) or payload.get("expenses", []):  # type: ignore[attr-defined]
            del item["submitted_by"]
        driver.state = evolve(driver.state, ev.event_from_payload(payload), at)
    assert driver.engagement.time_entries["t1"].submitted_by == ""
    approve_time(driver, "t1", principal=BOB)
    approve_expenses(driver, "x1", principal=BOB)
    assert driver.engagement.time_entries["t1"].status is ItemStatus.APPROVED
    assert driver.engagement.expenses["x1"].status is ItemStatus.APPROVED


# --- the per-tenant policy -----------------------------------------------------------------


def test_by_default_no_tenant_is_exempt() -> None:
    assert not NOBODY_EXEMPT.allows("acme")
    assert not SelfApprovalPolicy().allows("")


def test_an_exempt_tenant_is_allowed_and_others_are_not() -> None:
    policy = SelfApprovalPolicy(frozenset({"small-firm"}))
    assert policy.allows("small-firm")
    assert not policy.allows("acme")


def test_the_policy_is_a_plain_value_that_pickles_into_ray_actors() -> None:
    policy = SelfApprovalPolicy(frozenset({"small-firm"}))
    assert pickle.loads(pickle.dumps(policy)) == policy
