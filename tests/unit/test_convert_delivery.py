"""DeliveryService conversions: every domain value has its wire value, and back."""

from __future__ import annotations

from datetime import UTC, datetime

from q2c.v1 import delivery_pb2 as pb
from q2c_core.app.connectors import FailureKind
from q2c_core.app.delivery.model import (
    Q2C_REJECTED,
    Q2C_UNAVAILABLE,
    DeliveryAttempt,
    DeliveryStatus,
    Destination,
    Operation,
)
from q2c_core.edge.converters import convert_delivery as convert


def test_every_failure_kind_the_worker_records_has_a_wire_value() -> None:
    recorded = {kind.value for kind in FailureKind} | {Q2C_UNAVAILABLE, Q2C_REJECTED}
    assert set(convert.FAILURE_KINDS) == recorded
    wire = {v.name for v in pb.DeliveryFailureKind.DESCRIPTOR.values} - {"DELIVERY_FAILURE_KIND_UNSPECIFIED"}
    assert wire == {"DELIVERY_FAILURE_KIND_" + kind for kind in recorded}


def test_enums_map_one_to_one_onto_their_wire_values() -> None:
    for numbers, domain, wrapper in (
        (convert.DESTINATIONS, Destination, pb.DeliveryDestination),
        (convert.OPERATIONS, Operation, pb.DeliveryOperation),
        (convert.STATUSES, DeliveryStatus, pb.DeliveryStatus),
    ):
        assert set(numbers) == set(domain)
        assert sorted(numbers.values()) == sorted(v.number for v in wrapper.DESCRIPTOR.values if v.number)


def test_an_unknown_stored_outcome_goes_out_as_an_unspecified_failure() -> None:
    attempt = DeliveryAttempt(1, 1, datetime(2026, 1, 1, tzinfo=UTC), "SOMETHING_NEW", "?", None, None)
    wire = convert.attempt_out(attempt)
    assert (wire.delivered, wire.failure_kind) == (False, pb.DELIVERY_FAILURE_KIND_UNSPECIFIED)
    delivered = convert.attempt_out(DeliveryAttempt(1, 2, attempt.attempt_time, "DELIVERED", "ok", 201, None))
    assert (delivered.delivered, delivered.failure_kind, delivered.http_status) == (True, 0, 201)
