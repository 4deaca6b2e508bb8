"""DeliveryService: proto <-> delivery model, validating requests on the way in."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from enum import StrEnum
from typing import Any, TypeVar

from q2c.v1 import delivery_pb2 as pb
from q2c_core.app.delivery.control import DeliveryFilter, DeliveryOverview, RetryFilter
from q2c_core.app.delivery.model import (
    DeliveryAttempt,
    DeliveryItem,
    DeliveryStatus,
    Destination,
    DestinationStats,
    Operation,
)
from q2c_core.domain.errors import ValidationError
from q2c_core.edge.converters.convert_common import ProtoEnum, Violations, timestamp_out

E = TypeVar("E", bound=StrEnum)

FAILURE_KINDS = (
    "RETRYABLE",
    "UNKNOWN_OUTCOME",
    "PERMANENT",
    "MALFORMED",
    "Q2C_UNAVAILABLE",
    "Q2C_REJECTED",
)
"""The failure kinds on the wire: integration.connectors.FailureKind plus delivery.model's
Q2C_UNAVAILABLE and Q2C_REJECTED. A kind stored that is not here goes out as UNSPECIFIED."""


def _numbers(wrapper: ProtoEnum, prefix: str, domain: type[E]) -> dict[E, Any]:
    """Domain member -> proto number, by member name (Operation.CREATE_JOB -> ..._CREATE_JOB)."""
    return {member: wrapper.Value(prefix + member.name) for member in domain}


DESTINATIONS = _numbers(pb.DeliveryDestination, "DELIVERY_DESTINATION_", Destination)
OPERATIONS = _numbers(pb.DeliveryOperation, "DELIVERY_OPERATION_", Operation)
STATUSES = _numbers(pb.DeliveryStatus, "DELIVERY_STATUS_", DeliveryStatus)
FAILURES: dict[str, Any] = {
    kind: pb.DeliveryFailureKind.Value("DELIVERY_FAILURE_KIND_" + kind) for kind in FAILURE_KINDS
}


# -- requests ------------------------------------------------------------------------------------


def _enum_in(bad: Violations, numbers: Mapping[E, Any], number: int, path: str) -> E | None:
    """A proto enum number as its domain member; 0 (UNSPECIFIED) is None, unknown numbers violate."""
    if number == 0:
        return None
    for member, value in numbers.items():
        if value == number:
            return member
    bad.add(path, f"unknown enum value {number}")
    return None


def _page_size(bad: Violations, page_size: int) -> None:
    if page_size < 0:
        bad.add("page_size", "must not be negative")


def _filters(bad: Violations, request: Any) -> tuple[Destination | None, Operation | None, str | None]:
    destination = _enum_in(bad, DESTINATIONS, request.destination, "destination")
    operation = _enum_in(bad, OPERATIONS, request.operation, "operation")
    return destination, operation, request.engagement_id or None


def dead_letter_filter(request: pb.ListDeadLettersRequest) -> DeliveryFilter:
    """ListDeadLetters filters (status is DEAD by definition); bad fields -> ValidationError."""
    bad = Violations()
    _page_size(bad, request.page_size)
    destination, operation, engagement_id = _filters(bad, request)
    bad.raise_if_any()
    return DeliveryFilter(DeliveryStatus.DEAD, destination, operation, engagement_id)


def delivery_filter(request: pb.ListDeliveriesRequest) -> DeliveryFilter:
    """ListDeliveries filters; bad fields -> ValidationError (every bad field named)."""
    bad = Violations()
    _page_size(bad, request.page_size)
    status = _enum_in(bad, STATUSES, request.status, "status")
    destination, operation, engagement_id = _filters(bad, request)
    bad.raise_if_any()
    return DeliveryFilter(status, destination, operation, engagement_id)


def delivery_id_in(value: int, path: str = "delivery_id") -> int:
    """A required delivery id: > 0."""
    if value <= 0:
        raise ValidationError.one(path, "is required" if value == 0 else "must be positive")
    return value


def retry_filter(request: pb.RetryDeadLetterRequest) -> tuple[RetryFilter, str]:
    """RetryDeadLetter: exactly one of delivery_id and all_matching, filters only with the latter."""
    bad = Violations()
    destination, operation, engagement_id = _filters(bad, request)
    if request.delivery_id < 0:
        bad.add("delivery_id", "must be positive")
    elif request.delivery_id and request.all_matching:
        bad.add("all_matching", "give either delivery_id or all_matching, not both")
    elif not request.delivery_id and not request.all_matching:
        bad.add("delivery_id", "give a delivery_id, or all_matching = true to retry every match")
    if request.delivery_id and not request.all_matching:
        for name in ("destination", "operation", "engagement_id"):
            if getattr(request, name) and not bad.covers(name):
                bad.add(name, "filters apply only with all_matching; omit them with a delivery_id")
    bad.raise_if_any()
    if request.all_matching:
        return RetryFilter(None, destination, operation, engagement_id), request.reason
    return RetryFilter(delivery_id=request.delivery_id), request.reason


# -- responses -----------------------------------------------------------------------------------


def etag_of(item: DeliveryItem) -> str:
    """The item's etag: changes whenever an attempt or a retry changes the item."""
    basis = f"{item.status.value}|{item.attempts}|{item.update_time.isoformat()}"
    return f'"{hashlib.sha256(basis.encode()).hexdigest()[:16]}"'


