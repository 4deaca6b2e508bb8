"""RunReconciliation in (the grace period, validated) and the reconciliation report out."""

from __future__ import annotations

from datetime import timedelta

from google.protobuf.duration_pb2 import Duration  # type: ignore[import-untyped, unused-ignore]

from q2c.v1 import common_pb2, reconciliation_pb2
from q2c_core.app.reconciliation.rules import ErpDocumentSummary
from q2c_core.app.reconciliation.service import ReconciliationReport, ReportedMismatch
from q2c_core.domain.errors import ValidationError
from q2c_core.edge.converters.convert_common import enum_out, money_out, timestamp_out

MAX_GRACE = timedelta(days=366)
_KIND = "RECONCILIATION_MISMATCH_KIND_"
_NANOS = 999_999_999
_FAR = 10**9  # seconds: past MAX_GRACE, within timedelta's range


def grace_period_in(request: reconciliation_pb2.RunReconciliationRequest) -> timedelta | None:
    """The requested grace period (None: the server's default); INVALID_ARGUMENT outside 0..366 days."""
    if not request.HasField("grace_period"):
        return None
    seconds, nanos = request.grace_period.seconds, request.grace_period.nanos
    if not -_NANOS <= nanos <= _NANOS or (seconds > 0 > nanos) or (seconds < 0 < nanos):
        raise ValidationError.one("grace_period", "is not a valid Duration (nanos out of range or sign)")
    if (
        seconds < 0
        or nanos < 0
        or timedelta(seconds=min(seconds, _FAR), microseconds=nanos // 1000) > MAX_GRACE
    ):
        raise ValidationError.one("grace_period", "must be from 0 to 366 days")
    return timedelta(seconds=seconds, microseconds=nanos // 1000)


def _duration(value: timedelta) -> Duration:
    duration = Duration()
    duration.FromTimedelta(value)
    return duration


def _document_out(document: ErpDocumentSummary) -> reconciliation_pb2.ErpDocumentSummary:
    return reconciliation_pb2.ErpDocumentSummary(
        document_number=document.document_number,
        key=document.key,
        amount=common_pb2.Money(currency_code=document.currency, amount=document.amount),
    )


def mismatch_out(mismatch: ReportedMismatch) -> reconciliation_pb2.ReconciliationMismatch:
    """One reported mismatch -> proto."""
    return reconciliation_pb2.ReconciliationMismatch(
        kind=enum_out(reconciliation_pb2.ReconciliationMismatchKind, _KIND, mismatch.mismatch),
        engagement_id=mismatch.engagement_id,
        invoice_id=mismatch.invoice_id,
        payment_id=mismatch.payment_id,
        q2c_amount=money_out(mismatch.q2c_amount),
        erp_documents=[_document_out(d) for d in mismatch.erp_documents],
        detail=mismatch.detail,
        exception_id=mismatch.exception_id,
        raise_error=mismatch.raise_error,
    )


def report_out(report: ReconciliationReport) -> reconciliation_pb2.ReconciliationReport:
    """The reconciliation report -> proto."""
    return reconciliation_pb2.ReconciliationReport(
        reconciliation_id=report.reconciliation_id,
        tenant_id=report.tenant_id,
        grace_period=_duration(report.grace_period),
        invoices_checked=report.invoices_checked,
        payments_checked=report.payments_checked,
        erp_documents_read=report.erp_documents_read,
        mismatches=[mismatch_out(m) for m in report.mismatches],
        exceptions_raised=sum(1 for m in report.mismatches if m.exception_id),
        start_time=timestamp_out(report.start_time),
        finish_time=timestamp_out(report.finish_time),
    )
