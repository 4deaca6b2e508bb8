"""The event stream's converters: request validation and stored event -> proto."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from google.protobuf import json_format
from google.protobuf.struct_pb2 import Struct

from q2c.v1 import event_pb2
from q2c_core.adapters.store import StoredEvent
from q2c_core.domain.errors import ValidationError
from q2c_core.edge.converters.convert_events import EVENT_TYPE_NAMES, event_out, subscription_in


def test_event_payload_struct_matches_protobufs_own_conversion() -> None:
    payload = {
        "type": "X",
        "n": 3,
        "ratio": 0.5,
        "ok": True,
        "none": None,
        "empty": {},
        "nested": {"list": [1, "a", None, {"deep": []}, []], "s": "t"},
    }
    event = StoredEvent(
        tenant_id="t",
        stream_id="e",
        seq=1,
        event_type="X",
        payload=payload,
        principal="p",
        correlation_id="c",
        request_id=None,
        occurred_at=datetime(2026, 1, 1, tzinfo=UTC),
        position=7,
    )
    expected = Struct()
    expected.update(payload)
    converted = event_out(event)
    assert converted.payload == expected
    assert json_format.MessageToDict(converted.payload) == {**payload, "n": 3.0}
    assert (converted.event_id, converted.request_id, converted.position) == ("e:1", "", 7)


def test_event_type_names_are_the_domain_event_types() -> None:
    assert len(EVENT_TYPE_NAMES) == len(set(EVENT_TYPE_NAMES)) == 30
    assert EVENT_TYPE_NAMES[-1] == "InvoicePosted"
    assert EVENT_TYPE_NAMES[0] == "EngagementCreated" and "PaymentRecorded" in EVENT_TYPE_NAMES


def test_subscription_in_validates_and_deduplicates() -> None:
    request = event_pb2.SubscribeEventsRequest(
        after_position=5, event_types=["InvoiceIssued", "InvoiceIssued"], engagement_id="e", follow=True
    )
    sub = subscription_in(request)
    assert (sub.after_position, sub.event_types, sub.engagement_id, sub.follow) == (
        5,
        ("InvoiceIssued",),
        "e",
        True,
    )
    assert subscription_in(event_pb2.SubscribeEventsRequest()).engagement_id is None
    with pytest.raises(ValidationError) as raised:
        subscription_in(event_pb2.SubscribeEventsRequest(after_position=-1, event_types=["x"]))
    assert [v.field for v in raised.value.field_violations] == ["after_position", "event_types[0]"]


def test_the_subscribe_request_documents_every_event_type_name() -> None:
    proto = (Path(__file__).parents[2] / "protos" / "q2c" / "v1" / "event.proto").read_text()
    comment = proto.split("message SubscribeEventsRequest", 1)[1].split("repeated string event_types", 1)[0]
    documented = set(re.findall(r"\b[A-Z][A-Za-z]+\b", comment))
    assert set(EVENT_TYPE_NAMES) <= documented, sorted(set(EVENT_TYPE_NAMES) - documented)
