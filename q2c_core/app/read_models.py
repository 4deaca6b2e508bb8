"""Read-model rows made from engagement state: engagements, business exceptions, invoices."""

from __future__ import annotations

from typing import Any

from q2c_core.app.records import EngagementRow, ExceptionRow, InvoiceRow
from q2c_core.domain.engagement import Engagement
from q2c_core.domain.entities import BusinessException
from q2c_core.domain.invoices import Invoice


def exception_row(tenant_id: str, engagement_id: str, exception: BusinessException) -> ExceptionRow:
    """The read-model row of a business exception."""
    return ExceptionRow(
        tenant_id=tenant_id,
        exception_id=exception.exception_id,
        engagement_id=engagement_id,
        customer_id=exception.customer_id,
        step=exception.step.value,
        check_name=exception.check,
        severity=exception.severity.value,
        state=exception.state.value,
        data=exception.model_dump(mode="json"),
        raise_time=exception.raise_time,
        resolve_time=exception.resolve_time,
        owner_queue=exception.owner_queue.value,
        sla_due_time=exception.sla_due_time,
    )


def engagement_row(tenant_id: str, state: Engagement, *, with_snapshot: bool = True) -> EngagementRow:
    """The read-model row of an engagement state, with or without a full snapshot."""
    return EngagementRow(
        tenant_id=tenant_id,
        engagement_id=state.engagement_id,
        customer_id=state.customer_id,
        display_name=state.display_name,
        state=state.state.value,
        version=state.version,
        snapshot=state.model_dump(mode="json") if with_snapshot else None,
        create_time=state.create_time,
        update_time=state.update_time,
        currency=state.contract.currency if state.contract else None,
    )


def invoice_row(tenant_id: str, invoice: Invoice, data: dict[str, Any] | None = None) -> InvoiceRow:
    """The read-model row of an invoice (`data`: its JSON, when already serialized)."""
    return InvoiceRow(
        tenant_id=tenant_id,
        invoice_id=invoice.invoice_id,
        engagement_id=invoice.engagement_id,
        customer_id=invoice.customer_id,
        state=invoice.state.value,
        period_key=invoice.period.key,
        bill_run_id=invoice.bill_run_id,
        currency=invoice.currency,
        total=str(invoice.total.amount),
        data=data if data is not None else invoice.model_dump(mode="json"),
        create_time=invoice.create_time,
        update_time=invoice.update_time,
    )
