"""The event stream on the wire: SubscribeEventsRequest in (validated), stored events out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, get_args

from google.protobuf.struct_pb2 import Struct, Value  # type: ignore[import-untyped, unused-ignore]

from q2c.v1 import event_pb2
from q2c_core.app.records import StoredEvent
from q2c_core.domain.events import Event
from q2c_core.edge.converters.convert_common import Violations, timestamp_out


def _event_type_names() -> tuple[str, ...]:
    """The `type` literal of every member of the domain Event union, in declaration order."""
    union = get_args(Event)[0]
    return tuple(str(member.model_fields["type"].default) for member in get_args(union))


EVENT_TYPE_NAMES: tuple[str, ...] = _event_type_names()
"""Every domain event type name, the values SubscribeEventsRequest.event_types accepts."""

_KNOWN_TYPES = frozenset(EVENT_TYPE_NAMES)


@dataclass(frozen=True, slots=True)
class Subscription:
    """A validated SubscribeEvents request."""

    after_position: int
    event_types: tuple[str, ...]
    engagement_id: str | None
    follow: bool


def subscription_in(request: event_pb2.SubscribeEventsRequest) -> Subscription:
    """Validate the request: after_position >= 0, every event type a known name.

    Raises ValidationError (VALIDATION_FAILED) naming every bad field at once.
    """
    violations = Violations()
    if request.after_position < 0:
        violations.add("after_position", "must be >= 0 (0 replays from the beginning)")
    for index, name in enumerate(request.event_types):
        if name not in _KNOWN_TYPES:
            violations.add(f"event_types[{index}]", f"unknown event type {name!r}")
    violations.raise_if_any()
    return Subscription(
        after_position=request.after_position,
        event_types=tuple(dict.fromkeys(request.event_types)),
        engagement_id=request.engagement_id or None,
        follow=request.follow,
    )


def _fill_struct(target: Struct, values: dict[str, Any]) -> None:
    """Copy a JSON object into a Struct (a third faster than Struct.update, same result)."""
    target.SetInParent()
    fields = target.fields
    for key, value in values.items():
        _set_value(fields[key], value)


def _set_value(target: Value, value: Any) -> None:
    """Set one google.protobuf.Value from a JSON value (numbers become doubles)."""
    if value is None:
        target.null_value = 0
    elif isinstance(value, str):
        target.string_value = value
    elif isinstance(value, bool):
        target.bool_value = value
    elif isinstance(value, int | float):
        target.number_value = value
    elif isinstance(value, dict):
        _fill_struct(target.struct_value, value)
    else:
        items = target.list_value
        items.SetInParent()
        for item in value:
            _set_value(items.values.add(), item)


def event_out(event: StoredEvent) -> event_pb2.Event:
    """A stored event -> proto (payload as a Struct)."""
    payload = Struct()
    _fill_struct(payload, event.payload)
    return event_pb2.Event(
        position=event.position,
        event_id=event.event_id,
        event_type=event.event_type,
        engagement_id=event.stream_id,
        tenant_id=event.tenant_id,
        correlation_id=event.correlation_id,
        request_id=event.request_id or "",
        principal=event.principal,
        occur_time=timestamp_out(event.occurred_at),
        payload=payload,
    )
