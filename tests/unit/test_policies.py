"""Policy checks of the three gated steps, tested directly (no decide, no events)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from q2c_core.domain.entities import GatedStep, Severity, TimeAndMaterialsTerms
from q2c_core.domain.policies import (
    check_activation,
    check_close_won,
    check_contract,
    covered,
    normalize_po,
)
from q2c_core.domain.reference import CustomerStatus, RateCard, TaxProfile

from .builders import customer, rate_card, usd

JAN1, MAR31, APR1, JUN30, JUL1, DEC31 = (
    date(2025, 1, 1),
    date(2025, 3, 31),
    date(2025, 4, 1),
    date(2025, 6, 30),
    date(2025, 7, 1),
    date(2025, 12, 31),
)


def checks(gate: object) -> dict[str, Severity]:
    return {f.check: f.severity for f in gate.findings}  # type: ignore[attr-defined]


# --- covered -------------------------------------------------------------------------------


def test_single_open_ended_revision_covers_an_open_ended_period() -> None:
    assert covered([rate_card(JAN1)], APR1, None)


def test_single_bounded_revision_covers_a_period_inside_it() -> None:
    assert covered([rate_card(JAN1, DEC31)], APR1, JUN30)


def test_bounded_revision_does_not_cover_an_open_ended_period() -> None:
    assert not covered([rate_card(JAN1, DEC31)], APR1, None)


def test_revision_starting_after_the_period_start_does_not_cover_it() -> None:
    assert not covered([rate_card(APR1)], JAN1, JUN30)


def test_revision_ending_before_the_period_end_does_not_cover_it() -> None:
    assert not covered([rate_card(JAN1, JUN30)], APR1, DEC31)


def test_consecutive_revisions_together_cover_the_period() -> None:
    revisions = [rate_card(JUL1, DEC31, revision=2), rate_card(JAN1, JUN30, revision=1)]
    assert covered(revisions, APR1, date(2025, 9, 30))


def test_consecutive_revisions_ending_open_ended_cover_an_open_ended_period() -> None:
    assert covered([rate_card(JAN1, JUN30), rate_card(JUL1, revision=2)], APR1, None)


def test_overlapping_revisions_together_cover_the_period() -> None:
    revisions = [rate_card(JAN1, JUN30), rate_card(APR1, DEC31, revision=2)]
    assert covered(revisions, JAN1, DEC31)


def test_a_revision_nested_inside_another_does_not_break_coverage() -> None:
    revisions = [rate_card(JAN1, DEC31), rate_card(APR1, JUN30, revision=2)]
    assert covered(revisions, JAN1, DEC31)


def test_a_one_day_gap_between_revisions_breaks_coverage() -> None:
    revisions = [rate_card(JAN1, JUN30), rate_card(date(2025, 7, 2), DEC31, revision=2)]
    assert not covered(revisions, APR1, date(2025, 9, 30))


def test_a_gap_outside_the_period_does_not_matter() -> None:
    revisions = [rate_card(JAN1, MAR31), rate_card(JUL1, DEC31, revision=2)]
    assert covered(revisions, JUL1, date(2025, 9, 30))


def test_no_revisions_cover_nothing() -> None:
    assert not covered([], APR1, JUN30)


def test_single_day_period_on_the_last_effective_day_is_covered() -> None:
    assert covered([rate_card(JAN1, JUN30)], JUN30, JUN30)


def test_revision_running_to_the_last_representable_day_covers_an_open_ended_period() -> None:
    assert covered([rate_card(JAN1, date.max)], APR1, None)
    assert covered([rate_card(JAN1, date.max)], APR1, DEC31)


def test_rate_card_covers_matches_policy_coverage_for_one_revision() -> None:
    card = rate_card(JAN1, JUN30)
    for start, end in [(APR1, JUN30), (APR1, DEC31), (APR1, None), (date(2024, 12, 31), MAR31)]:
        assert card.covers(start, end) == covered([card], start, end)


# --- close-won -----------------------------------------------------------------------------


def test_complete_customer_with_engagement_service_line_passes_close_won_cleanly() -> None:
    gate = check_close_won(customer(), "erp")
    assert gate.step is GatedStep.CLOSE_WON
    assert gate.findings == []
    assert gate.corrected == {"service_line": "erp"}


@pytest.mark.parametrize(
    ("overrides", "check"),
    [
        ({"status": CustomerStatus.INACTIVE}, "CUSTOMER_ACTIVE"),
        ({"legal_entity": ""}, "LEGAL_ENTITY_MAPPED"),
        ({"legal_entity": "   "}, "LEGAL_ENTITY_MAPPED"),
        ({"tax_profile": None}, "TAX_PROFILE_PRESENT"),
        ({"tax_profile": TaxProfile(jurisdiction="  ")}, "TAX_PROFILE_PRESENT"),
    ],
)
def test_close_won_blocks_on_incomplete_customer(overrides: dict[str, object], check: str) -> None:
    gate = check_close_won(customer(**overrides), "erp")
    assert checks(gate) == {check: Severity.BLOCKING}
    assert [f.check for f in gate.blocking] == [check]


def test_missing_service_line_is_inherited_from_customer_and_auto_corrected() -> None:
    gate = check_close_won(customer(service_line="advisory"), "")
    assert checks(gate) == {"SERVICE_LINE_SET": Severity.AUTO_CORRECTED}
    assert gate.corrected["service_line"] == "advisory"
    assert "INHERIT_CUSTOMER_SERVICE_LINE" in gate.findings[0].correction
    assert gate.blocking == []


def test_missing_service_line_everywhere_blocks_close_won() -> None:
    gate = check_close_won(customer(service_line=""), "")
    assert checks(gate) == {"SERVICE_LINE_SET": Severity.BLOCKING}


def test_close_won_reports_every_failed_check_at_once() -> None:
    bad = customer(status=CustomerStatus.INACTIVE, legal_entity="", tax_profile=None)
    assert set(checks(check_close_won(bad, "erp"))) == {
        "CUSTOMER_ACTIVE",
        "LEGAL_ENTITY_MAPPED",
        "TAX_PROFILE_PRESENT",
    }


# --- approve-contract ----------------------------------------------------------------------


def tm(cap: bool = True, rate_card_id: str = "rc-1") -> TimeAndMaterialsTerms:
    return TimeAndMaterialsTerms(rate_card_id=rate_card_id, not_to_exceed=usd("1000") if cap else None)


def contract_gate(**kwargs: object) -> object:
    args: dict[str, object] = {
        "customer": customer(),
        "currency": "USD",
        "start": APR1,
        "end": DEC31,
        "po_reference": "",
        "tm_lines": [tm()],
        "rate_cards": {"rc-1": [rate_card(JAN1)]},
    }
    args.update(kwargs)
    return check_contract(**args)  # type: ignore[arg-type]


def test_contract_with_effective_capped_rate_card_passes_cleanly() -> None:
    gate = contract_gate()
    assert checks(gate) == {}
    assert gate.corrected == {"po_reference": ""}  # type: ignore[attr-defined]


def test_rate_card_not_effective_for_contract_period_blocks() -> None:
    gate = contract_gate(rate_cards={"rc-1": [rate_card(JAN1, JUN30)]})
    assert checks(gate) == {"RATE_CARD_EFFECTIVE": Severity.BLOCKING}


def test_rate_card_revisions_covering_the_period_together_pass() -> None:
    revisions = [rate_card(JAN1, JUN30), rate_card(JUL1, revision=2)]
    assert checks(contract_gate(rate_cards={"rc-1": revisions})) == {}


def test_rate_card_in_another_currency_blocks() -> None:
    gate = contract_gate(rate_cards={"rc-1": [rate_card(JAN1, currency="EUR")]})
    assert checks(gate) == {"RATE_CARD_CURRENCY": Severity.BLOCKING}


def test_missing_po_blocks_when_customer_requires_one() -> None:
    gate = contract_gate(customer=customer(po_required=True), po_reference="   ")
    assert checks(gate)["PO_REFERENCE_PRESENT"] is Severity.BLOCKING


def test_missing_po_is_fine_when_customer_does_not_require_one() -> None:
    assert "PO_REFERENCE_PRESENT" not in checks(contract_gate(po_reference=""))


def test_po_reference_is_normalized_and_auto_corrected() -> None:
    gate = contract_gate(customer=customer(po_required=True), po_reference="  po-42 ")
    assert checks(gate) == {"PO_REFERENCE_FORMAT": Severity.AUTO_CORRECTED}
    assert gate.corrected["po_reference"] == "PO-42"  # type: ignore[attr-defined]
    assert normalize_po("  po-42 ") == "PO-42"


def test_uncapped_time_and_materials_is_flagged_for_review_without_blocking() -> None:
    gate = contract_gate(tm_lines=[tm(cap=False)])
    assert checks(gate) == {"TM_CAP_SET": Severity.REVIEW}
    assert gate.blocking == []  # type: ignore[attr-defined]


def test_contract_currency_other_than_customer_billing_currency_is_flagged_for_review() -> None:
    gate = contract_gate(currency="EUR", rate_cards={"rc-1": [rate_card(JAN1, currency="EUR")]})
    assert checks(gate) == {"CONTRACT_CURRENCY_MATCHES_CUSTOMER": Severity.REVIEW}


# --- activate ------------------------------------------------------------------------------


def test_activation_with_start_date_and_template_passes_cleanly() -> None:
    gate = check_activation(APR1, APR1, DEC31, "tpl-1", 0)
    assert checks(gate) == {}
    assert gate.corrected["start_date"] == APR1


def test_missing_start_date_is_taken_from_the_contract_and_auto_corrected() -> None:
    gate = check_activation(None, APR1, DEC31, "", 2)
    assert checks(gate) == {"START_DATE_SET": Severity.AUTO_CORRECTED}
    assert gate.corrected["start_date"] == APR1


def test_no_template_and_no_staffing_blocks_activation() -> None:
    gate = check_activation(APR1, APR1, DEC31, "", 0)
    assert checks(gate) == {"DELIVERY_READINESS": Severity.BLOCKING}


@pytest.mark.parametrize("start", [MAR31, date(2026, 1, 1)])
def test_start_date_outside_the_contract_blocks_activation(start: date) -> None:
    gate = check_activation(start, APR1, DEC31, "tpl-1", 0)
    assert checks(gate) == {"START_DATE_WITHIN_CONTRACT": Severity.BLOCKING}


# --- covered, against a day-by-day oracle --------------------------------------------------

BASE = date(2025, 1, 1)
offsets = st.integers(min_value=0, max_value=40)


@st.composite
def revision_sets(draw: st.DrawFn) -> list[RateCard]:
    cards = []
    for n in range(draw(st.integers(min_value=0, max_value=4))):
        start = draw(offsets)
        length = draw(st.none() | st.integers(min_value=0, max_value=20))
        cards.append(
            rate_card(
                BASE + timedelta(days=start),
                None if length is None else BASE + timedelta(days=start + length),
                revision=n + 1,
            )
        )
    return cards


@given(revisions=revision_sets(), start=offsets, length=st.none() | st.integers(0, 30))
def test_covered_agrees_with_checking_every_day(
    revisions: list[RateCard], start: int, length: int | None
) -> None:
    first = BASE + timedelta(days=start)
    # Past the last date any revision names only open-ended revisions apply, so one day past
    # the horizon stands for "forever" when the period is open-ended.
    last = BASE + timedelta(days=start + length) if length is not None else BASE + timedelta(days=100)
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    expected = all(any(card.effective_on(day) for card in revisions) for day in days)
    end = None if length is None else last
    assert covered(revisions, first, end) == expected
