"""The lifecycle table of DESIGN.md §4: every state x command has a defined outcome."""

from __future__ import annotations

import pytest

from q2c_core.domain import lifecycle
from q2c_core.domain.commands import COMMAND_TYPES
from q2c_core.domain.entities import EngagementState as S
from q2c_core.domain.lifecycle import OPEN_STATES, TERMINAL_STATES, Allowed, Rejected, outcome

LATE_COMMANDS = ("ResolveException", "RecordInvoicePosting", "RaiseReconciliationMismatch")
"""Accepted after the engagement ended: exceptions, and the ERP's acknowledgements and findings."""

GATED_AND_PLAIN_STEPS = [
    ("QualifyEngagement", S.DRAFT, S.QUALIFIED),
    ("CloseWonEngagement", S.QUALIFIED, S.WON),
    ("ApproveContract", S.WON, S.CONTRACTED),
    ("ActivateEngagement", S.CONTRACTED, S.ACTIVE),
    ("CompleteEngagement", S.ACTIVE, S.COMPLETED),
]


def test_table_covers_every_state_and_every_command_type() -> None:
    table = lifecycle.table()
    assert set(table) == {(state, kind) for state in S for kind in COMMAND_TYPES}
    assert len(table) == len(S) * 24  # 17 lifecycle and delivery + 5 billing + 2 ERP commands


@pytest.mark.parametrize(("state", "kind"), sorted(lifecycle.table(), key=str))
def test_every_pair_is_allowed_or_rejected_with_a_reason(state: S, kind: str) -> None:
    result = lifecycle.table()[(state, kind)]
    assert isinstance(result, Allowed | Rejected)
    if isinstance(result, Rejected):
        assert result.detail.strip()
    else:
        assert result.target is None or isinstance(result.target, S)


@pytest.mark.parametrize("state", sorted(TERMINAL_STATES))
@pytest.mark.parametrize("kind", [k for k in COMMAND_TYPES if k not in LATE_COMMANDS])
def test_terminal_states_reject_every_command_but_the_late_ones(state: S, kind: str) -> None:
    assert isinstance(outcome(state, kind), Rejected)


@pytest.mark.parametrize("state", sorted(TERMINAL_STATES))
@pytest.mark.parametrize("kind", LATE_COMMANDS)
def test_terminal_states_accept_late_commands_without_leaving_the_state(state: S, kind: str) -> None:
    assert outcome(state, kind) == Allowed(None)


@pytest.mark.parametrize("kind", ["ResolveException", "RaiseReconciliationMismatch"])
def test_exceptions_are_raised_and_resolved_in_every_state(kind: str) -> None:
    assert all(outcome(state, kind) == Allowed(None) for state in S)


def test_an_invoice_posting_is_accepted_wherever_an_issued_invoice_can_be() -> None:
    allowed = {state for state in S if isinstance(outcome(state, "RecordInvoicePosting"), Allowed)}
    assert allowed == {S.ACTIVE, S.COMPLETED, S.ON_HOLD, S.CLOSED, S.CANCELLED}


def test_closed_and_cancelled_are_the_terminal_states() -> None:
    assert frozenset({S.CLOSED, S.CANCELLED}) == TERMINAL_STATES
    assert not TERMINAL_STATES & OPEN_STATES


def test_on_hold_accepts_only_resolve_exception_cancel_and_the_erp_commands() -> None:
    allowed = {kind for kind in COMMAND_TYPES if isinstance(outcome(S.ON_HOLD, kind), Allowed)}
    assert allowed == {*LATE_COMMANDS, "CancelEngagement"}


def test_on_hold_rejection_tells_the_caller_to_resolve_exceptions() -> None:
    result = outcome(S.ON_HOLD, "ActivateEngagement")
    assert isinstance(result, Rejected)
    assert "resolve" in result.detail


@pytest.mark.parametrize(("kind", "source", "target"), GATED_AND_PLAIN_STEPS)
def test_happy_path_transition_exists(kind: str, source: S, target: S) -> None:
    assert outcome(source, kind) == Allowed(target)


@pytest.mark.parametrize(("kind", "source", "target"), GATED_AND_PLAIN_STEPS)
def test_happy_path_step_is_allowed_only_from_its_source_state(kind: str, source: S, target: S) -> None:
    allowed_in = {state for state in S if isinstance(outcome(state, kind), Allowed)}
    assert allowed_in == {source}


@pytest.mark.parametrize("state", sorted(OPEN_STATES))
def test_cancel_is_allowed_from_every_open_state(state: S) -> None:
    assert outcome(state, "CancelEngagement") == Allowed(S.CANCELLED)


def test_cancel_is_refused_once_delivery_completed() -> None:
    assert isinstance(outcome(S.COMPLETED, "CancelEngagement"), Rejected)


@pytest.mark.parametrize("state", sorted(set(S)))
def test_create_is_rejected_for_an_existing_engagement_in_any_state(state: S) -> None:
    result = outcome(state, "CreateEngagement")
    assert isinstance(result, Rejected)
    assert "already exists" in result.detail


@pytest.mark.parametrize("kind", ["SubmitTimeEntries", "SubmitExpenses", "CompleteMilestone"])
def test_delivery_commands_run_only_while_active(kind: str) -> None:
    assert {state for state in S if isinstance(outcome(state, kind), Allowed)} == {S.ACTIVE}


@pytest.mark.parametrize(
    "kind",
    [
        "ApproveTimeEntries",
        "RejectTimeEntries",
        "ApproveExpenses",
        "RejectExpenses",
        "AcceptMilestone",
        "RejectMilestone",
    ],
)
def test_review_commands_run_while_active_or_completed_without_changing_state(kind: str) -> None:
    allowed = {state: outcome(state, kind) for state in S if isinstance(outcome(state, kind), Allowed)}
    assert set(allowed) == {S.ACTIVE, S.COMPLETED}
    assert all(result == Allowed(None) for result in allowed.values())


def test_rejection_outside_the_source_state_names_the_allowed_states() -> None:
    result = outcome(S.DRAFT, "ApproveContract")
    assert isinstance(result, Rejected)
    assert "WON" in result.detail


def test_unknown_command_type_is_a_programming_error() -> None:
    with pytest.raises(KeyError):
        outcome(S.DRAFT, "LaunchRocket")
