"""Bill runs: a month-end invoicing pass over many engagements, as a resource with progress."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from pydantic import Field

from q2c_core.app.records import BillRunRow
from q2c_core.domain.base import Frozen
from q2c_core.domain.limits import MAX_BILL_RUN_CUSTOMERS
from q2c_core.domain.periods import BillingPeriod

MAX_SKIPS_KEPT = 100


class BillRunState(StrEnum):
    """PENDING -> RUNNING -> SUCCEEDED | CANCELLED | FAILED."""

    PENDING = "PENDING"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    CANCELLED = "CANCELLED"
    FAILED = "FAILED"

    @property
    def finished(self) -> bool:
        """True for the terminal states."""
        return self in (BillRunState.SUCCEEDED, BillRunState.CANCELLED, BillRunState.FAILED)


class BillRunSpec(Frozen):
    """What to bill: a period and optional filters."""

    period: BillingPeriod
    customer_ids: list[str] = Field(default=[], max_length=MAX_BILL_RUN_CUSTOMERS)
    currency: str = ""


class BillRunSkip(Frozen):
    """An engagement the run did not invoice, and why."""

    engagement_id: str
    reason: str
    message: str = ""


class BillRun(Frozen):
    """A bill run and its progress; counters only grow while it runs."""

    bill_run_id: str
    tenant_id: str
    spec: BillRunSpec
    state: BillRunState = BillRunState.PENDING
    shards_total: int = 0
    shards_done: int = 0
    engagements_total: int = 0
    engagements_processed: int = 0
    invoices_created: int = 0
    engagements_already_invoiced: int = 0
    engagements_skipped: int = 0
    engagements_failed: int = 0
    invoiced_totals: dict[str, Decimal] = {}
    skips: list[BillRunSkip] = []
    failure_message: str = ""
    create_time: datetime
    update_time: datetime
    finish_time: datetime | None = None


def bill_run_row(run: BillRun, version: int) -> BillRunRow:
    """The store row of a bill run at `version`."""
    return BillRunRow(
        tenant_id=run.tenant_id,
        bill_run_id=run.bill_run_id,
        period_key=run.spec.period.key,
        state=run.state.value,
        version=version,
        data=run.model_dump(mode="json"),
        create_time=run.create_time,
        update_time=run.update_time,
    )


def bill_run_from_row(row: BillRunRow) -> BillRun:
    """The bill run stored in a row."""
    return BillRun.model_validate(row.data)
