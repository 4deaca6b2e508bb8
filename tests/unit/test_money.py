"""Money: exact decimals, known currencies, rounding only by named rules."""

from __future__ import annotations

from decimal import Decimal

import pydantic
import pytest
from hypothesis import given
from hypothesis import strategies as st

from q2c_core.domain.money import (
    MINOR_UNITS,
    Money,
    RoundingRule,
    UnknownCurrencyError,
    minor_units,
    parse_decimal,
)

HALF_UP = RoundingRule.ROUND_HALF_UP_PER_LINE


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        ("0.5", "JPY", "1"),
        ("1.5", "JPY", "2"),
        ("2.5", "JPY", "3"),
        ("0.49", "JPY", "0"),
        ("1234.4999", "JPY", "1234"),
        ("1.005", "USD", "1.01"),
        ("2.675", "USD", "2.68"),
        ("0.125", "USD", "0.13"),
        ("1.004", "USD", "1.00"),
        ("0.0005", "BHD", "0.001"),
        ("1.2345", "BHD", "1.235"),
        ("1.2344", "BHD", "1.234"),
    ],
)
def test_half_up_per_line_rounds_to_the_currency_minor_unit(
    amount: str, currency: str, expected: str
) -> None:
    rounded = Money.of(amount, currency).rounded(HALF_UP)
    assert rounded.amount == Decimal(expected)
    assert rounded.amount.as_tuple().exponent == -minor_units(currency)
    assert rounded.currency == currency


def test_half_up_rounds_negative_halves_away_from_zero() -> None:
    assert Money.of("-0.5", "JPY").rounded(HALF_UP).amount == Decimal("-1")
    assert Money.of("-1.005", "USD").rounded(HALF_UP).amount == Decimal("-1.01")


def test_bankers_rounding_rounds_halves_to_even() -> None:
    assert Money.of("0.5", "JPY").rounded(RoundingRule.BANKERS).amount == Decimal("0")
    assert Money.of("1.5", "JPY").rounded(RoundingRule.BANKERS).amount == Decimal("2")
    assert Money.of("1.005", "USD").rounded(RoundingRule.BANKERS).amount == Decimal("1.00")


def test_minor_units_of_jpy_usd_bhd_are_zero_two_three() -> None:
    assert (minor_units("JPY"), minor_units("USD"), minor_units("BHD")) == (0, 2, 3)


def test_money_keeps_full_precision_until_rounded() -> None:
    assert Money.of("1.005", "USD").amount == Decimal("1.005")
    assert Money.of("1.005", "USD").times(Decimal("3")).amount == Decimal("3.015")


@pytest.mark.parametrize("value", [0.5, 1.0, 1.005])
def test_floats_are_refused_when_parsing(value: float) -> None:
    with pytest.raises(ValueError, match="floats"):
        parse_decimal(value)


@pytest.mark.parametrize("value", [0.5, 12.25])
def test_floats_are_refused_as_money_amounts(value: float) -> None:
    with pytest.raises(ValueError):
        Money.of(value, "USD")  # type: ignore[arg-type]
    with pytest.raises(pydantic.ValidationError):
        Money(currency="USD", amount=value)


def test_booleans_are_refused_as_amounts() -> None:
    with pytest.raises(ValueError):
        parse_decimal(True)


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", "one", ""])
def test_non_finite_or_non_numeric_amounts_are_refused(value: str) -> None:
    with pytest.raises(ValueError):
        parse_decimal(value)


def test_strings_ints_and_decimals_parse_exactly() -> None:
    assert parse_decimal(" 1.10 ") == Decimal("1.10")
    assert parse_decimal(7) == Decimal(7)
    assert parse_decimal(Decimal("0.001")) == Decimal("0.001")


@pytest.mark.parametrize("code", ["XXX", "usd", "", "US"])
def test_unknown_currency_is_refused(code: str) -> None:
    with pytest.raises(UnknownCurrencyError):
        minor_units(code)
    with pytest.raises(pydantic.ValidationError):
        Money.of("1", code)


def test_adding_amounts_in_different_currencies_is_refused() -> None:
    with pytest.raises(ValueError, match="currency mismatch"):
        _ = Money.of("1", "USD") + Money.of("1", "EUR")
    with pytest.raises(ValueError, match="currency mismatch"):
        _ = Money.of("1", "USD") - Money.of("1", "EUR")


def test_adding_and_subtracting_in_one_currency_is_exact() -> None:
    total = Money.of("0.10", "USD") + Money.of("0.20", "USD")
    assert total == Money.of("0.30", "USD")
    assert (total - Money.of("0.30", "USD")).amount == 0
    assert Money.zero("BHD").amount == 0
    assert (Money.of("1", "USD") - Money.of("2", "USD")).is_negative()


currencies = st.sampled_from(sorted(MINOR_UNITS))
amounts = st.decimals(
    min_value=Decimal("-1000000000"),
    max_value=Decimal("1000000000"),
    places=6,
    allow_nan=False,
    allow_infinity=False,
)


@given(amount=amounts, currency=currencies, rule=st.sampled_from(list(RoundingRule)))
def test_rounding_never_moves_an_amount_by_more_than_half_a_minor_unit(
    amount: Decimal, currency: str, rule: RoundingRule
) -> None:
    places = minor_units(currency)
    rounded = Money(currency=currency, amount=amount).rounded(rule)
    assert abs(rounded.amount - amount) <= Decimal(1).scaleb(-places) / 2
    assert rounded.amount.as_tuple().exponent == -places
    assert rounded.currency == currency


@given(amount=amounts, currency=currencies)
def test_rounding_twice_changes_nothing(amount: Decimal, currency: str) -> None:
    once = Money(currency=currency, amount=amount).rounded(HALF_UP)
    assert once.rounded(HALF_UP) == once


@given(amount=amounts, currency=currencies)
def test_money_round_trips_through_json(amount: Decimal, currency: str) -> None:
    money = Money(currency=currency, amount=amount)
    assert Money.model_validate(money.model_dump(mode="json")) == money


def test_amounts_beyond_a_quadrillion_are_refused_so_rounding_never_overflows() -> None:
    with pytest.raises(pydantic.ValidationError):
        Money.of("1000000000000000", "USD")
    assert Money.of("999999999999999.994", "USD").rounded(
        RoundingRule.ROUND_HALF_UP_PER_LINE
    ).amount == Decimal("999999999999999.99")
