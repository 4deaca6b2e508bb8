"""The month-end workload profile: what `q2c load` generates, from a YAML file and flags.

Every field has a default, so `q2c load` with no profile runs a small month-end. A profile file
holds the same fields (see docs/load-testing.md and deploy/load/month-end.yaml); flags override
it. Validation errors name the field (`billing_mix.retainer: Input should be ...`).
"""

from __future__ import annotations

import calendar
import re
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
MAX_CUSTOMERS = 1000
"""A bill run is scoped to the load's customers; the server takes at most 1000 customer ids."""
CURRENCY_PLACES = {"USD": 2, "EUR": 2, "GBP": 2, "CHF": 2, "CAD": 2, "AUD": 2, "JPY": 0, "KWD": 3}
"""Currencies a profile may use, with their ISO-4217 minor units (the oracle rounds to them)."""


class ProfileError(ValueError):
    """A profile that cannot be used; the message names the offending field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BillingMix(_Strict):
    """Relative weights of the billing models across engagements (need not sum to 1)."""

    time_and_materials: float = Field(3, ge=0, description="uncapped T&M: hours x rate-card rate")
    nte_capped: float = Field(1, ge=0, description="T&M with a not-to-exceed cap")
    fixed_fee: float = Field(1, ge=0, description="fixed fee, billed per accepted milestone")
    retainer: float = Field(1, ge=0, description="monthly retainer, in arrears, pro-rated")
    subscription: float = Field(1, ge=0, description="subscription, billed whole in advance")
    pass_through: float = Field(1, ge=0, description="pass-through expenses with markup only")

    @model_validator(mode="after")
    def _some_weight(self) -> BillingMix:
        if sum(self.weights().values()) <= 0:
            raise ValueError("at least one billing model needs a weight above 0")
        return self

    def weights(self) -> dict[str, float]:
        """Model name -> weight."""
        return {name: float(getattr(self, name)) for name in type(self).model_fields}


class Payments(_Strict):
    """What happens to the run's invoices after issuing: paid in full, in part, or not yet."""

    full: float = Field(0.6, ge=0, le=1, description="share of invoices paid in full")
    partial: float = Field(0.2, ge=0, le=1, description="share paid in part (half the total)")

    @model_validator(mode="after")
    def _at_most_all(self) -> Payments:
        if self.full + self.partial > 1:
            raise ValueError("full + partial must not exceed 1")
        return self


class Profile(_Strict):
    """A month-end workload: customers, engagements, work, approvals, change orders, billing."""

    customers: int = Field(10, ge=1, le=MAX_CUSTOMERS, description="customers to create")
    engagements: int = Field(60, ge=1, le=100_000, description="engagements to create and bill")
    currencies: dict[str, float] = Field(
        default_factory=lambda: {"USD": 3.0, "EUR": 2.0, "JPY": 1.0},
        description="customer billing currency -> weight",
    )
    tax_exempt_ratio: float = Field(0.2, ge=0, le=1, description="share of tax-exempt customers")
    billing_mix: BillingMix = Field(default_factory=BillingMix)
    time_entries: int = Field(20, ge=0, le=1000, description="time entries per T&M engagement")
    time_batch: int = Field(5, ge=1, le=500, description="time entries per SubmitTimeEntries call")
    expenses: int = Field(4, ge=0, le=150, description="expenses per engagement (3x for pass-through)")
    expense_batch: int = Field(4, ge=1, le=500, description="expenses per SubmitExpenses call")
    milestones: int = Field(3, ge=1, le=50, description="milestones per fixed-fee engagement")
    approval_ratio: float = Field(0.9, ge=0, le=1, description="share of items approved (rest rejected)")
    late_ratio: float = Field(
        0.1,
        ge=0,
        le=1,
        description="share of time entries dated in the period but submitted after the bill run",
    )
    change_order_ratio: float = Field(
        0.3, ge=0, le=1, description="share of T&M engagements amended mid-period (rate or cap change)"
    )
    mid_month_start_ratio: float = Field(
        0.2, ge=0, le=1, description="share of engagements activated after the 1st (pro-rated retainers)"
    )
    period: str = Field("2026-03", description="the billing month, YYYY-MM")
    payments: Payments = Field(default_factory=Payments)

    @field_validator("period")
    @classmethod
    def _month(cls, value: str) -> str:
        if not MONTH.match(value):
            raise ValueError("must be a month, YYYY-MM (e.g. 2026-03)")
        return value

    @field_validator("currencies")
    @classmethod
    def _known_currencies(cls, value: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(value) - set(CURRENCY_PLACES))
        if unknown:
            raise ValueError(f"unsupported currency {unknown[0]!r}; use {', '.join(sorted(CURRENCY_PLACES))}")
        if any(weight < 0 for weight in value.values()) or sum(value.values()) <= 0:
            raise ValueError("weights must be >= 0 and at least one above 0")
        return value

    @model_validator(mode="after")
    def _enough_engagements(self) -> Profile:
        if self.engagements < self.customers:
            raise ValueError("engagements must be at least customers (every customer gets one)")
        return self

    def period_bounds(self) -> tuple[date, date]:
        """First and last day of the billing month."""
        year, month = (int(part) for part in self.period.split("-"))
        return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def _field_path(location: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in location) or "profile"


def describe(error: ValidationError) -> str:
    """One line per problem, each starting with the field's dotted path."""
    return "; ".join(f"{_field_path(item['loc'])}: {item['msg']}" for item in error.errors())


def build(data: dict[str, Any]) -> Profile:
    """A validated profile from plain data; ProfileError names the field on failure."""
    try:
        return Profile.model_validate(data)
    except ValidationError as error:
        raise ProfileError(describe(error)) from None


def read_file(path: Path) -> dict[str, Any]:
    """The mapping in a YAML profile file; ProfileError when it is not one."""
    try:
        loaded = yaml.safe_load(path.read_text())
    except OSError as error:
        raise ProfileError(f"profile: cannot read {path}: {error.strerror or error}") from None
    except yaml.YAMLError as error:
        raise ProfileError(f"profile: {path} is not valid YAML: {error}") from None
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise ProfileError(f"profile: {path} must hold a mapping of fields, not {type(loaded).__name__}")
    return loaded


def load(path: Path | None, overrides: dict[str, Any]) -> Profile:
    """The profile from `path` (if given) with `overrides` (dotted keys allowed) applied on top."""
    data = read_file(path) if path is not None else {}
    for key, value in overrides.items():
        if value is None:
            continue
        target = data
        *parents, leaf = key.split(".")
        for parent in parents:
            nested = target.setdefault(parent, {})
            if not isinstance(nested, dict):
                raise ProfileError(f"{parent}: must be a mapping")
            target = nested
        target[leaf] = value
    return build(data)


def money_text(value: Decimal, currency: str) -> str:
    """An amount as the plain decimal string the API takes, at the currency's minor unit."""
    places = CURRENCY_PLACES[currency]
    return f"{value:.{places}f}"
