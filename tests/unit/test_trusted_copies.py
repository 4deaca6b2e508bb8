"""trusted() and replaced(): the hot path's unvalidated construction and copies equal validated ones."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from q2c_core.domain.base import replaced, trusted
from q2c_core.domain.drafts import BillingDraft, add_line
from q2c_core.domain.engagement import Engagement
from q2c_core.domain.entities import Contract, ItemStatus, TimeEntry
from q2c_core.domain.invoices import InvoiceLine, LineSource
from q2c_core.domain.money import Money

NOW = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)


def _entry_fields() -> dict[str, Any]:
    return {
        "entry_id": "t1",
        "billing_line_id": "tm",
        "person": "ada",
        "role": "engineer",
        "work_date": date(2026, 1, 2),
        "hours": Decimal("7.5"),
        "submitted_by": "ops",
        "submit_time": NOW,
        "update_time": NOW,
    }


def test_trusted_instance_equals_and_dumps_like_the_validated_one() -> None:
    built, validated = trusted(TimeEntry, _entry_fields()), TimeEntry(**_entry_fields())
    assert built == validated
    assert built.model_dump(mode="json") == validated.model_dump(mode="json")
    assert list(built.__dict__) == list(validated.__dict__)  # declaration order, defaults filled
    assert built.model_fields_set == set(TimeEntry.model_fields)  # every field counts as set


def test_trusted_copies_mutable_defaults_per_instance() -> None:
    fields = {"engagement_id": "e", "customer_id": "c", "display_name": "E", "create_time": NOW}
    one = trusted(Engagement, {**fields, "update_time": NOW})
    two = trusted(Engagement, {**fields, "update_time": NOW})
    assert one.time_entries == {} and one.time_entries is not two.time_entries
    assert one.staffing_plan is not two.staffing_plan


def test_trusted_refuses_unknown_and_missing_fields() -> None:
    with pytest.raises(TypeError):
        trusted(Money, {"currency": "USD", "amount": Decimal(1), "colour": "red"})
    with pytest.raises(TypeError):
        trusted(Money, {"currency": "USD"})


def test_a_shared_fields_set_survives_model_copy_of_one_instance() -> None:
    one, two = trusted(TimeEntry, _entry_fields()), trusted(TimeEntry, _entry_fields())
    assert one.model_fields_set is two.model_fields_set
    changed = one.model_copy(update={"status": ItemStatus.APPROVED})
    assert changed.status is ItemStatus.APPROVED and two.model_fields_set == set(TimeEntry.model_fields)


def test_replaced_equals_model_copy_and_keeps_the_original() -> None:
    entry = TimeEntry(**_entry_fields())
    changes = {"status": ItemStatus.APPROVED, "update_time": NOW}
    copy = replaced(entry, changes)
    assert copy == entry.model_copy(update=changes)
    assert entry.status is ItemStatus.SUBMITTED
    with pytest.raises(TypeError):
        replaced(entry, {"colour": "red"})


def test_add_line_builds_the_line_validation_would() -> None:
    contract = Contract.model_construct(revision=3)
    draft = BillingDraft(currency="USD")
    rate = Money.of("150", "USD")
    add_line(
        draft,
        LineSource.TIME_ENTRY,
        "t1",
        "tm",
        contract,
        "ada",
        Decimal("7.5"),
        rate,
        rate.times(Decimal("7.5")),
    )

    [line] = draft.lines
    validated = InvoiceLine.model_validate(line.model_dump())
    assert line == validated
    assert list(line.__dict__) == list(InvoiceLine.model_fields)  # every field, in declaration order
    assert line.model_dump(mode="json") == validated.model_dump(mode="json")
