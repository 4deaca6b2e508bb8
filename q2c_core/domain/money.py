"""Exact money: Decimal amounts in ISO-4217 currencies, rounded only by named rules."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, field_validator

from q2c_core.domain.base import complete_builder
from q2c_core.domain.errors import PreconditionError
from q2c_core.domain.limits import MAX_DECIMAL_PLACES, MAX_INTEGER_DIGITS, check_decimal, to_decimal

# ISO-4217 minor units for the currencies q2c accepts. A currency not listed is rejected.
MINOR_UNITS: dict[str, int] = {
    "AED": 2,
    "AUD": 2,
    "BHD": 3,
    "BRL": 2,
    "CAD": 2,
    "CHF": 2,
    "CLP": 0,
    "CNY": 2,
    "CZK": 2,
    "DKK": 2,
    "EUR": 2,
    "GBP": 2,
    "HKD": 2,
    "HUF": 2,
    "IDR": 2,
    "ILS": 2,
    "INR": 2,
    "ISK": 0,
    "JOD": 3,
    "JPY": 0,
    "KRW": 0,
    "KWD": 3,
    "MXN": 2,
    "MYR": 2,
    "NOK": 2,
    "NZD": 2,
    "OMR": 3,
    "PHP": 2,
    "PLN": 2,
    "QAR": 2,
    "SAR": 2,
    "SEK": 2,
    "SGD": 2,
    "THB": 2,
    "TND": 3,
    "TRY": 2,
    "TWD": 2,
    "USD": 2,
    "VND": 0,
    "ZAR": 2,
}


MAX_AMOUNT = Decimal(10) ** 15
"""Amounts at or beyond this are refused, so rounding stays within Decimal's 28 digits."""


class RoundingRule(StrEnum):
    """Named rounding rules; every rounded amount in q2c says which rule made it."""

    ROUND_HALF_UP_PER_LINE = "ROUND_HALF_UP_PER_LINE"
    TAX_ON_SUBTOTAL_HALF_UP = "TAX_ON_SUBTOTAL_HALF_UP"
    BANKERS = "BANKERS"


_DECIMAL_ROUNDING = {
    RoundingRule.ROUND_HALF_UP_PER_LINE: ROUND_HALF_UP,
    RoundingRule.TAX_ON_SUBTOTAL_HALF_UP: ROUND_HALF_UP,
    RoundingRule.BANKERS: ROUND_HALF_EVEN,
}


_MAX_DECIMAL_TEXT = MAX_INTEGER_DIGITS + MAX_DECIMAL_PLACES + 16
"""Longer decimal text cannot hold a value within the domain's bounds (room for "E-", signs)."""

_QUANTUM = {places: Decimal(1).scaleb(-places) for places in set(MINOR_UNITS.values())}


class UnknownCurrencyError(ValueError):
    """The code is not an ISO-4217 currency q2c accepts."""


def minor_units(currency: str) -> int:
    """Number of decimal places of the currency's minor unit (JPY 0, USD 2, BHD 3)."""
    try:
        return MINOR_UNITS[currency]
    except KeyError:
        raise UnknownCurrencyError(f"unknown ISO-4217 currency {currency!r}") from None


def parse_decimal(value: object) -> Decimal:
    """An exact, finite, bounded decimal from a string, int or Decimal; floats are refused.

    Wire strings are parsed strictly at the edge (limits.parse_wire_decimal); this is the
    domain's defence in depth, so it also accepts the notation str(Decimal) stores ("1E+3").
    """
    if type(value) is str and len(value) <= _MAX_DECIMAL_TEXT:  # stored JSON: most values
        return to_decimal(value.strip())
    if isinstance(value, bool | float):
        raise ValueError("decimal values must be given as strings, never floats")
    if isinstance(value, Decimal):
        return check_decimal(value)
    if isinstance(value, int):
        return check_decimal(Decimal(value))
    if isinstance(value, str) and len(value) <= _MAX_DECIMAL_TEXT:
        return to_decimal(value.strip())
    raise ValueError(f"not a decimal number: {str(value)[:40]!r}")


ExactDecimal = Annotated[Decimal, BeforeValidator(parse_decimal)]


def check_currency(code: str) -> str:
    """Validate an ISO-4217 code and return it."""
    minor_units(code)
    return code


