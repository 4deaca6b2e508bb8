"""Delivery items, their states, and the retry policy (pure: no I/O).

A delivery item is one call q2c owes a downstream system, derived from one outbox event:

==========================  ===========  ====================================================
event                       destination  operation
==========================  ===========  ====================================================
``EngagementActivated``     ERP          ``create_job`` (upserts the customer first)
``EngagementActivated``     PSA          ``provision_project``
``InvoiceIssued``           ERP          ``post_invoice`` (the ack makes the invoice POSTED)
``PaymentRecorded``         ERP          ``record_payment`` (after its invoice is posted)
==========================  ===========  ====================================================

Items of one engagement and destination are delivered in order (a payment never overtakes its
invoice); an item that is PENDING or DEAD holds back the later items of its engagement there.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class Destination(StrEnum):
    """A downstream system."""

    ERP = "ERP"
    PSA = "PSA"


class Operation(StrEnum):
    """What a delivery item asks of its destination."""

    CREATE_JOB = "create_job"
    PROVISION_PROJECT = "provision_project"
    POST_INVOICE = "post_invoice"
    RECORD_PAYMENT = "record_payment"


class DeliveryStatus(StrEnum):
    """PENDING -> DELIVERED, or PENDING -> DEAD (a dead letter) -> PENDING on retry."""

    PENDING = "PENDING"
    DELIVERED = "DELIVERED"
    DEAD = "DEAD"


#: Outcome recorded for an attempt whose acknowledgement q2c itself could not record yet.
Q2C_UNAVAILABLE = "Q2C_UNAVAILABLE"
#: Outcome recorded when q2c rejected the acknowledgement (e.g. another ERP number).
Q2C_REJECTED = "Q2C_REJECTED"


@dataclass(frozen=True, slots=True)
class PlannedDelivery:
    """An item to create from an outbox event (deduplicated by tenant, destination and key)."""

    tenant_id: str
    destination: Destination
    operation: Operation
    key: str
    engagement_id: str
    subject_id: str
    invoice_id: str | None
    source_position: int


@dataclass(frozen=True, slots=True)
class DeliveryItem:
    """A stored delivery item."""

    delivery_id: int
    tenant_id: str
    destination: Destination
    operation: Operation
    key: str
    engagement_id: str
    subject_id: str
    invoice_id: str | None
    source_position: int
    status: DeliveryStatus
    attempts: int
    next_attempt_time: datetime
    failure_kind: str | None
    last_error: str | None
    last_http_status: int | None
    last_payload: str | None
    document_number: str | None
    create_time: datetime
    update_time: datetime
    delivered_time: datetime | None
    dead_time: datetime | None


@dataclass(frozen=True, slots=True)
class DeliveryAttempt:
    """One attempt of an item: when, what came of it, and the downstream's answer."""

    delivery_id: int
    attempt: int
    attempt_time: datetime
    outcome: str
    message: str
    http_status: int | None
    payload: str | None


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one attempt ended in, to be recorded with the item.

    ``delivered``: the downstream acknowledged (``document_number`` for postings); otherwise
    ``dead`` says whether the item becomes a dead letter now, and ``next_attempt_time`` when
    it is tried again.
    """

    delivery_id: int
    delivered: bool
    kind: str
    message: str
    document_number: str | None = None
    http_status: int | None = None
    payload: str | None = None
    dead: bool = False
    next_attempt_time: datetime | None = None


@dataclass(frozen=True, slots=True)
class DestinationStats:
    """Counts of one destination's items, for DeliveryService.GetDeliveryStats."""

    destination: str
    pending: int
    due: int
    delivered: int
    dead: int
    attempts: int
    oldest_pending_time: datetime | None


@dataclass(frozen=True, slots=True)
class RetryFilter:
    """Which dead letters of a tenant to retry: one by id, or all matching the filters."""

    delivery_id: int | None = None
    destination: Destination | None = None
    operation: Operation | None = None
    engagement_id: str | None = None


@dataclass(frozen=True, slots=True)
class RetryOutcome:
    """What a retry did: the ids moved to PENDING, and for a one-item retry that moved nothing,
    the item's status (None: the tenant has no such item)."""

    moved: list[int] = field(default_factory=list)
    status: DeliveryStatus | None = None


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with jitter, honouring the downstream's Retry-After.

    Attempt n (1-based) that failed and may be retried waits ``base * 2**(n-1)`` seconds capped
    at ``cap``, scaled by a random factor in [1 - jitter, 1] ("equal jitter" keeps a floor so a
    herd of items does not retry at once), and never less than ``retry_after``. After
    ``max_attempts`` failed attempts the item becomes a dead letter.
    """

    max_attempts: int = 10
    base_seconds: float = 1.0
    cap_seconds: float = 300.0
    jitter: float = 0.5

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.base_seconds < 0 or self.cap_seconds < self.base_seconds:
            raise ValueError("need 0 <= base_seconds <= cap_seconds")
        if not 0 <= self.jitter <= 1:
            raise ValueError("jitter must be within [0, 1]")

    def delay(
        self, attempts: int, retry_after: float | None = None, rng: random.Random | None = None
    ) -> float:
        """Seconds to wait after the ``attempts``-th failed attempt."""
        raw = min(self.cap_seconds, self.base_seconds * float(2 ** max(0, attempts - 1)))
        factor = 1.0 - self.jitter * (rng or random).random()
        return float(max(raw * factor, retry_after or 0.0))

    def exhausted(self, attempts: int) -> bool:
        """Whether ``attempts`` failed attempts use up the item's allowance."""
        return attempts >= self.max_attempts
