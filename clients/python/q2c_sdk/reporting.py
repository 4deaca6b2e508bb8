"""ReportingService methods of the q2c client (see `q2c/v1/reporting.proto`).

One method per RPC, generated into `q2c_sdk._gen_reporting` by scripts/gen_sdk.py; friendly
helpers go here: `kpis(start, end)` takes dates or datetimes instead of a request message.
"""

from __future__ import annotations

import datetime as dt
from typing import Unpack

from google.protobuf.timestamp_pb2 import Timestamp  # type: ignore[import-untyped, unused-ignore]

from q2c.v1 import reporting_pb2
from q2c_sdk._gen_reporting import ReportingServiceMethods
from q2c_sdk.transport import CallOptions


def instant(value: dt.date | dt.datetime) -> Timestamp:
    """A Timestamp: a date is its midnight UTC, a naive datetime is taken as UTC."""
    if not isinstance(value, dt.datetime):
        value = dt.datetime(value.year, value.month, value.day)
    stamp = Timestamp()
    stamp.FromDatetime(value if value.tzinfo else value.replace(tzinfo=dt.UTC))
    return stamp


def kpis_request(start: dt.date | dt.datetime, end: dt.date | dt.datetime) -> reporting_pb2.GetKpisRequest:
    """GetKpis for [start, end) (dates: from start's midnight UTC to end's, so end is excluded)."""
    return reporting_pb2.GetKpisRequest(start_time=instant(start), end_time=instant(end))


class ReportingMethods(ReportingServiceMethods):
    """ReportingService: business KPIs (quote-to-cash durations, unbilled work, invoice
    exceptions) folded from the tenant's event stream."""

    def kpis(
        self, start: dt.date | dt.datetime, end: dt.date | dt.datetime, **options: Unpack[CallOptions]
    ) -> reporting_pb2.Kpis:
        """The tenant's KPIs for [start, end): `get_kpis(kpis_request(start, end))`."""
        return self.get_kpis(kpis_request(start, end), **options)
