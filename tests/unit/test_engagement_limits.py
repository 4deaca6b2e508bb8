"""What one engagement may hold is bounded, so its reply is; the command past a bound changes nothing."""

from __future__ import annotations

from datetime import date

import pydantic
import pytest

from q2c_core.domain import change_orders, invoicing, items
from q2c_core.domain import commands as cmd
from q2c_core.domain.entities import EngagementState
from q2c_core.domain.errors import PreconditionError
from q2c_core.domain.limits import (
    ENGAGEMENT_LIMIT_REASON,
    MAX_MILESTONES_PER_CONTRACT,
    MAX_MILESTONES_PER_LINE,
)
from q2c_core.domain.periods import BillingPeriod

from .builders import approve_contract, driven_to, expense, fixed_fee_line, time_entry, tm_line


def _refused(error: pytest.ExceptionInfo[PreconditionError], limit: str, maximum: int) -> None:
    assert error.value.reason == ENGAGEMENT_LIMIT_REASON
    assert error.value.metadata["limit"] == limit
    assert error.value.metadata["maximum"] == str(maximum)


def test_time_entries_up_to_the_limit_are_accepted_and_one_more_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(items, "MAX_TIME_ENTRIES_PER_ENGAGEMENT", 2)
    driver = driven_to(EngagementState.ACTIVE)
    driver.run(cmd.SubmitTimeEntries(entries=[time_entry("t1", "1"), time_entry("t2", "1")]))
    before = driver.engagement
    with pytest.raises(PreconditionError) as error:
        driver.run(cmd.SubmitTimeEntries(entries=[time_entry("t3", "1")]))
    _refused(error, "time_entries", 2)
    assert driver.engagement == before


def test_expenses_past_the_limit_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(items, "MAX_EXPENSES_PER_ENGAGEMENT", 1)
    driver = driven_to(EngagementState.ACTIVE)
    driver.run(cmd.SubmitExpenses(expenses=[expense("x1")]))
    with pytest.raises(PreconditionError) as error:
        driver.run(cmd.SubmitExpenses(expenses=[expense("x2")]))
    _refused(error, "expenses", 1)


def test_a_change_order_past_the_revision_limit_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(change_orders, "MAX_CONTRACT_REVISIONS", 1)
    driver = driven_to(EngagementState.ACTIVE)
    amend = cmd.AmendContract(
        effective_date=date(2025, 6, 1), billing_lines=driver.engagement.contract.billing_lines
    )
    with pytest.raises(PreconditionError) as error:
        driver.run(amend)
    _refused(error, "contract_revisions", 1)


def test_an_invoice_past_the_invoice_limit_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(invoicing, "MAX_INVOICES_PER_ENGAGEMENT", 0)
    driver = driven_to(EngagementState.ACTIVE)
    driver.run(cmd.SubmitTimeEntries(entries=[time_entry("t1", "1")]))
    driver.run(cmd.ApproveTimeEntries(entry_ids=["t1"]))
    with pytest.raises(PreconditionError) as error:
        driver.run(cmd.GenerateInvoice(period=BillingPeriod.month(2025, 3)))
    _refused(error, "invoices", 0)


def test_a_contract_with_more_milestones_than_the_limit_is_refused() -> None:
    per_line = MAX_MILESTONES_PER_LINE
    lines = [tm_line()] + [
        fixed_fee_line(f"ff{n}", *(f"m{n}-{i}" for i in range(per_line)))
        for n in range(MAX_MILESTONES_PER_CONTRACT // per_line + 1)
    ]
    with pytest.raises(pydantic.ValidationError, match=f"at most {MAX_MILESTONES_PER_CONTRACT} milestones"):
        approve_contract(billing_lines=lines)
