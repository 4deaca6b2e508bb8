"""The one strict decimal grammar of the wire, and the domain's defence behind it."""

from __future__ import annotations

from decimal import Decimal

import pytest

from q2c_core.domain.limits import (
    HOURS,
    MONEY,
    PERCENT,
    TAX_RATE,
    DecimalKind,
    check_decimal,
    parse_wire_decimal,
)
from q2c_core.domain.money import Money, parse_decimal
from q2c_core.edge.converters.convert_common import decimal_out

HOSTILE = [
    "",
    "1E5",
    "1e-7",
    "1E+3",
    "NaN",
    "nan",
    "sNaN",
    "Infinity",
    "-Infinity",
    "inf",
    "+1",
    " 1",
    "1 ",
    "1.",
    ".5",
    "0x10",
    "1_000",
    "1,000",
    "\u0661",  # an Arabic-Indic digit: Decimal() takes it, the grammar does not
    "1" * 40,
    "0." + "1" * 30,
    "--1",
    "1.2.3",
]


@pytest.mark.parametrize("kind", [MONEY, HOURS, TAX_RATE, PERCENT], ids=lambda k: k.name)
@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_decimal_text_is_refused_for_every_kind(kind: DecimalKind, text: str) -> None:
    with pytest.raises(ValueError):
        parse_wire_decimal(text, kind)


@pytest.mark.parametrize(
    ("text", "kind", "expected"),
    [
        ("0", MONEY, Decimal(0)),
        ("1234.50", MONEY, Decimal("1234.50")),
        ("9" * 15, MONEY, Decimal("9" * 15)),
        ("0.000001", MONEY, Decimal("0.000001")),
        ("7.5", HOURS, Decimal("7.5")),
        ("24", HOURS, Decimal(24)),
        ("24.00", HOURS, Decimal("24.00")),
        ("0.08875", TAX_RATE, Decimal("0.08875")),
        ("1", TAX_RATE, Decimal(1)),
        ("100", PERCENT, Decimal(100)),
        ("12.3456", PERCENT, Decimal("12.3456")),
    ],
)
def test_plain_decimals_within_bounds_are_accepted(text: str, kind: DecimalKind, expected: Decimal) -> None:
    assert parse_wire_decimal(text, kind) == expected


@pytest.mark.parametrize(
    ("text", "kind", "why"),
    [
        ("1" * 16, MONEY, "at most 15 integer digits"),
        ("0.0000001", MONEY, "at most 6 decimal places"),
        ("-10", MONEY, "must not be negative"),
        ("-0", MONEY, "must not be negative"),
        ("24.01", HOURS, "at most 24"),
        ("100", HOURS, "at most 2 integer digits"),
        ("1.005", HOURS, "at most 2 decimal places"),
        ("1.01", TAX_RATE, "at most 1"),
        ("0.1234567", TAX_RATE, "at most 6 decimal places"),
        ("100.01", PERCENT, "at most 100"),
        ("1000", PERCENT, "at most 3 integer digits"),
        ("1E5", MONEY, "no exponent"),
    ],
)
def test_out_of_bounds_decimals_say_why(text: str, kind: DecimalKind, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        parse_wire_decimal(text, kind)


@pytest.mark.parametrize(
    "value",
    [
        Decimal("NaN"),
        Decimal("Infinity"),
        Decimal("-Infinity"),
        Decimal("1E-999999999"),
        Decimal("0E+999999"),
    ],
)
def test_domain_refuses_non_finite_or_huge_exponent_decimals(value: Decimal) -> None:
    with pytest.raises(ValueError):
        check_decimal(value)
    with pytest.raises(ValueError):
        parse_decimal(value)


def test_domain_refuses_a_decimal_string_too_long_to_be_in_bounds() -> None:
    with pytest.raises(ValueError):
        parse_decimal("1" * 100_000)


def test_money_never_holds_an_exponent_that_formatting_would_expand() -> None:
    with pytest.raises(ValueError):
        Money(currency="USD", amount=Decimal("1E-999999999"))
    with pytest.raises(ValueError):
        decimal_out(Decimal("1E-999999999"))


def test_stored_exponent_notation_within_bounds_still_loads_and_prints_plain() -> None:
    assert parse_decimal("1E+3") == Decimal(1000)
    assert decimal_out(parse_decimal("1E+3")) == "1000"
    assert decimal_out(parse_decimal("1.5E-7")) == "0.00000015"
