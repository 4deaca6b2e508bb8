"""Money built without re-validation accepts and refuses exactly what validation does."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

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