def _failure(kind: str | None) -> Any:
    return FAILURES.get(kind or "", 0)


def delivery_out(item: DeliveryItem, attempts: list[DeliveryAttempt] | None = None) -> pb.Delivery:
    """A delivery item on the wire; with `attempts`, its attempt history too."""
    return pb.Delivery(
        delivery_id=item.delivery_id,
        destination=DESTINATIONS[item.destination],
        operation=OPERATIONS[item.operation],
        status=STATUSES[item.status],
        key=item.key,
        engagement_id=item.engagement_id,
        subject_id=item.subject_id,
        invoice_id=item.invoice_id or "",
        source_position=item.source_position,
        attempts=item.attempts,
        next_attempt_time=(
            timestamp_out(item.next_attempt_time) if item.status is DeliveryStatus.PENDING else None
        ),
        failure_kind=_failure(item.failure_kind),
        last_error=item.last_error or "",
        last_http_status=item.last_http_status or 0,
        last_payload=item.last_payload or "",
        document_number=item.document_number or "",
        create_time=timestamp_out(item.create_time),
        update_time=timestamp_out(item.update_time),
        delivered_time=timestamp_out(item.delivered_time),
        dead_time=timestamp_out(item.dead_time),
        etag=etag_of(item),
        attempt_history=[attempt_out(a) for a in attempts or []],
    )


def attempt_out(attempt: DeliveryAttempt) -> pb.DeliveryAttempt:
    """One attempt on the wire (the stored outcome is DELIVERED or a failure kind)."""
    delivered = attempt.outcome == DeliveryStatus.DELIVERED.value
    return pb.DeliveryAttempt(
        attempt=attempt.attempt,
        attempt_time=timestamp_out(attempt.attempt_time),
        delivered=delivered,
        failure_kind=_failure(None if delivered else attempt.outcome),
        message=attempt.message,
        http_status=attempt.http_status or 0,
        payload=attempt.payload or "",
    )


def _destination_stats_out(stats: DestinationStats) -> pb.DestinationStats:
    return pb.DestinationStats(
        destination=DESTINATIONS[Destination(stats.destination)],
        pending=stats.pending,
        due=stats.due,
        delivered=stats.delivered,
        dead=stats.dead,
        attempts=stats.attempts,
        oldest_pending_time=timestamp_out(stats.oldest_pending_time),
    )


def stats_out(overview: DeliveryOverview) -> pb.DeliveryStats:
    """GetDeliveryStats' reply."""
    return pb.DeliveryStats(
        destinations=[_destination_stats_out(s) for s in overview.destinations],
        outbox_lag=overview.outbox_lag,
        read_time=timestamp_out(overview.read_time),
    )
