"""Business-exception routing: which operations queue owns a failed check, and its SLA (pure).

Routing and SLA table (the one place these rules live; docs/api.md and the CLI refer here):

| owner queue  | checks                                                                  |
| ------------ | ----------------------------------------------------------------------- |
| SALES_OPS    | CUSTOMER_ACTIVE, LEGAL_ENTITY_MAPPED, SERVICE_LINE_SET                  |
| FINANCE_OPS  | TAX_PROFILE_PRESENT, PO_REFERENCE_FORMAT, PO_REFERENCE_PRESENT,         |
|              | RATE_CARD_CURRENCY, RATE_CARD_EFFECTIVE, TM_CAP_SET,                    |
|              | CONTRACT_CURRENCY_MATCHES_CUSTOMER, NOT_TO_EXCEED_CAP,                  |
|              | MISSING_PO_REFERENCE, MISSING_TAX_PROFILE, UNPRICED_TIME,               |
|              | ERP_RECONCILIATION                                                      |
| DELIVERY_OPS | START_DATE_SET, START_DATE_WITHIN_CONTRACT, DELIVERY_READINESS          |
| (default)    | any other check: the queue of its gated step: CLOSE_WON -> SALES_OPS,   |
|              | APPROVE_CONTRACT -> FINANCE_OPS, ACTIVATE -> DELIVERY_OPS, INVOICE ->   |
|              | FINANCE_OPS                                                             |

| queue        | BLOCKING       | REVIEW          | AUTO_CORRECTED |
| ------------ | -------------- | --------------- | -------------- |
| SALES_OPS    | 1 business day | 3 business days | no SLA         |
| FINANCE_OPS  | 1 business day | 2 business days | no SLA         |
| DELIVERY_OPS | 1 business day | 3 business days | no SLA         |

Finance reviews get 2 days, not 3: they are invoicing holds (hours over a cap, bill-run
skips) and ERP reconciliation mismatches that delay cash. AUTO_CORRECTED exceptions were
fixed by a rule and are raised already RESOLVED, so they have no due time and are never
breached.

Business days are Monday to Friday in UTC (no holiday calendar): the due time is the raise
time moved forward by N weekdays, keeping the time of day (Friday 10:00 + 1 -> Monday 10:00;
Saturday 10:00 + 1 -> Monday 10:00).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import TypeAdapter, ValidationError

from q2c_core.domain.entities import GatedStep, OwnerQueue, Severity

ROUTES: dict[str, OwnerQueue] = {
    **dict.fromkeys(("CUSTOMER_ACTIVE", "LEGAL_ENTITY_MAPPED", "SERVICE_LINE_SET"), OwnerQueue.SALES_OPS),
    **dict.fromkeys(
        (
            "TAX_PROFILE_PRESENT",
            "PO_REFERENCE_FORMAT",
            "PO_REFERENCE_PRESENT",
            "RATE_CARD_CURRENCY",
            "RATE_CARD_EFFECTIVE",
            "CONTRACT_CURRENCY_MATCHES_CUSTOMER",
            "TM_CAP_SET",
            "NOT_TO_EXCEED_CAP",
            "MISSING_PO_REFERENCE",
            "MISSING_TAX_PROFILE",
            "UNPRICED_TIME",
            "ERP_RECONCILIATION",
        ),
        OwnerQueue.FINANCE_OPS,
    ),
    **dict.fromkeys(
        ("START_DATE_SET", "START_DATE_WITHIN_CONTRACT", "DELIVERY_READINESS"), OwnerQueue.DELIVERY_OPS
    ),
}
"""The owner queue of each known check."""

STEP_DEFAULTS: dict[GatedStep, OwnerQueue] = {
    GatedStep.CLOSE_WON: OwnerQueue.SALES_OPS,
    GatedStep.APPROVE_CONTRACT: OwnerQueue.FINANCE_OPS,
    GatedStep.ACTIVATE: OwnerQueue.DELIVERY_OPS,
    GatedStep.INVOICE: OwnerQueue.FINANCE_OPS,
}
"""The owner queue of a check not in ROUTES: the queue that owns its gated step."""

SLA_BUSINESS_DAYS: dict[tuple[OwnerQueue, Severity], int] = {
    (OwnerQueue.SALES_OPS, Severity.BLOCKING): 1,
    (OwnerQueue.SALES_OPS, Severity.REVIEW): 3,
    (OwnerQueue.FINANCE_OPS, Severity.BLOCKING): 1,
    (OwnerQueue.FINANCE_OPS, Severity.REVIEW): 2,
    (OwnerQueue.DELIVERY_OPS, Severity.BLOCKING): 1,
    (OwnerQueue.DELIVERY_OPS, Severity.REVIEW): 3,
}
"""Business days to resolve, per (queue, severity); absent (AUTO_CORRECTED) = no SLA."""


def owner_queue(check: str, step: GatedStep) -> OwnerQueue:
    """The queue that owns a failed check: ROUTES, else the step's default queue."""
    return ROUTES.get(check) or STEP_DEFAULTS[step]


def add_business_days(start: datetime, days: int) -> datetime:
    """`start` moved forward by `days` weekdays (Mon-Fri), keeping the time of day."""
    moved = start.astimezone(UTC) if start.tzinfo is not None else start
    remaining = days
    while remaining > 0:
        moved += timedelta(days=1)
        if moved.weekday() < 5:
            remaining -= 1
    return moved


def sla_due_time(queue: OwnerQueue, severity: Severity, raise_time: datetime) -> datetime | None:
    """When an exception of this queue and severity raised then must be resolved; None = no SLA."""
    days = SLA_BUSINESS_DAYS.get((queue, severity))
    return None if days is None else add_business_days(raise_time, days)


def route(
    check: str, step: GatedStep, severity: Severity, raise_time: datetime
) -> tuple[OwnerQueue, datetime | None]:
    """(owner queue, SLA due time) of an exception raised now."""
    queue = owner_queue(check, step)
    return queue, sla_due_time(queue, severity, raise_time)


_TIME = TypeAdapter(datetime)


def routing_defaults(data: dict[str, Any]) -> dict[str, Any]:
    """owner_queue / sla_due_time for raw exception data written before routing existed.

    Only the absent keys are returned, derived from check, step, severity and raise_time;
    nothing when those are missing or malformed (model validation then reports them).
    """
    try:
        step = GatedStep(data["step"])
        severity = Severity(data["severity"])
        raise_time = _TIME.validate_python(data["raise_time"])
        check = str(data["check"])
        queue = OwnerQueue(data["owner_queue"]) if data.get("owner_queue") else owner_queue(check, step)
    except (KeyError, ValueError, TypeError, ValidationError):
        return {}
    derived: dict[str, Any] = {}
    if "owner_queue" not in data:
        derived["owner_queue"] = queue
    if "sla_due_time" not in data:
        derived["sla_due_time"] = sla_due_time(queue, severity, raise_time)
    return derived
