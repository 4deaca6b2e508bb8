"""`q2c reports kpis --from WHEN --to WHEN`: the tenant's business KPIs for a period.

WHEN is an ISO-8601 date (its midnight UTC) or date and time (without an offset: UTC); the period
is [--from, --to). Prints the three durations (count, mean, p50 / p90 / p99), unbilled work by
currency, invoice exceptions and the exception rate of each bill run; `--json` for the exact
values (durations as seconds strings, amounts as decimal strings).
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta

from google.protobuf.duration_pb2 import Duration

from clients.cli_context import Context, Subparsers, command, group
from clients.cli_render import Column, details, moment, moneys, table
from clients.cli_tables import Views
from q2c.v1 import reporting_pb2 as pb
from q2c.v1 import reporting_pb2_grpc

KPIS = (
    ("quote to activation", "quote_to_activation"),
    ("billing cycle", "billing_cycle"),
    ("cash application", "cash_application"),
)


def when(text: str) -> datetime:
    """An argparse type: an ISO date (midnight) or date-time; without an offset it is UTC."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO-8601 date or date-time: {text!r}") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def span(value: Duration) -> str:
    """`3d 04:05:06`, to the second (`--json` has the exact value)."""
    seconds = int(value.ToTimedelta() // timedelta(seconds=1))
    days, rest = divmod(seconds, 86_400)
    clock = f"{rest // 3600:02d}:{rest % 3600 // 60:02d}:{rest % 60:02d}"
    return f"{days}d {clock}" if days else clock


def _mean(summary: pb.DurationSummary) -> str:
    if not summary.count:
        return ""
    mean = Duration()
    mean.FromTimedelta(summary.sum.ToTimedelta() / summary.count)
    return span(mean)


DURATION_COLUMNS: list[Column] = [
    ("KPI", lambda row: row[0]),
    ("count", lambda row: str(row[1].count)),
    ("mean", lambda row: _mean(row[1])),
    ("p50", lambda row: span(row[1].p50) if row[1].count else ""),
    ("p90", lambda row: span(row[1].p90) if row[1].count else ""),
    ("p99", lambda row: span(row[1].p99) if row[1].count else ""),
]
BILL_RUN_COLUMNS: list[Column] = [
    ("bill run", lambda run: run.bill_run_id),
    ("invoices attempted", lambda run: str(run.invoices_attempted)),
    ("exceptions", lambda run: str(run.exceptions_raised)),
    ("rate", lambda run: f"{run.exception_rate:.1%}"),
]


def kpis_view(kpis: pb.Kpis) -> Views:
    """The period and its totals, the durations, then one row per bill run."""
    rows = [
        ("tenant", kpis.tenant_id),
        ("from", moment(kpis.start_time)),
        ("to (excluded)", moment(kpis.end_time)),
        ("unbilled at the end", moneys(kpis.unbilled_amounts) or "none"),
        ("unpriced items", str(kpis.unpriced_items) if kpis.unpriced_items else ""),
        ("invoice exceptions", str(kpis.invoice_exceptions)),
        ("unreadable events", str(kpis.unreadable_events) if kpis.unreadable_events else ""),
    ]
    durations = [(label, getattr(kpis, name)) for label, name in KPIS]
    views: Views = [details("business KPIs", rows), table("durations", DURATION_COLUMNS, durations)]
    if kpis.bill_runs:
        views.append(table("bill runs", BILL_RUN_COLUMNS, kpis.bill_runs))
    return views


def kpis(ctx: Context, args: argparse.Namespace) -> int:
    """The tenant's KPIs for [--from, --to)."""
    request = pb.GetKpisRequest()
    request.start_time.FromDatetime(args.start)
    request.end_time.FromDatetime(args.end)
    stub = reporting_pb2_grpc.ReportingServiceStub(ctx.api.q.channel)
    result: pb.Kpis = ctx.api.q.call(stub.GetKpis, request)
    ctx.out.emit(result, kpis_view)
    return 0


def register(subparsers: Subparsers) -> None:
    """Add `reports` to the top-level parser."""
    actions = group(
        subparsers, "reports", "business KPIs: quote-to-cash durations, unbilled work, exceptions"
    )
    parser = command(actions, "kpis", kpis, "the tenant's KPIs for the period [--from, --to)")
    parser.add_argument(
        "--from",
        dest="start",
        required=True,
        type=when,
        metavar="WHEN",
        help="start (included): ISO date or date-time, UTC unless an offset is given",
    )
    parser.add_argument(
        "--to",
        dest="end",
        required=True,
        type=when,
        metavar="WHEN",
        help="end (excluded): ISO date or date-time, UTC unless an offset is given",
    )
