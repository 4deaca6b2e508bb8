"""Money built without re-validation accepts and refuses exactly what validation does."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from q2c_core.domain.limits import check_decimal, to_decimal
from q2c_core.domain.money import MINOR_UNITS, Money, RoundingRule, derived_money

currencies = st.sampled_from(sorted(MINOR_UNITS))
anything = st.decimals(allow_nan=True, allow_infinity=True) | st.sampled_from(
    [
        Decimal("1E-40"),
        Decimal("1E-41"),
        Decimal("0E+17"),
        Decimal("0E+18"),
        Decimal("1E+15"),
        Decimal("-1E+15"),
    ]
)
factors = st.decimals(min_value=Decimal("-1E6"), max_value=Decimal("1E6"), places=4) | st.sampled_from(
    [Decimal("1E-30"), Decimal("1E+12"), Decimal("3.333333333333333333333333333")]
)


def _outcome(make: object) -> tuple[str, object]:
    """What building gives: the value, or the kind of error."""
    try:
        return ("ok", make())  # type: ignore[operator]
    except Exception as error:  # the type is the outcome compared
        return ("error", type(error).__name__)


@given(amount=anything, currency=currencies)
def test_derived_money_is_what_validation_gives(amount: Decimal, currency: str) -> None:
    assert _outcome(lambda: derived_money(currency, amount)) == _outcome(
        lambda: Money(currency=currency, amount=amount)
    )


@given(
    unit=st.decimals(min_value=Decimal("-1E9"), max_value=Decimal("1E9"), places=6),
    factor=factors,
    currency=currencies,
    rule=st.sampled_from(list(RoundingRule)),
)
def test_times_rounded_is_times_then_rounded(
    unit: Decimal, factor: Decimal, currency: str, rule: RoundingRule
) -> None:
    price = Money(currency=currency, amount=unit)
    assert _outcome(lambda: price.times_rounded(factor, rule)) == _outcome(
        lambda: price.times(factor).rounded(rule)
    )


def test_times_rounded_refuses_an_unrounded_product_past_a_quadrillion() -> None:
    price = Money.of("999999999999", "USD")
    with pytest.raises(Exception) as via_times:
        price.times(Decimal(10000)).rounded(RoundingRule.BANKERS)
    with pytest.raises(type(via_times.value)):
        price.times_rounded(Decimal(10000), RoundingRule.BANKERS)


texts = st.one_of(
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.builds(
        lambda sign, digits, point, exponent: f"{sign}{digits[:point]}.{digits[point:]}{exponent}",
        st.sampled_from(["", "-", "+"]),
        st.text("0123456789", min_size=1, max_size=60),
        st.integers(min_value=0, max_value=60),
        st.sampled_from(["", "E+3", "E-3", "e-45", "E+20", "E17", "E-40"]),
    ),
    st.sampled_from(
        ["0E+18", "0E+17", "1" * 18, "1" * 19, "0." + "0" * 40, "0." + "0" * 41, " 7.5 ", "1_000.5"]
    ),
)


@given(text=texts)
def test_to_decimal_accepts_and_refuses_what_check_decimal_does(text: str) -> None:
    def checked() -> Decimal:
        try:
            value = Decimal(text)
        except ArithmeticError:
            raise ValueError("not a decimal number") from None
        return check_decimal(value)

    assert _outcome(lambda: to_decimal(text)) == _outcome(checked)
