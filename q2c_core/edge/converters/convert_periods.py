"""BillingPeriod <-> proto: a "YYYY-MM" month xor an inclusive start/end date range."""

from __future__ import annotations

import re
from typing import Any

from q2c.v1 import common_pb2
from q2c_core.domain.periods import MAX_PERIOD_DAYS, BillingPeriod, month_end
from q2c_core.edge.converters.convert_common import Violations, date_in, date_out, join

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def period_in(parent: Any, bad: Violations, field: str = "period") -> BillingPeriod | None:
    """The request's period, or None with violations on `period.month` / `.start_date` / `.end_date`."""
    return _period(parent, field, bad)


def _period(parent: Any, field: str, bad: Violations) -> BillingPeriod | None:
    if not parent.HasField(field):
        bad.add(field, "is required: give month, or start_date and end_date")
        return None
    message: common_pb2.BillingPeriod = getattr(parent, field)
    has_range = message.HasField("start_date") or message.HasField("end_date")
    if message.month and has_range:
        bad.add(join(field, "month"), "give either month or start_date and end_date, not both")
        return None
    if message.month:
        return _month(message.month, join(field, "month"), bad)
    if not has_range:
        bad.add(field, "is required: give month, or start_date and end_date")
        return None
    return _range(message, field, bad)


def _month(text: str, path: str, bad: Violations) -> BillingPeriod | None:
    match = _MONTH.match(text)
    if match is None or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 1:
        bad.add(path, f"must be a calendar month YYYY-MM, not {text!r}")
        return None
    return BillingPeriod.month(int(match.group(1)), int(match.group(2)))


def _range(message: common_pb2.BillingPeriod, field: str, bad: Violations) -> BillingPeriod | None:
    start_path, end_path = join(field, "start_date"), join(field, "end_date")
    start = date_in(message, "start_date", start_path, bad)
    end = date_in(message, "end_date", end_path, bad)
    for value, path in ((start, start_path), (end, end_path)):
        if value is None and not bad.covers(path):
            bad.add(path, "is required with the range form")
    if start is None or end is None:
        return None
    if end < start:
        bad.add(end_path, "must not be before start_date")
        return None
    if (end - start).days + 1 > MAX_PERIOD_DAYS:
        bad.add(end_path, f"a billing period covers at most {MAX_PERIOD_DAYS} days")
        return None
    return BillingPeriod(start=start, end=end)


def period_out(period: BillingPeriod) -> common_pb2.BillingPeriod:
    """A calendar month goes out as `month`, any other range as start_date / end_date."""
    if period.start.day == 1 and period.end == month_end(period.start):
        return common_pb2.BillingPeriod(month=period.start.strftime("%Y-%m"))
    return common_pb2.BillingPeriod(start_date=date_out(period.start), end_date=date_out(period.end))
