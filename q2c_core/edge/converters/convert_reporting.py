"""GetKpis in (the period, validated) and the KPI report out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from google.protobuf.duration_pb2 import Duration  # type: ignore[import-untyped, unused-ignore]

from q2c.v1 import reporting_pb2
from q2c_core.app.kpi_report import BillRunExceptions, DurationSummary, KpiReport
from q2c_core.edge.converters.convert_common import Violations, amount_out, timestamp_out


def period_in(request: reporting_pb2.GetKpisRequest) -> tuple[datetime, datetime]:
    """The requested [start_time, end_time); INVALID_ARGUMENT naming every bad field."""
    bad = Violations()
    start, end = _instant(request, "start_time", bad), _instant(request, "end_time", bad)
    if start is not None and end is not None and end <= start:
        bad.add("end_time", "must be after start_time")
    bad.raise_if_any()
    assert start is not None and end is not None
    return start, end


def _instant(request: Any, field: str, bad: Violations) -> datetime | None:
    if not request.HasField(field):
        bad.add(field, "is required")
        return None
    try:
        instant: datetime = getattr(request, field).ToDatetime(tzinfo=UTC)
    except (ValueError, OverflowError):
        bad.add(field, "is not a valid Timestamp")
        return None
    return instant


def _duration(value: timedelta) -> Duration:
    duration = Duration()
    duration.FromTimedelta(value)
    return duration


def summary_out(summary: DurationSummary) -> reporting_pb2.DurationSummary:
    """Count, sum and percentiles of one KPI -> proto."""
    return reporting_pb2.DurationSummary(
        count=summary.count,
        sum=_duration(summary.total),
        p50=_duration(summary.p50),
        p90=_duration(summary.p90),
        p99=_duration(summary.p99),
    )


def bill_run_out(run: BillRunExceptions) -> reporting_pb2.BillRunExceptionRate:
    """One bill run's exceptions and attempts -> proto (the rate as a double: a ratio, not money)."""
    return reporting_pb2.BillRunExceptionRate(
        bill_run_id=run.bill_run_id,
        invoices_attempted=run.invoices_attempted,
        exceptions_raised=run.exceptions,
        exception_rate=float(run.exception_rate),
    )


def kpis_out(report: KpiReport) -> reporting_pb2.Kpis:
    """The KPI report -> proto."""
    return reporting_pb2.Kpis(
        tenant_id=report.tenant_id,
        start_time=timestamp_out(report.start),
        end_time=timestamp_out(report.end),
        quote_to_activation=summary_out(report.quote_to_activation),
        billing_cycle=summary_out(report.billing_cycle),
        cash_application=summary_out(report.cash_application),
        unbilled_amounts=[amount_out(amount) for amount in report.unbilled.amounts],
        unpriced_items=report.unbilled.unpriced_items,
        invoice_exceptions=report.invoice_exceptions,
        bill_runs=[bill_run_out(run) for run in report.bill_runs],
        unreadable_events=report.unreadable_events,
    )
