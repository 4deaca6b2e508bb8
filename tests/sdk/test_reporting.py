"""The SDK's ReportingService helper: `kpis(start, end)` builds the period from dates or datetimes,
and reads a real server's KPIs (a token without reports:read raises ScopeMissingError)."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from q2c_sdk import Q2cClient, ScopeMissingError
from q2c_sdk.reporting import kpis_request
from tests import credentials
from tests.sdk import flows
from tests.sdk.conftest import RealServer


def test_dates_are_midnight_utc_and_naive_datetimes_are_utc() -> None:
    request = kpis_request(dt.date(2026, 1, 1), dt.datetime(2026, 2, 1, 12, 30))

    assert request.start_time.ToDatetime(tzinfo=dt.UTC) == dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    assert request.end_time.ToDatetime(tzinfo=dt.UTC) == dt.datetime(2026, 2, 1, 12, 30, tzinfo=dt.UTC)


def test_an_offset_is_kept() -> None:
    plus_two = dt.timezone(dt.timedelta(hours=2))

    request = kpis_request(dt.datetime(2026, 1, 1, 2, tzinfo=plus_two), dt.date(2026, 1, 2))

    assert request.start_time.ToDatetime(tzinfo=dt.UTC) == dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


async def test_kpis_of_a_real_server_count_the_activation(
    client: Q2cClient, real_server: RealServer, tenant_id: str
) -> None:
    start = dt.datetime.now(dt.UTC)
    await asyncio.to_thread(flows.active_engagement, client)
    end = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1)

    kpis = await asyncio.to_thread(client.kpis, start, end)

    assert (kpis.tenant_id, kpis.quote_to_activation.count) == (tenant_id, 1)
    token = credentials.token(tenant_id, "sales", ("engagements:read",))
    with Q2cClient(real_server.target, token=token) as sales, pytest.raises(ScopeMissingError):
        await asyncio.to_thread(sales.kpis, start, end)
