"""ReportingService.GetKpis over a real server (LocalRuntime and Ray, SQLite and PostgreSQL): a
real lifecycle and bill run, and the exact KPIs, checked against the times on the event stream."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from q2c.v1 import billing_pb2, customer_pb2, event_pb2, event_pb2_grpc, reporting_pb2, reporting_pb2_grpc
from tests import credentials
from tests.service.billing_flows import (
    Billable,
    accepted_milestone,
    active_on,
    approved_expense,
    approved_time,
    entry,
    expense_line,
    fixed_fee_line,
    issued,
    month,
    paid,
    tm_line,
)
from tests.service.client import CALL_TIMEOUT, Api, error_info, field_paths, money, rich_error, rid


@pytest.fixture(scope="module")
def reporting(channel: grpc.aio.Channel) -> reporting_pb2_grpc.ReportingServiceStub:
    """The generated ReportingService stub on the module's channel."""
    return reporting_pb2_grpc.ReportingServiceStub(channel)


@pytest.fixture(scope="module")
def events(channel: grpc.aio.Channel) -> event_pb2_grpc.EventServiceStub:
    """The generated EventService stub, to read the times the KPIs are computed from."""
    return event_pb2_grpc.EventServiceStub(channel)


def stamp(value: datetime) -> Timestamp:
    result = Timestamp()
    result.FromDatetime(value)
    return result


async def get_kpis(
    stub: Any, start: datetime, end: datetime, metadata: Iterable[tuple[str, str]]
) -> reporting_pb2.Kpis:
    request = reporting_pb2.GetKpisRequest(start_time=stamp(start), end_time=stamp(end))
    kpis: reporting_pb2.Kpis = await stub.GetKpis(request, metadata=tuple(metadata), timeout=CALL_TIMEOUT)
    return kpis


async def replay(stub: Any, api: Api) -> list[event_pb2.Event]:
    """Every event of the tenant so far, in position order."""
    call = stub.SubscribeEvents(
        event_pb2.SubscribeEventsRequest(), metadata=api.metadata, timeout=CALL_TIMEOUT
    )
    return [event async for event in call]


def when(stream: list[event_pb2.Event], engagement_id: str, event_type: str) -> datetime:
    """When the engagement's only event of this type occurred."""
    [found] = [e for e in stream if e.engagement_id == engagement_id and e.event_type == event_type]
    at: datetime = found.occur_time.ToDatetime(tzinfo=UTC)
    return at


