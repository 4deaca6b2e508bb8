"""Command models refuse malformed input at construction (pydantic), before `decide` runs."""

from __future__ import annotations

from datetime import date
from typing import Any

import pydantic
import pytest
from pydantic import TypeAdapter

from q2c_core.domain import commands as cmd
from q2c_core.domain.commands import MAX_BATCH, Command

from .builders import approve_contract, expense, fixed_fee_line, time_entry, tm_line, usd

COMMANDS: TypeAdapter[Any] = TypeAdapter(Command)


def test_empty_time_batch_is_refused() -> None:
    with pytest.raises(pydantic.ValidationError):
        cmd.SubmitTimeEntries(entries=[])


def test_time_batch_of_max_batch_entries_is_accepted_and_one_more_is_refused() -> None:
    entries = [time_entry(f"t{i}", "0.01") for i in range(MAX_BATCH)]
    assert len(cmd.SubmitTimeEntries(entries=entries).entries) == MAX_BATCH
    with pytest.raises(pydantic.ValidationError):
        cmd.SubmitTimeEntries(entries=[*entries, time_entry("extra", "1")])


def test_approval_batch_over_max_batch_is_refused() -> None:
    with pytest.raises(pydantic.ValidationError):
        cmd.ApproveTimeEntries(entry_ids=[f"t{i}" for i in range(MAX_BATCH + 1)])
    with pytest.raises(pydantic.ValidationError):
        cmd.ApproveExpenses(expense_ids=[])


@pytest.mark.parametrize("hours", ["-1", "0", "24.01", "25", "1.005"])
def test_hours_outside_zero_to_24_or_finer_than_hundredths_are_refused(hours: str) -> None:
    with pytest.raises(pydantic.ValidationError):
        time_entry("t1", hours)


@pytest.mark.parametrize("hours", ["0.01", "7.5", "24", 8])
def test_positive_hours_up_to_24_are_accepted(hours: Any) -> None:
    assert time_entry("t1", hours).hours > 0


def test_float_hours_are_refused() -> None:
    with pytest.raises(pydantic.ValidationError, match="floats"):
        time_entry("t1", 7.5)  # type: ignore[arg-type]


def test_expense_in_an_unknown_currency_is_refused() -> None:
    with pytest.raises(pydantic.ValidationError):
        cmd.ExpenseInput.model_validate(
            {
                "expense_id": "e1",
                "billing_line_id": "exp",
                "category": "travel",
                "incurred_date": "2025-03-03",
                "amount": {"currency": "XYZ", "amount": "10"},
            }
        )


@pytest.mark.parametrize("amount", ["0", "-5"])
def test_expense_amount_must_be_positive(amount: str) -> None:
    with pytest.raises(pydantic.ValidationError):
        expense("e1", usd(amount))


def test_contract_in_an_unknown_currency_is_refused() -> None:
    with pytest.raises(pydantic.ValidationError):
        approve_contract(currency="ABC")


def test_contract_ending_before_it_starts_is_refused() -> None:
    with pytest.raises(pydantic.ValidationError):
        approve_contract(start_date=date(2025, 6, 1), end_date=date(2025, 5, 31))


def test_contract_with_repeated_billing_line_ids_is_refused() -> None:
    with pytest.raises(pydantic.ValidationError):
        approve_contract(billing_lines=[tm_line("x"), fixed_fee_line("x")])


@pytest.mark.parametrize("bad_id", ["", "has space", "a/b", "x" * 129])
def test_identifiers_must_be_short_and_plain(bad_id: str) -> None:
    with pytest.raises(pydantic.ValidationError):
        cmd.CompleteMilestone(milestone_id=bad_id)


def test_rejections_and_cancellations_need_a_reason() -> None:
    with pytest.raises(pydantic.ValidationError):
        cmd.CancelEngagement(reason="")
    with pytest.raises(pydantic.ValidationError):
        cmd.RejectTimeEntries(entry_ids=["t1"], reason="")
    with pytest.raises(pydantic.ValidationError):
        cmd.ResolveException(exception_id="x1", resolution_note="")


def test_commands_are_frozen_and_refuse_unknown_fields() -> None:
    command = cmd.QualifyEngagement(comment="ok")
    with pytest.raises(pydantic.ValidationError):
        command.comment = "changed"  # type: ignore[misc]
    with pytest.raises(pydantic.ValidationError):
        cmd.QualifyEngagement(comment="ok", urgency="high")  # type: ignore[call-arg]


def test_command_union_dispatches_on_kind_for_every_command_type() -> None:
    assert set(cmd.COMMAND_TYPES) == {
        member.model_fields["kind"].default
        for member in Command.__origin__.__args__  # type: ignore[attr-defined]
    }
    parsed = COMMANDS.validate_python({"kind": "CancelEngagement", "reason": "gone"})
    assert parsed == cmd.CancelEngagement(reason="gone")
    with pytest.raises(pydantic.ValidationError):
        COMMANDS.validate_python({"kind": "LaunchRocket"})


def test_commands_round_trip_through_json() -> None:
    for command in [approve_contract(), cmd.SubmitTimeEntries(entries=[time_entry("t1", "7.25")])]:
        assert COMMANDS.validate_python(command.model_dump(mode="json")) == command


def test_command_comment_picks_the_human_text_for_the_audit_log() -> None:
    assert cmd.command_comment(cmd.QualifyEngagement(comment="looks good")) == "looks good"
    assert cmd.command_comment(cmd.CancelEngagement(reason="budget")) == "budget"
    assert cmd.command_comment(cmd.ResolveException(exception_id="x", resolution_note="fixed")) == "fixed"
    assert cmd.command_comment(cmd.CompleteEngagement()) == ""