class AmountOutOfRangeError(PreconditionError):
    """Money arithmetic reached one quadrillion: the command is refused, nothing is written."""

    def __init__(self, currency: str, amount: Decimal) -> None:
        magnitude = f"10^{amount.adjusted()}" if amount.is_finite() else "not finite"
        super().__init__(
            "AMOUNT_OUT_OF_RANGE",
            f"a computed {currency} amount (about {magnitude}) reaches the limit of 10^15",
            {"currency": currency, "limit": "1000000000000000"},
        )


class Money(BaseModel):
    """An exact amount in one currency; full precision until a named rule rounds it."""

    model_config = ConfigDict(frozen=True)

    currency: str
    amount: ExactDecimal

    @field_validator("currency")
    @classmethod
    def _known_currency(cls, value: str) -> str:
        return check_currency(value)

    @field_validator("amount")
    @classmethod
    def _in_range(cls, value: Decimal) -> Decimal:
        if abs(value) >= MAX_AMOUNT:
            raise ValueError("amount must be below one quadrillion")
        return value

    @classmethod
    def zero(cls, currency: str) -> Money:
        """Zero in the currency."""
        return cls(currency=currency, amount=Decimal(0))

    @classmethod
    def of(cls, amount: str | int | Decimal, currency: str) -> Money:
        """Build from a decimal string (or int/Decimal) and a currency code."""
        return cls(currency=currency, amount=parse_decimal(amount))

    def _same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise ValueError(f"currency mismatch: {self.currency} vs {other.currency}")

    def _derived(self, amount: Decimal) -> Money:
        # A sum or product past the bound is the caller's data, not a bug: refuse the command.
        if abs(amount) >= MAX_AMOUNT:
            raise AmountOutOfRangeError(self.currency, amount)
        return derived_money(self.currency, amount)

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return self._derived(self.amount + other.amount)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        return self._derived(self.amount - other.amount)

    def times(self, factor: Decimal) -> Money:
        """Multiply by an exact factor (hours, a percentage, a pro-rata fraction)."""
        return self._derived(self.amount * factor)

    def rounded(self, rule: RoundingRule) -> Money:
        """Round to the currency's minor unit with the named rule."""
        quantum = _QUANTUM[minor_units(self.currency)]
        return self._quantized(self.amount.quantize(quantum, rounding=_DECIMAL_ROUNDING[rule]))

    def _quantized(self, amount: Decimal) -> Money:
        # quantize() gave the amount the currency's exponent, so only its size needs checking
        if abs(amount) >= MAX_AMOUNT:
            raise AmountOutOfRangeError(self.currency, amount)
        return _money({"currency": self.currency, "amount": amount})

    def times_rounded(self, factor: Decimal, rule: RoundingRule) -> Money:
        """`times(factor).rounded(rule)` without the unrounded Money in between (pricing makes
        one per invoice line); the unrounded amount is checked just the same."""
        raw = self.amount * factor
        if abs(raw) >= MAX_AMOUNT:
            raise AmountOutOfRangeError(self.currency, raw)
        if not _within_bounds(raw):
            Money(currency=self.currency, amount=raw)  # raises, as times() does
        quantum = _QUANTUM[minor_units(self.currency)]
        return self._quantized(raw.quantize(quantum, rounding=_DECIMAL_ROUNDING[rule]))

    def is_negative(self) -> bool:
        """True when below zero."""
        return self.amount < 0

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"


_money = complete_builder(Money)


def derived_money(currency: str, amount: Decimal) -> Money:
    """Money in a currency that was validated already, for an amount computed from valid ones.

    The amount gets the checks validation would make (a Decimal within the domain's bounds);
    the currency is not looked up again. Four Python validators per value were most of the
    cost of pricing an invoice line. What fails the checks goes through validation, which
    raises as it always has.
    """
    if _within_bounds(amount):
        return _money({"currency": currency, "amount": amount})
    return Money(currency=currency, amount=amount)


def _within_bounds(amount: Decimal) -> bool:
    """What Money's validation accepts of a Decimal (check_decimal, then below MAX_AMOUNT)."""
    if amount.is_finite() and abs(amount) < MAX_AMOUNT:
        exponent = amount.as_tuple().exponent
        return isinstance(exponent, int) and -MAX_DECIMAL_PLACES <= exponent < MAX_INTEGER_DIGITS
    return False
