"""Builders for the small value messages most requests need: money, dates, billing periods."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from google.type import date_pb2  # type: ignore[import-untyped, unused-ignore]

from q2c.v1 import common_pb2


def money(amount: str | Decimal | int, currency_code: str) -> common_pb2.Money:
    """A Money from a decimal string (or Decimal / int; never a float, which is inexact)."""
    if isinstance(amount, float):
        raise TypeError("money amounts are decimal strings; floats are inexact")
    return common_pb2.Money(currency_code=currency_code, amount=str(amount))


def date(value: dt.date) -> date_pb2.Date:
    """A google.type.Date from a datetime.date."""
    return date_pb2.Date(year=value.year, month=value.month, day=value.day)


def month(value: str) -> common_pb2.BillingPeriod:
    """A calendar-month billing period, e.g. month("2026-01")."""
    return common_pb2.BillingPeriod(month=value)


def date_range(start: dt.date, end: dt.date) -> common_pb2.BillingPeriod:
    """A billing period of explicit days, start and end inclusive."""
    return common_pb2.BillingPeriod(start_date=date(start), end_date=date(end))
