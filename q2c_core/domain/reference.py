"""Reference data the engagement reads but does not own: customers and rate cards."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from pydantic import Field, field_validator, model_validator

from q2c_core.domain.base import Frozen
from q2c_core.domain.limits import MAX_RATES_PER_CARD, MAX_ROLE_LENGTH
from q2c_core.domain.money import ExactDecimal, Money, check_currency


class CustomerStatus(StrEnum):
    """Whether a customer may be sold to and billed."""

    ACTIVE = "ACTIVE"
    INACTIVE = "INACTIVE"


class TaxProfile(Frozen):
    """Where and at what rate a customer is taxed; exempt customers pay no tax."""

    jurisdiction: str = Field(min_length=1, max_length=64)
    rate: ExactDecimal = Decimal(0)
    exempt: bool = False

    @field_validator("rate")
    @classmethod
    def _rate_is_a_fraction(cls, value: Decimal) -> Decimal:
        if not Decimal(0) <= value <= Decimal(1):
            raise ValueError("tax rate must be between 0 and 1 (e.g. 0.20)")
        return value


class Customer(Frozen):
    """A customer account as seen by q2c (mastered in the CRM, mirrored here)."""

    customer_id: str
    display_name: str = Field(min_length=1, max_length=200)
    legal_entity: str = Field(default="", max_length=200)
    billing_currency: str
    tax_profile: TaxProfile | None = None
    payment_terms_days: int = Field(default=30, ge=0, le=365)
    po_required: bool = False
    service_line: str = Field(default="", max_length=100)
    status: CustomerStatus = CustomerStatus.ACTIVE
    version: int = 1
    create_time: datetime
    update_time: datetime

    @field_validator("billing_currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        return check_currency(value)


ROLE_MAX_LENGTH = MAX_ROLE_LENGTH


class RateCard(Frozen):
    """One revision of a rate card: hourly rates per role, effective over a date range."""

    rate_card_id: str
    revision: int = Field(ge=1)
    display_name: str = Field(default="", max_length=200)
    currency: str
    effective_from: date
    effective_to: date | None = None
    rates: dict[str, Money] = Field(min_length=1, max_length=MAX_RATES_PER_CARD)
    create_time: datetime

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        return check_currency(value)

    @model_validator(mode="after")
    def _consistent(self) -> RateCard:
        if self.effective_to is not None and self.effective_to < self.effective_from:
            raise ValueError("effective_to must not be before effective_from")
        for role, rate in self.rates.items():
            if not role or len(role) > ROLE_MAX_LENGTH:
                raise ValueError(f"role name {role!r} must be 1..{ROLE_MAX_LENGTH} characters")
            if rate.currency != self.currency:
                raise ValueError(f"rate for {role!r} is in {rate.currency}, card is {self.currency}")
            if rate.amount <= 0:
                raise ValueError(f"rate for {role!r} must be positive")
        return self

    def covers(self, start: date, end: date | None) -> bool:
        """True when this revision is effective for every day of [start, end]."""
        if start < self.effective_from:
            return False
        if self.effective_to is None:
            return True
        return end is not None and end <= self.effective_to

    def effective_on(self, day: date) -> bool:
        """True when this revision applies to work done on the day."""
        return self.effective_from <= day and (self.effective_to is None or day <= self.effective_to)
