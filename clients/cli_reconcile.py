"""`q2c reconcile [--grace-seconds N]`: reconcile the tenant's invoices and payments with the ERP.

Prints the report (what was compared, every mismatch and the exception it raised); exits 9 when
there are mismatches, so scripts can alert on them.
"""

from __future__ import annotations

import argparse
from datetime import timedelta

from google.protobuf.duration_pb2 import Duration

from clients.cli_context import Context, Subparsers, add_global_options
from clients.cli_errors import ExitCode
from clients.cli_render import Column, details, enum_label, moment, money, table
from clients.cli_tables import Views
from q2c.v1 import reconciliation_pb2 as pb
from q2c.v1 import reconciliation_pb2_grpc

MISMATCH_COLUMNS: list[Column] = [
    (
        "mismatch",
        lambda m: enum_label(pb.ReconciliationMismatchKind, m.kind, "RECONCILIATION_MISMATCH_KIND_"),
    ),
    ("engagement", lambda m: m.engagement_id),
    ("invoice", lambda m: m.invoice_id),
    ("payment", lambda m: m.payment_id),
    ("q2c", lambda m: money(m.q2c_amount)),
    ("ERP", lambda m: ", ".join(f"{d.document_number} {money(d.amount)}".strip() for d in m.erp_documents)),
    ("exception", lambda m: m.exception_id or m.raise_error or "(already open)"),
]


def report_view(report: pb.ReconciliationReport) -> Views:
    """The summary, then one row per mismatch (none: a line saying the books agree)."""
    rows = [
        ("reconciliation", report.reconciliation_id),
        ("tenant", report.tenant_id),
        ("grace period", f"{report.grace_period.seconds}s"),
        ("invoices checked", str(report.invoices_checked)),
        ("payments checked", str(report.payments_checked)),
        ("ERP documents read", str(report.erp_documents_read)),
        ("mismatches", str(len(report.mismatches))),
        ("exceptions raised", str(report.exceptions_raised)),
        ("started", moment(report.start_time)),
        ("finished", moment(report.finish_time)),
    ]
    views: Views = [details("ERP reconciliation", rows)]
    if report.mismatches:
        views.append(table("mismatches", MISMATCH_COLUMNS, report.mismatches))
    else:
        views.append("q2c and the ERP agree.")
    return views


def reconcile(ctx: Context, args: argparse.Namespace) -> int:
    """Run a reconciliation now; exit 9 when mismatches were found."""
    request = pb.RunReconciliationRequest()
    if args.grace_seconds is not None:
        request.grace_period.CopyFrom(_duration(args.grace_seconds))
    stub = reconciliation_pb2_grpc.ReconciliationServiceStub(ctx.api.q.channel)
    report: pb.ReconciliationReport = ctx.api.q.call(stub.RunReconciliation, request)
    ctx.out.emit(report, report_view)
    return int(ExitCode.CHECK_FAILED) if report.mismatches else 0


def _duration(seconds: float) -> Duration:
    duration = Duration()
    if seconds < 0:  # timedelta would normalise it; let the server refuse it as sent
        duration.seconds = int(seconds)
        return duration
    duration.FromTimedelta(timedelta(seconds=seconds))
    return duration


def register(subparsers: Subparsers) -> None:
    """Add `reconcile` to the top-level parser."""
    help_text = "reconcile invoices and payments with the ERP now (exit 9 if they disagree)"
    parser = subparsers.add_parser("reconcile", help=help_text, description=help_text)
    add_global_options(parser, suppress=True)
    parser.add_argument(
        "--grace-seconds",
        type=float,
        default=None,
        metavar="N",
        help="how long an invoice or payment may take to reach the ERP (server default: 3600)",
    )
    parser.set_defaults(handler=reconcile)
