"""Exception routing over gRPC (both runtimes): owner queue, SLA, age, queue filter and order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import grpc

from q2c.v1 import common_pb2
from q2c.v1 import engagement_pb2 as pb
from q2c.v1 import exception_pb2 as xpb
from q2c_core.adapters.store import Store, WriteBatch
from q2c_core.app.read_models import exception_row
from q2c_core.domain.entities import BusinessException, GatedStep, Severity
from q2c_core.domain.routing import add_business_days, owner_queue
from tests.service import flows
from tests.service.client import Api, field_paths, rich_error, rid

QUEUE = {
    "FINANCE_OPS": xpb.OWNER_QUEUE_FINANCE_OPS,
    "DELIVERY_OPS": xpb.OWNER_QUEUE_DELIVERY_OPS,
    "SALES_OPS": xpb.OWNER_QUEUE_SALES_OPS,
}


async def _list(api: Api, **fields: object) -> list[xpb.BusinessException]:
    return list((await api.exceptions.ListExceptions(xpb.ListExceptionsRequest(**fields))).exceptions)


async def _all_pages(api: Api, order: int, size: int = 1) -> list[str]:
    out, token = [], ""
    for _ in range(50):
        page = await api.exceptions.ListExceptions(
            xpb.ListExceptionsRequest(order_by=order, page_size=size, page_token=token)
        )
        out += [x.exception_id for x in page.exceptions]
        token = page.next_page_token
        if not token:
            return out
    raise AssertionError("paging did not end")


async def _seed(api: Api) -> None:
    """A FINANCE_OPS blocking exception (no tax profile) and an engagement walked to ACTIVE."""
    engagement = await flows.qualified(api, tax_profile=None)
    held = await api.engagements.CloseWonEngagement(
        pb.CloseWonEngagementRequest(request_id=rid(), engagement_id=engagement.engagement_id)
    )
    assert held.state == pb.ENGAGEMENT_STATE_ON_HOLD
    await flows.active(api)  # its start date is auto-corrected: a DELIVERY_OPS exception


async def test_exceptions_carry_their_queue_sla_and_age(api: Api) -> None:
    await _seed(api)
    listed = await _list(api)
    assert listed
    [tax] = [x for x in listed if x.check == "TAX_PROFILE_PRESENT"]
    assert tax.owner_queue == xpb.OWNER_QUEUE_FINANCE_OPS
    raised = tax.raise_time.ToDatetime(tzinfo=UTC)
    assert tax.sla_due_time.ToDatetime(tzinfo=UTC) == add_business_days(raised, 1)
    assert tax.HasField("age") and tax.age.ToTimedelta() >= timedelta(0)
    assert not tax.sla_breached

    [start] = [x for x in listed if x.check == "START_DATE_SET"]
    assert start.owner_queue == xpb.OWNER_QUEUE_DELIVERY_OPS
    assert start.severity == xpb.EXCEPTION_SEVERITY_AUTO_CORRECTED
    assert not start.HasField("sla_due_time") and not start.sla_breached
    assert start.age.ToTimedelta() == timedelta(0)  # raised already resolved

    for x in listed:  # every exception is routed by the one table
        queue = owner_queue(x.check, GatedStep(_step_name(x.step)))
        assert x.owner_queue == QUEUE[queue.value], x.check

    got = await api.exceptions.GetException(xpb.GetExceptionRequest(exception_id=tax.exception_id))
    assert (got.owner_queue, got.sla_due_time) == (tax.owner_queue, tax.sla_due_time)
    assert got.age.ToTimedelta() >= tax.age.ToTimedelta()


def _step_name(number: int) -> str:
    return str(common_pb2.GatedStep.Name(number)).removeprefix("GATED_STEP_")


async def test_list_filters_by_owner_queue(api: Api) -> None:
    await _seed(api)
    everything = await _list(api)
    by_queue = {}
    for queue in QUEUE.values():
        by_queue[queue] = await _list(api, owner_queue=queue)
        assert all(x.owner_queue == queue for x in by_queue[queue])
    assert by_queue[xpb.OWNER_QUEUE_FINANCE_OPS] and by_queue[xpb.OWNER_QUEUE_DELIVERY_OPS]
    assert sorted(x.exception_id for q in by_queue.values() for x in q) == sorted(
        x.exception_id for x in everything
    )
    finance_open = await _list(api, owner_queue=xpb.OWNER_QUEUE_FINANCE_OPS, state=xpb.EXCEPTION_STATE_OPEN)
    assert [x.check for x in finance_open] == ["TAX_PROFILE_PRESENT"]


async def test_list_orders_by_age_and_pages_in_either_order(api: Api) -> None:
    await _seed(api)
    default = [x.exception_id for x in await _list(api)]
    assert len(default) >= 2
    times = [x.raise_time.ToDatetime() for x in await _list(api)]
    assert times == sorted(times)  # oldest raise_time (greatest age) first, as always
    assert await _all_pages(api, xpb.EXCEPTION_ORDER_UNSPECIFIED) == default
    assert await _all_pages(api, xpb.EXCEPTION_ORDER_OLDEST_FIRST) == default
    assert await _all_pages(api, xpb.EXCEPTION_ORDER_NEWEST_FIRST) == default[::-1]
    ages = [x.age.ToTimedelta() for x in await _list(api, state=xpb.EXCEPTION_STATE_OPEN)]
    assert ages == sorted(ages, reverse=True)

    first = await api.exceptions.ListExceptions(xpb.ListExceptionsRequest(page_size=1))
    code, status = await rich_error(
        api.exceptions.ListExceptions(
            xpb.ListExceptionsRequest(
                page_size=1, page_token=first.next_page_token, order_by=xpb.EXCEPTION_ORDER_NEWEST_FIRST
            )
        )
    )
    assert code is grpc.StatusCode.INVALID_ARGUMENT and field_paths(status) == ["page_token"]


async def test_unknown_queue_or_order_is_invalid(api: Api) -> None:
    code, status = await rich_error(api.exceptions.ListExceptions(xpb.ListExceptionsRequest(owner_queue=9)))
    assert code is grpc.StatusCode.INVALID_ARGUMENT and field_paths(status) == ["owner_queue"]
    code, status = await rich_error(api.exceptions.ListExceptions(xpb.ListExceptionsRequest(order_by=9)))
    assert code is grpc.StatusCode.INVALID_ARGUMENT and field_paths(status) == ["order_by"]


async def test_an_exception_open_past_its_sla_is_breached(api: Api, database_url: str) -> None:
    long_ago = datetime(2025, 1, 6, 9, tzinfo=UTC)  # written straight into the read model
    stale = BusinessException(
        exception_id="stale.x1.1",
        engagement_id="stale",
        customer_id="c1",
        step=GatedStep.ACTIVATE,
        check="DELIVERY_READINESS",
        severity=Severity.BLOCKING,
        message="no staffing plan",
        raise_time=long_ago,
    )
    store = Store.open(database_url, migrate=False)
    try:
        store.commit(WriteBatch(exceptions=[exception_row(api.tenant_id, "stale", stale)]))
    finally:
        store.close()
    [x] = await _list(api, owner_queue=xpb.OWNER_QUEUE_DELIVERY_OPS)
    assert x.exception_id == "stale.x1.1" and x.sla_breached
    assert x.sla_due_time.ToDatetime(tzinfo=UTC) == long_ago + timedelta(days=1)
    assert x.age.ToTimedelta() > timedelta(days=300)
