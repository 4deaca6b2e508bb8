"""Which delivery items an outbox event asks for (pure; see the table in ``model``)."""

from __future__ import annotations

from collections.abc import Iterable

from q2c_core.app.delivery.model import Destination, Operation, PlannedDelivery
from q2c_core.app.records import StoredEvent

#: The event types the planner reads from the outbox.
PLANNED_EVENT_TYPES = ("EngagementActivated", "InvoiceIssued", "PaymentRecorded")


def job_key(engagement_id: str) -> str:
    """The idempotency key of an engagement's ERP job."""
    return f"q2c:job:{engagement_id}"


def project_key(engagement_id: str) -> str:
    """The idempotency key of an engagement's PSA project."""
    return f"q2c:project:{engagement_id}"


def invoice_key(invoice_id: str) -> str:
    """The idempotency key of an invoice posting."""
    return f"q2c:invoice:{invoice_id}"


def payment_key(invoice_id: str, payment_id: str) -> str:
    """The idempotency key of a payment posting (payment ids are scoped by invoice)."""
    return f"q2c:payment:{invoice_id}:{payment_id}"


def plan(event: StoredEvent) -> list[PlannedDelivery]:
    """The items one event asks for (none for event types nobody downstream needs)."""
    engagement_id = event.stream_id

    def item(
        destination: Destination, operation: Operation, key: str, subject: str, invoice: str | None
    ) -> PlannedDelivery:
        return PlannedDelivery(
            event.tenant_id, destination, operation, key, engagement_id, subject, invoice, event.position
        )

    payload = event.payload
    if event.event_type == "EngagementActivated":
        return [
            item(Destination.ERP, Operation.CREATE_JOB, job_key(engagement_id), engagement_id, None),
            item(
                Destination.PSA, Operation.PROVISION_PROJECT, project_key(engagement_id), engagement_id, None
            ),
        ]
    if event.event_type == "InvoiceIssued":
        invoice_id = str(payload["invoice_id"])
        return [
            item(Destination.ERP, Operation.POST_INVOICE, invoice_key(invoice_id), invoice_id, invoice_id)
        ]
    if event.event_type == "PaymentRecorded":
        invoice_id = str(payload["invoice_id"])
        payment = payload["payment"]
        assert isinstance(payment, dict)
        payment_id = str(payment["payment_id"])
        key = payment_key(invoice_id, payment_id)
        return [item(Destination.ERP, Operation.RECORD_PAYMENT, key, payment_id, invoice_id)]
    return []


def plan_all(events: Iterable[StoredEvent]) -> list[PlannedDelivery]:
    """The items of several events, in event order."""
    return [planned for event in events for planned in plan(event)]