def summary(durations: list[timedelta]) -> reporting_pb2.DurationSummary:
    """The expected summary: count, sum and nearest-rank percentiles."""
    ordered, n = sorted(durations), len(durations)

    def rank(p: int) -> timedelta:
        return ordered[max(1, -(-p * n // 100)) - 1]

    out = reporting_pb2.DurationSummary(count=n)
    for name, value in (
        ("sum", sum(ordered, timedelta(0))),
        ("p50", rank(50)),
        ("p90", rank(90)),
        ("p99", rank(99)),
    ):
        getattr(out, name).FromTimedelta(value)
    return out


async def bill_run(api: Api, period: str) -> billing_pb2.BillRun:
    """Start a bill run and watch it to its end."""
    run = await api.billing.StartBillRun(
        billing_pb2.StartBillRunRequest(request_id=rid(), period=month(period))
    )
    [*_, last] = [
        r
        async for r in api.billing.WatchBillRun(billing_pb2.WatchBillRunRequest(bill_run_id=run.bill_run_id))
    ]
    assert last.state == billing_pb2.BILL_RUN_STATE_SUCCEEDED, last
    return last  # type: ignore[no-any-return]


async def without_po(api: Api) -> Billable:
    """An engagement with 8 approved January hours whose customer now requires a PO it lacks."""
    billable = await active_on(api, lambda card: [tm_line(card)], po_reference="")
    await approved_time(api, billable.engagement_id, entry(1, date(2026, 1, 7)))
    current = await api.customers.GetCustomer(
        customer_pb2.GetCustomerRequest(customer_id=billable.customer_id)
    )
    await api.customers.UpdateCustomer(
        customer_pb2.UpdateCustomerRequest(
            request_id=rid(),
            etag=current.etag,
            update_mask={"paths": ["po_required"]},
            customer=customer_pb2.Customer(customer_id=billable.customer_id, po_required=True),
        )
    )
    return billable


async def test_get_kpis_reports_a_real_lifecycle_exactly(
    api: Api, reporting: reporting_pb2_grpc.ReportingServiceStub, events: event_pb2_grpc.EventServiceStub
) -> None:
    start = datetime.now(UTC) - timedelta(seconds=1)
    billed = await active_on(api, lambda card: [tm_line(card), expense_line("10"), fixed_fee_line(M1="1000")])
    a = billed.engagement_id
    await approved_time(api, a, entry(1, date(2026, 1, 5), hours="7.5"))  # 7.5 h x 150 = 1125.00
    await approved_expense(api, a, "X1", date(2026, 1, 6), "100.05")  # x 1.10 = 110.055 -> 110.06
    await accepted_milestone(api, a, "M1")  # 1000.00
    euro = await active_on(api, lambda card: [tm_line(card, currency="EUR")], currency="EUR")
    await approved_time(api, euro.engagement_id, entry(1, date(2026, 2, 3)))  # February: unbilled
    parked = await without_po(api)  # the bill run raises MISSING_PO_REFERENCE on it
    run = await bill_run(api, "2026-01")
    invoices = await api.billing.ListInvoices(billing_pb2.ListInvoicesRequest(bill_run_id=run.bill_run_id))
    [invoice] = invoices.invoices
    await issued(api, invoice.invoice_id)
    await paid(api, invoice.invoice_id, "100.00")  # partial: ends nothing
    settled = await paid(api, invoice.invoice_id, str(_balance(await _invoice(api, invoice.invoice_id))))
    assert settled.state == billing_pb2.INVOICE_STATE_PAID
    end = datetime.now(UTC) + timedelta(hours=1)

    kpis = await get_kpis(reporting, start, end, api.metadata)

    stream = await replay(events, api)
    issue = when(stream, a, "InvoiceIssued")
    engagements = (a, euro.engagement_id, parked.engagement_id)
    assert (kpis.tenant_id, kpis.start_time, kpis.end_time) == (api.tenant_id, stamp(start), stamp(end))
    assert kpis.quote_to_activation == summary(
        [when(stream, e, "EngagementActivated") - when(stream, e, "EngagementWon") for e in engagements]
    )
    assert kpis.billing_cycle == summary(
        [issue - when(stream, a, t) for t in ("TimeEntriesApproved", "ExpensesApproved", "MilestoneAccepted")]
    )
    payments = [e for e in stream if e.event_type == "PaymentRecorded"]
    assert len(payments) == 2
    assert kpis.cash_application == summary([payments[-1].occur_time.ToDatetime(tzinfo=UTC) - issue])
    # the EUR hours (8 x 150) and the parked engagement's (8 x 150 USD) are approved, not invoiced
    assert list(kpis.unbilled_amounts) == [money("1200.00", "EUR"), money("1200.00", "USD")]
    assert (kpis.unpriced_items, kpis.invoice_exceptions, kpis.unreadable_events) == (0, 1, 0)
    [rate] = kpis.bill_runs
    assert (rate.bill_run_id, rate.invoices_attempted, rate.exceptions_raised) == (run.bill_run_id, 2, 1)
    assert rate.exception_rate == 0.5


async def _invoice(api: Api, invoice_id: str) -> billing_pb2.Invoice:
    result: billing_pb2.Invoice = await api.billing.GetInvoice(
        billing_pb2.GetInvoiceRequest(invoice_id=invoice_id)
    )
    return result


def _balance(invoice: billing_pb2.Invoice) -> str:
    return str(Decimal(invoice.total.amount) - Decimal(invoice.amount_paid.amount))


async def test_a_period_before_the_work_reports_nothing_and_unbilled_as_of_its_end(
    api: Api, reporting: reporting_pb2_grpc.ReportingServiceStub
) -> None:
    before = datetime.now(UTC)
    billable = await active_on(api, lambda card: [tm_line(card)])
    await approved_time(api, billable.engagement_id, entry(1, date(2026, 1, 5)))

    kpis = await get_kpis(reporting, before - timedelta(days=30), before, api.metadata)
    now = await get_kpis(reporting, before, datetime.now(UTC) + timedelta(minutes=5), api.metadata)

    assert kpis.quote_to_activation.count == kpis.billing_cycle.count == kpis.cash_application.count == 0
    assert not kpis.unbilled_amounts and not kpis.bill_runs and kpis.invoice_exceptions == 0
    assert (now.quote_to_activation.count, list(now.unbilled_amounts)) == (1, [money("1200.00")])


async def test_reports_read_scope_alone_is_enough(
    api: Api, reporting: reporting_pb2_grpc.ReportingServiceStub
) -> None:
    metadata = credentials.bearer(api.tenant_id, "finance", scopes=("reports:read",))
    now = datetime.now(UTC)

    kpis = await get_kpis(reporting, now - timedelta(days=1), now, metadata)

    assert kpis.tenant_id == api.tenant_id


async def test_get_kpis_without_reports_read_is_scope_missing(
    api: Api, reporting: reporting_pb2_grpc.ReportingServiceStub
) -> None:
    metadata = credentials.bearer(api.tenant_id, "bob", scopes=("engagements:read", "billing:read"))
    now = datetime.now(UTC)

    code, status = await rich_error(get_kpis(reporting, now - timedelta(days=1), now, metadata))

    assert code == grpc.StatusCode.PERMISSION_DENIED
    info = error_info(status)
    assert (info.reason, info.metadata["scope"]) == ("SCOPE_MISSING", "reports:read")
    assert info.metadata["method"] == "/q2c.v1.ReportingService/GetKpis"


async def test_a_period_that_does_not_end_after_it_starts_is_invalid(
    api: Api, reporting: reporting_pb2_grpc.ReportingServiceStub
) -> None:
    now = datetime.now(UTC)
    backwards = get_kpis(reporting, now, now - timedelta(seconds=1), api.metadata)
    missing = reporting.GetKpis(
        reporting_pb2.GetKpisRequest(end_time=stamp(now)), metadata=api.metadata, timeout=CALL_TIMEOUT
    )

    for call, path in ((backwards, "end_time"), (missing, "start_time")):
        code, status = await rich_error(call)
        assert code == grpc.StatusCode.INVALID_ARGUMENT
        assert (error_info(status).reason, field_paths(status)) == ("VALIDATION_FAILED", [path])
