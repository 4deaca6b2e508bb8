"""Billing models, one sentence per test: T&M, caps, fixed fee, retainer, expenses, subscription, tax,
currencies and billing periods."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pydantic
import pytest

from q2c_core.domain import commands as cmd
from q2c_core.domain import events as ev
from q2c_core.domain.entities import (
    BusinessException,
    ExceptionState,
    GatedStep,
    ItemStatus,
    PeriodUnit,
    Severity,
)
from q2c_core.domain.errors import PreconditionError, ValidationError
from q2c_core.domain.invoices import LineSource
from q2c_core.domain.periods import BillingPeriod

from .billing_builders import (
    accept,
    active,
    amounts,
    bill,
    cards,
    expenses,
    fixed,
    money,
    month,
    retainer,
    span,
    spend,
    subscription,
    taxed,
    tm,
    work,
)
from .builders import Driver, rate_card

# --- billing periods ------------------------------------------------------------------------


def test_a_period_ending_before_it_starts_is_refused() -> None:
    with pytest.raises(pydantic.ValidationError, match="before"):
        BillingPeriod(start=date(2025, 2, 1), end=date(2025, 1, 31))


def test_a_period_may_cover_366_days_but_not_367() -> None:
    assert BillingPeriod(start=date(2024, 1, 1), end=date(2024, 12, 31)).key == "2024-01-01..2024-12-31"
    with pytest.raises(pydantic.ValidationError, match="366"):
        BillingPeriod(start=date(2024, 1, 1), end=date(2025, 1, 1))


def test_a_one_day_period_is_allowed() -> None:
    assert BillingPeriod(start=date(2025, 3, 3), end=date(2025, 3, 3)).contains(date(2025, 3, 3))


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("2025-01", date(2025, 1, 1), date(2025, 1, 31)),
        ("2024-02", date(2024, 2, 1), date(2024, 2, 29)),
        ("2025-02", date(2025, 2, 1), date(2025, 2, 28)),
        ("2025-12", date(2025, 12, 1), date(2025, 12, 31)),
    ],
)
def test_a_month_parses_to_its_first_and_last_day(text: str, start: date, end: date) -> None:
    period = BillingPeriod.parse_month(text)
    assert (period.start, period.end, period.key) == (start, end, text)


@pytest.mark.parametrize("text", ["2025-13", "2025-00", "2025", "January", "2025-01-02", "", "2025/01"])
def test_a_malformed_month_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="YYYY-MM"):
        BillingPeriod.parse_month(text)


def test_the_key_of_a_calendar_month_is_yyyy_mm_and_of_a_range_its_two_days() -> None:
    assert BillingPeriod.month(2026, 1).key == "2026-01"
    assert span(date(2026, 1, 1), date(2026, 1, 15)).key == "2026-01-01..2026-01-15"
    assert span(date(2026, 1, 2), date(2026, 1, 31)).key == "2026-01-02..2026-01-31"
    assert span(date(2026, 1, 1), date(2026, 2, 28)).key == "2026-01-01..2026-02-28"


def test_a_range_covering_exactly_a_month_equals_the_month() -> None:
    assert span(date(2026, 1, 1), date(2026, 1, 31)) == BillingPeriod.parse_month("2026-01")
    assert span(date(2026, 1, 1), date(2026, 1, 31)).key == "2026-01"


# --- time and materials ---------------------------------------------------------------------


def test_tm_bills_hours_times_the_role_rate_rounded_half_up_per_line() -> None:
    driver = active(tm(), rate_cards=cards(engineer="133.333", manager="200"))
    work(driver, "t1", date(2025, 3, 3), "7.5")
    work(driver, "t2", date(2025, 3, 4), "2", role="manager")
    invoice = bill(driver, month("2025-03"))
    lines = {line.source_id: line for line in invoice.lines}
    assert lines["t1"].quantity == Decimal("7.5")
    assert lines["t1"].unit_price == money("133.333")
    assert lines["t1"].amount == money("1000.00")  # 999.9975 -> 1000.00
    assert str(lines["t1"].amount.amount) == "1000.00"
    assert lines["t1"].rounding_rule == "ROUND_HALF_UP_PER_LINE"
    assert lines["t2"].amount == money("400.00")
    assert invoice.subtotal == money("1400.00")


def test_tm_prices_each_entry_with_the_rate_card_revision_effective_on_its_work_date() -> None:
    revisions = {
        "rc-1": [
            rate_card(date(2025, 1, 1), date(2025, 3, 31), rates={"engineer": "100"}),
            rate_card(date(2025, 4, 1), revision=2, rates={"engineer": "120"}),
        ]
    }
    driver = active(tm(), rate_cards=revisions)
    work(driver, "mar31", date(2025, 3, 31))
    work(driver, "apr1", date(2025, 4, 1))
    invoice = bill(driver, span(date(2025, 3, 1), date(2025, 4, 30)))
    assert amounts(invoice) == {"mar31": Decimal("800.00"), "apr1": Decimal("960.00")}


def test_tm_bills_only_approved_entries_dated_on_or_before_the_period_end() -> None:
    driver = active(tm(), rate_cards=cards(engineer="100"))
    work(driver, "feb", date(2025, 2, 10))
    work(driver, "mar", date(2025, 3, 10))
    work(driver, "waiting", date(2025, 2, 11), approve=False)
    work(driver, "no", date(2025, 2, 12), approve=False)
    driver.run(cmd.RejectTimeEntries(entry_ids=["no"], reason="wrong project"))
    invoice = bill(driver, month("2025-02"))
    assert set(amounts(invoice)) == {"feb"}
    assert driver.engagement.time_entries["feb"].status is ItemStatus.BILLED
    assert driver.engagement.time_entries["feb"].invoice_id == invoice.invoice_id
    assert driver.engagement.time_entries["mar"].status is ItemStatus.APPROVED
    assert driver.engagement.time_entries["waiting"].status is ItemStatus.SUBMITTED


def test_tm_catches_up_late_approvals_of_earlier_periods() -> None:
    driver = active(tm(), rate_cards=cards(engineer="100"))
    work(driver, "jan", date(2025, 1, 20), approve=False)
    work(driver, "feb", date(2025, 2, 10))
    bill(driver, month("2025-02"))
    driver.run(cmd.ApproveTimeEntries(entry_ids=["jan"]))
    invoice = bill(driver, month("2025-03"))
    assert set(amounts(invoice)) == {"jan"}


# --- not-to-exceed cap ----------------------------------------------------------------------


def capped(cap: str = "2500") -> Driver:
    driver = active(tm(cap=money(cap)), rate_cards=cards(engineer="100"))
    # submitted out of date order: the cap is applied in work_date order
    work(driver, "c", date(2025, 3, 5), "10")
    work(driver, "a", date(2025, 3, 3), "10")
    work(driver, "b", date(2025, 3, 4), "10")
    work(driver, "d", date(2025, 3, 6), "10")
    return driver


def cap_exceptions(driver: Driver) -> list[BusinessException]:
    return [x for x in driver.engagement.exceptions.values() if x.check == "NOT_TO_EXCEED_CAP"]


def test_a_cap_bills_entries_in_work_date_order_until_the_cap_and_holds_the_rest() -> None:
    driver = capped("2500")
    events = driver.run(cmd.GenerateInvoice(period=month("2025-03")))
    invoice = next(e.invoice for e in events if isinstance(e, ev.InvoiceGenerated))
    assert amounts(invoice) == {"a": Decimal("1000.00"), "b": Decimal("1000.00")}
    held = next(e for e in events if isinstance(e, ev.TimeEntriesHeldAtCap))
    assert sorted(held.entry_ids) == ["c", "d"]
    entries = driver.engagement.time_entries
    assert [entries[i].status for i in "abcd"] == [ItemStatus.BILLED] * 2 + [ItemStatus.HELD_AT_CAP] * 2


def test_a_cap_raises_one_review_exception_per_line_not_per_held_entry() -> None:
    driver = capped("2500")
    bill(driver, month("2025-03"))
    [exception] = cap_exceptions(driver)
    assert exception.item_ids == ["tm"]
    assert exception.severity is Severity.REVIEW
    assert exception.step is GatedStep.INVOICE
    assert exception.state is ExceptionState.OPEN
    work(driver, "e", date(2025, 4, 1), "6")  # 600 > 500 left
    driver.run(cmd.GenerateInvoice(period=month("2025-04")))  # held again: still one open exception
    assert len(cap_exceptions(driver)) == 1
    assert driver.engagement.time_entries["e"].status is ItemStatus.HELD_AT_CAP


def test_a_later_entry_that_still_fits_under_the_cap_is_billed() -> None:
    """The proto rule is per entry: entries whose amount would take the total over the cap are held."""
    driver = active(tm(cap=money("2500")), rate_cards=cards(engineer="100"))
    work(driver, "a", date(2025, 3, 3), "20")  # 2000
    work(driver, "b", date(2025, 3, 4), "10")  # 1000: over
    work(driver, "c", date(2025, 3, 5), "5")  # 500: fits exactly
    invoice = bill(driver, month("2025-03"))
    assert amounts(invoice) == {"a": Decimal("2000.00"), "c": Decimal("500.00")}
    assert driver.engagement.time_entries["b"].status is ItemStatus.HELD_AT_CAP


def test_released_cap_hours_bill_on_the_next_invoice_above_the_cap() -> None:
    driver = capped("2500")
    bill(driver, month("2025-03"))
    [exception] = cap_exceptions(driver)
    events = driver.run(
        cmd.ResolveException(
            exception_id=exception.exception_id,
            resolution_note="customer agreed",
            resolution=cmd.Resolution.RELEASE,
        )
    )
    assert any(
        isinstance(e, ev.TimeEntriesReleasedFromCap) and sorted(e.entry_ids) == ["c", "d"] for e in events
    )
    assert driver.engagement.time_entries["c"].status is ItemStatus.APPROVED
    assert driver.engagement.time_entries["c"].cap_override
    invoice = bill(driver, month("2025-04"))
    assert amounts(invoice) == {"c": Decimal("1000.00"), "d": Decimal("1000.00")}


def test_written_off_cap_hours_are_never_billed() -> None:
    driver = capped("2500")
    bill(driver, month("2025-03"))
    [exception] = cap_exceptions(driver)
    driver.run(
        cmd.ResolveException(
            exception_id=exception.exception_id,
            resolution_note="our overrun",
            resolution=cmd.Resolution.WRITE_OFF,
        )
    )
    assert {driver.engagement.time_entries[i].status for i in "cd"} == {ItemStatus.WRITTEN_OFF}
    with pytest.raises(PreconditionError) as raised:
        driver.run(cmd.GenerateInvoice(period=month("2025-04")))
    assert raised.value.reason == "NOTHING_TO_BILL"


def test_a_plain_resolve_of_a_cap_exception_is_a_validation_error() -> None:
    driver = capped("2500")
    bill(driver, month("2025-03"))
    [exception] = cap_exceptions(driver)
    with pytest.raises(ValidationError):
        driver.run(cmd.ResolveException(exception_id=exception.exception_id, resolution_note="ok"))
    assert driver.engagement.exceptions[exception.exception_id].state is ExceptionState.OPEN


def test_release_or_write_off_of_a_non_cap_exception_is_a_validation_error() -> None:
    driver = active(tm(), rate_cards=cards(engineer="100"), po_reference="")
    driver.customer = taxed(po_required=True)
    work(driver, "a", date(2025, 3, 3))
    driver.run(cmd.GenerateInvoice(period=month("2025-03"), bill_run_id="run-1"))
    [parked] = [x for x in driver.engagement.exceptions.values() if x.check == "MISSING_PO_REFERENCE"]
    for resolution in (cmd.Resolution.RELEASE, cmd.Resolution.WRITE_OFF):
        with pytest.raises(ValidationError):
            driver.run(
                cmd.ResolveException(
                    exception_id=parked.exception_id, resolution_note="x", resolution=resolution
                )
            )


def test_when_every_billable_hour_is_over_the_cap_the_hours_are_held_and_nothing_is_invoiced() -> None:
    driver = active(tm(cap=money("500")), rate_cards=cards(engineer="100"))
    work(driver, "big", date(2025, 3, 3), "8")
    events = driver.run(cmd.GenerateInvoice(period=month("2025-03")))
    assert not any(isinstance(e, ev.InvoiceGenerated) for e in events)
    assert driver.engagement.time_entries["big"].status is ItemStatus.HELD_AT_CAP
    assert len(cap_exceptions(driver)) == 1
    assert not driver.engagement.invoices


def test_hours_over_the_cap_are_not_held_when_another_blocker_stops_the_invoice() -> None:
    driver = active(tm(cap=money("500")), rate_cards=cards(engineer="100"), po_reference="")
    driver.customer = taxed(po_required=True)
    work(driver, "big", date(2025, 3, 3), "8")
    with pytest.raises(PreconditionError) as raised:
        driver.run(cmd.GenerateInvoice(period=month("2025-03")))
    assert raised.value.reason == "NOT_READY"
    assert raised.value.metadata["blockers"] == "MISSING_PO_REFERENCE"
    assert driver.engagement.time_entries["big"].status is ItemStatus.APPROVED
    assert not cap_exceptions(driver)


# --- fixed fee ------------------------------------------------------------------------------


def test_a_milestone_is_billed_once_accepted_and_never_twice() -> None:
    driver = active(fixed(m1="1000", m2="2000"))
    driver.run(cmd.CompleteMilestone(milestone_id="m2"))  # completed, not accepted: not billed
    accept(driver, "m1")
    invoice = bill(driver, month("2025-03"))
    assert amounts(invoice) == {"m1": Decimal("1000.00")}
    assert invoice.lines[0].source is LineSource.MILESTONE
    assert driver.engagement.milestones["m1"].invoice_id == invoice.invoice_id
    with pytest.raises(PreconditionError) as raised:
        driver.run(cmd.GenerateInvoice(period=month("2025-04")))
    assert raised.value.reason == "NOTHING_TO_BILL"


def test_a_milestone_not_accepted_is_not_billed() -> None:
    driver = active(fixed(m1="1000"))
    driver.run(cmd.CompleteMilestone(milestone_id="m1"))
    driver.run(cmd.RejectMilestone(milestone_id="m1", reason="rework"))
    with pytest.raises(PreconditionError, match="nothing billable"):
        driver.run(cmd.GenerateInvoice(period=month("2025-03")))


# --- retainer -------------------------------------------------------------------------------


def test_a_retainer_bills_a_full_month_whole() -> None:
    driver = active(retainer("3100"))
    invoice = bill(driver, month("2025-02"))
    jan, feb = invoice.lines  # January is billed in arrears with February (caught up)
    assert (feb.source_id, feb.quantity, feb.amount) == ("ret:2025-02", Decimal(1), money("3100.00"))
    assert feb.service_period == month("2025-02")
    assert jan.amount == money("3100.00")


def test_a_retainer_activated_mid_month_is_prorated_by_calendar_days() -> None:
    driver = active(retainer("3100"), activated=date(2025, 1, 12))
    invoice = bill(driver, month("2025-01"))
    [line] = invoice.lines
    assert line.source is LineSource.RETAINER
    assert line.amount == money("2000.00")  # 3100 x 20 / 31
    assert line.quantity == Decimal("0.645161")
    assert line.service_period == span(date(2025, 1, 12), date(2025, 1, 31))
    assert "PRORATE_BY_CALENDAR_DAYS" in line.rounding_rule


def test_a_prorated_retainer_is_computed_exactly_then_rounded_once() -> None:
    driver = active(retainer("3000.00"), activated=date(2025, 1, 16))
    [line] = bill(driver, month("2025-01")).lines
    assert line.amount == money("1548.39")  # 3000 x 16 / 31 = 1548.387...


def test_a_retainer_completed_mid_month_is_prorated_to_the_completion_day() -> None:
    driver = active(retainer("3100"))
    bill(driver, span(date(2025, 1, 1), date(2025, 2, 28)))
    driver.now = datetime(2025, 3, 10, 12, tzinfo=UTC)
    driver.run(cmd.CompleteEngagement())
    [line] = bill(driver, month("2025-03")).lines
    assert line.amount == money("1000.00")  # 3100 x 10 / 31
    assert line.service_period == span(date(2025, 3, 1), date(2025, 3, 10))


def test_a_retainer_ending_with_the_contract_is_prorated_to_the_contract_end() -> None:
    driver = active(retainer("3000"), contract_end=date(2025, 4, 15))
    lines = bill(driver, span(date(2025, 1, 1), date(2025, 4, 30))).lines
    assert [line.amount for line in lines][-1] == money("1500.00")  # 15 / 30
    assert len(lines) == 4


def test_a_retainer_is_billed_in_arrears_not_before_the_month_s_active_days_end() -> None:
    driver = active(retainer("3100"), activated=date(2025, 1, 12))
    with pytest.raises(PreconditionError) as raised:
        driver.run(cmd.GenerateInvoice(period=span(date(2025, 1, 12), date(2025, 1, 30))))
    assert raised.value.reason == "NOTHING_TO_BILL"
    invoice = bill(driver, span(date(2025, 1, 12), date(2025, 1, 31)))
    assert amounts(invoice) == {"ret:2025-01": Decimal("2000.00")}


def test_a_retainer_month_is_billed_once_across_invoices() -> None:
    driver = active(retainer("1000"))
    bill(driver, month("2025-01"))
    invoice = bill(driver, month("2025-02"))
    assert set(amounts(invoice)) == {"ret:2025-02"}


# --- pass-through expenses ------------------------------------------------------------------


def test_an_expense_is_billed_at_cost_plus_markup_rounded_per_line() -> None:
    driver = active(expenses("10"))
    spend(driver, "x1", money("100.05"))
    [line] = bill(driver, month("2025-03")).lines
    assert line.unit_price == money("110.055")
    assert line.quantity == Decimal(1)
    assert line.amount == money("110.06")
    assert line.source is LineSource.EXPENSE


def test_expenses_without_markup_pass_through_at_cost() -> None:
    driver = active(expenses("0"))
    spend(driver, "x1", money("120.50"))
    assert amounts(bill(driver, month("2025-03"))) == {"x1": Decimal("120.50")}


def test_expense_lines_are_rounded_before_they_are_summed() -> None:
    driver = active(expenses("0"))
    spend(driver, "x1", money("0.005"))
    spend(driver, "x2", money("0.005"))
    invoice = bill(driver, month("2025-03"))
    assert invoice.subtotal == money("0.02")  # not round(0.010) = 0.01


def test_only_approved_expenses_incurred_by_the_period_end_are_billed() -> None:
    driver = active(expenses("0"))
    spend(driver, "mar", money("10"), day=date(2025, 3, 31))
    spend(driver, "apr", money("20"), day=date(2025, 4, 1))
    assert set(amounts(bill(driver, month("2025-03")))) == {"mar"}


# --- subscription ---------------------------------------------------------------------------


def test_a_monthly_subscription_is_billed_whole_in_advance_from_activation() -> None:
    driver = active(subscription("500"), activated=date(2025, 1, 15))
    [line] = bill(driver, month("2025-01")).lines
    assert line.amount == money("500.00")
    assert line.source_id == "sub:2025-01-15"
    assert line.service_period == span(date(2025, 1, 15), date(2025, 2, 14))
    [line] = bill(driver, month("2025-02")).lines
    assert line.service_period == span(date(2025, 2, 15), date(2025, 3, 14))


def test_a_quarterly_subscription_is_anchored_on_activation() -> None:
    driver = active(subscription("900", PeriodUnit.QUARTER), activated=date(2025, 1, 15))
    [line] = bill(driver, month("2025-01")).lines
    assert line.service_period == span(date(2025, 1, 15), date(2025, 4, 14))
    for later in ("2025-02", "2025-03"):
        with pytest.raises(PreconditionError, match="nothing billable"):
            driver.run(cmd.GenerateInvoice(period=month(later)))
    [line] = bill(driver, month("2025-04")).lines
    assert line.service_period == span(date(2025, 4, 15), date(2025, 7, 14))
    assert line.amount == money("900.00")


def test_a_yearly_subscription_is_billed_once_a_year() -> None:
    driver = active(subscription("12000", PeriodUnit.YEAR), activated=date(2025, 1, 15), contract_end=None)
    invoice = bill(driver, span(date(2025, 1, 1), date(2025, 12, 31)))
    [line] = invoice.lines
    assert line.service_period == span(date(2025, 1, 15), date(2026, 1, 14))


def test_a_subscription_period_starting_after_completion_is_not_billed() -> None:
    driver = active(subscription("500"), activated=date(2025, 1, 15))
    driver.now = datetime(2025, 2, 20, tzinfo=UTC)
    driver.run(cmd.CompleteEngagement())
    invoice = bill(driver, span(date(2025, 1, 1), date(2025, 4, 30)))
    assert set(amounts(invoice)) == {"sub:2025-01-15", "sub:2025-02-15"}


# --- tax ------------------------------------------------------------------------------------


def test_tax_is_the_subtotal_times_the_rate_rounded_half_up_once() -> None:
    driver = active(expenses("0"), who=taxed("0.20"))
    spend(driver, "x1", money("1000"))
    invoice = bill(driver, month("2025-03"))
    assert invoice.tax.amount == money("200.00")
    assert invoice.tax.rate == Decimal("0.20")
    assert invoice.tax.rounding_rule == "TAX_ON_SUBTOTAL_HALF_UP"
    assert invoice.total == money("1200.00")


def test_tax_on_an_exact_half_rounds_up() -> None:
    driver = active(expenses("0"), who=taxed("0.10"))
    spend(driver, "x1", money("100.05"))
    assert bill(driver, month("2025-03")).tax.amount == money("10.01")  # 10.005


def test_tax_is_computed_on_the_subtotal_never_per_line() -> None:
    driver = active(expenses("0"), who=taxed("0.10"))
    spend(driver, "x1", money("0.05"))
    spend(driver, "x2", money("0.05"))
    invoice = bill(driver, month("2025-03"))
    assert invoice.tax.amount == money("0.01")  # per line it would be 0.01 + 0.01
    assert invoice.total == money("0.11")


def test_an_exempt_customer_pays_no_tax() -> None:
    driver = active(expenses("0"), who=taxed("0.20", exempt=True))
    spend(driver, "x1", money("1000"))
    invoice = bill(driver, month("2025-03"))
    assert invoice.tax.exempt
    assert invoice.tax.amount == money("0.00")
    assert invoice.tax.rate == Decimal(0)
    assert invoice.total == invoice.subtotal == money("1000.00")


def test_a_customer_without_a_tax_profile_cannot_be_invoiced() -> None:
    driver = active(expenses("0"))
    spend(driver, "x1", money("10"))
    driver.customer = taxed().model_copy(update={"tax_profile": None})
    with pytest.raises(PreconditionError) as raised:
        driver.run(cmd.GenerateInvoice(period=month("2025-03")))
    assert raised.value.reason == "NOT_READY"
    assert "MISSING_TAX_PROFILE" in raised.value.metadata["blockers"]


# --- currencies -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("currency", "cost", "line", "tax"),
    [
        ("JPY", "1234.5", "1235", "247"),  # 0 places; tax 1235 x 0.20 = 247
        ("JPY", "1234.4", "1234", "247"),  # 246.8 -> 247
        ("JPY", "2.5", "3", "1"),  # 0.6 -> 1
        ("USD", "0.125", "0.13", "0.03"),  # half up, not half even (0.12); 0.026 -> 0.03
        ("USD", "999.9975", "1000.00", "200.00"),
        ("BHD", "1.0005", "1.001", "0.200"),  # 3 places; 0.2002 -> 0.200
        ("BHD", "2.0025", "2.003", "0.401"),  # 0.4006 -> 0.401
    ],
)
def test_amounts_have_exactly_the_currency_places_and_exact_halves_round_up(
    currency: str, cost: str, line: str, tax: str
) -> None:
    driver = active(expenses("0"), currency=currency, who=taxed("0.20", billing_currency=currency))
    spend(driver, "x1", money(cost, currency))
    invoice = bill(driver, month("2025-03"))
    assert str(invoice.lines[0].amount.amount) == line
    assert str(invoice.tax.amount.amount) == tax
    assert invoice.currency == currency
    assert invoice.total.amount == Decimal(line) + Decimal(tax)


def test_tm_in_yen_rounds_each_line_to_whole_yen() -> None:
    driver = active(tm(), currency="JPY", rate_cards=cards("JPY", engineer="1234.5"))
    work(driver, "t1", date(2025, 3, 3), "1")
    work(driver, "t2", date(2025, 3, 4), "0.5")  # 617.25 -> 617
    assert amounts(bill(driver, month("2025-03"))) == {"t1": Decimal("1235"), "t2": Decimal("617")}


def test_a_retainer_in_dinars_is_prorated_to_three_places() -> None:
    driver = active(retainer("1.000", "BHD"), currency="BHD", activated=date(2025, 1, 31))
    [line] = bill(driver, month("2025-01")).lines
    assert str(line.amount.amount) == "0.032"  # 1 / 31 = 0.03225...


def test_each_line_names_the_rounding_rule_of_billing_proto() -> None:
    driver = active(retainer("3100"), subscription("500"), expenses("10"), activated=date(2025, 1, 12))
    spend(driver, "x1", money("100.05"), day=date(2025, 2, 3))
    rules = {line.source_id: line.rounding_rule for line in bill(driver, month("2025-02")).lines}
    assert rules == {
        "ret:2025-01": "PRORATE_BY_CALENDAR_DAYS",
        "ret:2025-02": "ROUND_HALF_UP_PER_LINE",
        "sub:2025-01-12": "ROUND_HALF_UP_PER_LINE",
        "sub:2025-02-12": "ROUND_HALF_UP_PER_LINE",
        "x1": "ROUND_HALF_UP_PER_LINE",
    }
