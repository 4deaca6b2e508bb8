"""Bill runs and their skips -> proto."""

from __future__ import annotations

from decimal import Decimal

from q2c.v1 import billing_pb2, common_pb2
from q2c_core.app.billing.runs import BillRun, BillRunSkip
from q2c_core.domain.money import Money
from q2c_core.edge.converters.convert_common import amount_out, enum_out, timestamp_out
from q2c_core.edge.converters.convert_periods import period_out


def bill_run_out(run: BillRun) -> billing_pb2.BillRun:
    """Bill run -> proto; invoiced_totals become one Money per currency, by currency code."""
    return billing_pb2.BillRun(
        bill_run_id=run.bill_run_id,
        period=period_out(run.spec.period),
        state=enum_out(billing_pb2.BillRunState, "BILL_RUN_STATE_", run.state),
        customer_ids=list(run.spec.customer_ids),
        currency_code=run.spec.currency,
        shards_total=run.shards_total,
        shards_done=run.shards_done,
        engagements_total=run.engagements_total,
        engagements_processed=run.engagements_processed,
        invoices_created=run.invoices_created,
        engagements_already_invoiced=run.engagements_already_invoiced,
        engagements_skipped=run.engagements_skipped,
        engagements_failed=run.engagements_failed,
        invoiced_totals=[_total(code, amount) for code, amount in sorted(run.invoiced_totals.items())],
        skips=[bill_run_skip_out(skip) for skip in run.skips],
        failure_message=run.failure_message,
        create_time=timestamp_out(run.create_time),
        update_time=timestamp_out(run.update_time),
        finish_time=timestamp_out(run.finish_time),
    )


def _total(currency: str, amount: Decimal) -> common_pb2.Money:
    return amount_out(Money(currency=currency, amount=amount))


def bill_run_skip_out(skip: BillRunSkip) -> billing_pb2.BillRunSkip:
    """Bill run skip -> proto."""
    return billing_pb2.BillRunSkip(engagement_id=skip.engagement_id, reason=skip.reason, message=skip.message)
