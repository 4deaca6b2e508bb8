"""Billing periods: a calendar month or an explicit inclusive date range."""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from datetime import date, timedelta

from pydantic import model_validator

from q2c_core.domain.base import Frozen

MAX_PERIOD_DAYS = 366


class BillingPeriod(Frozen):
    """An inclusive date range [start, end]; a month is the commonest one."""

    start: date
    end: date

    @model_validator(mode="after")
    def _ordered(self) -> BillingPeriod:
        if self.end < self.start:
            raise ValueError("end_date must not be before start_date")
        if (self.end - self.start).days + 1 > MAX_PERIOD_DAYS:
            raise ValueError(f"a billing period is at most {MAX_PERIOD_DAYS} days")
        return self

    @classmethod
    def month(cls, year: int, month: int) -> BillingPeriod:
        """The calendar month."""
        return cls(start=date(year, month, 1), end=date(year, month, calendar.monthrange(year, month)[1]))

    @classmethod
    def parse_month(cls, text: str) -> BillingPeriod:
        """A period from "YYYY-MM"."""
        try:
            year, month = (int(part) for part in text.split("-"))
            return cls.month(year, month)
        except (ValueError, TypeError):
            raise ValueError(f"month must be YYYY-MM, not {text!r}") from None

    @property
    def key(self) -> str:
        """Stable key: "2026-01" for a calendar month, else "2026-01-01..2026-01-15"."""
        if self.start.day == 1 and self.end == month_end(self.start):
            return self.start.strftime("%Y-%m")
        return f"{self.start.isoformat()}..{self.end.isoformat()}"

    def contains(self, day: date) -> bool:
        """True when the day lies in the period."""
        return self.start <= day <= self.end


def month_start(day: date) -> date:
    """First day of the day's month."""
    return day.replace(day=1)


def month_end(day: date) -> date:
    """Last day of the day's month."""
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def months_between(first: date, last: date) -> Iterator[date]:
    """First days of every month from first's month to last's month, inclusive."""
    current = month_start(first)
    while current <= last:
        yield current
        current = month_end(current) + timedelta(days=1)


def add_months(day: date, months: int) -> date:
    """The same day-of-month `months` later (clamped to the month's end)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))
