"""Canonical JSON encoded once: the same text, digests and times as encoding each value anew.

The oracles are the encodings the audit chain used before texts were reused (json.dumps over
the whole value, strftime): existing chains must still verify, so these must stay byte-identical.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from q2c_core.app.audit.canonical_json import JsonText, canonical_text, stored_json
from q2c_core.app.audit.chain import canonical, canonical_event, events_digest, format_utc
from q2c_core.app.records import AuditEntry, EventRecord


def _oracle(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _oracle_utc(value: datetime) -> str:
    aware = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return aware.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


text = st.text(alphabet=st.characters(codec="utf-8"), max_size=12)
scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | text
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4),
    max_leaves=20,
)
objects = st.dictionaries(text, json_values, max_size=5)
times = st.datetimes(
    min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.none() | st.just(UTC)
) | st.datetimes(timezones=st.just(timezone(timedelta(hours=-5))), min_value=datetime(2, 1, 1))


def _with_texts(value: dict[str, Any], nest: bool) -> JsonText:
    """`value` as a JsonText whose dict values are JsonTexts too (when `nest`)."""
    return JsonText({k: JsonText(v) if nest and type(v) is dict else v for k, v in value.items()})


@given(objects, st.booleans())
def test_a_json_text_is_the_canonical_encoding_of_its_dict(value: dict[str, Any], nest: bool) -> None:
    wrapped = _with_texts(value, nest)
    assert wrapped == value
    assert wrapped.text.encode() == _oracle(value)
    assert canonical_text(wrapped) == wrapped.text
    assert canonical_text(dict(wrapped)).encode() == _oracle(value)  # JsonText values spliced
    assert json.loads(stored_json(wrapped)) == value


@given(json_values)
def test_stored_json_of_a_plain_value_is_the_compact_encoding(value: Any) -> None:
    assert stored_json(value) == json.dumps(value, separators=(",", ":"), ensure_ascii=False)


@given(times)
def test_format_utc_matches_strftime(value: datetime) -> None:
    assert format_utc(value) == _oracle_utc(value)
    assert format_utc(value) == _oracle_utc(value)  # the remembered one


def _event(seq: int, payload: dict[str, Any], who: str, request_id: str | None, at: datetime) -> EventRecord:
    return EventRecord(
        tenant_id=who[::-1],
        stream_id=f"e-{who}",
        seq=seq,
        event_type="Something" + who[:3],
        payload=payload,
        principal=who,
        correlation_id=who * 2,
        request_id=request_id,
        occurred_at=at,
    )


@settings(max_examples=200)
@given(
    st.lists(st.tuples(objects, st.booleans(), text, st.none() | text, times), min_size=1, max_size=4),
    st.lists(st.integers(0, 5), max_size=6),
)
def test_events_digest_is_unchanged_by_reused_payload_texts(
    specs: list[tuple[dict[str, Any], bool, str, str | None, datetime]], picks: list[int]
) -> None:
    plain = [_event(n + 1, p, who, rid, at) for n, (p, _, who, rid, at) in enumerate(specs)]
    texts = [
        _event(n + 1, _with_texts(p, nest), who, rid, at) for n, (p, nest, who, rid, at) in enumerate(specs)
    ]
    ids = [f"{plain[i].stream_id}:{i + 1}" if i < len(plain) else f"absent:{i}" for i in picks]
    by_id = {e.event_id: e for e in plain}
    expected = hashlib.sha256(
        _oracle([canonical_event(by_id[i]) if i in by_id else None for i in ids])
    ).hexdigest()
    assert events_digest(ids, by_id) == expected
    assert events_digest(ids, {e.event_id: e for e in texts}) == expected


@given(text, st.none() | text, st.lists(text, max_size=3), st.none() | text, times, st.integers(1, 10**6))
def test_the_canonical_audit_record_is_unchanged(
    who: str, reason: str | None, event_ids: list[str], comment: str | None, at: datetime, seq: int
) -> None:
    entry = AuditEntry(
        tenant_id=who,
        stream_id=who[::-1],
        principal=who * 2,
        command_type="Cmd" + who,
        request_id=reason,
        correlation_id=who + "c",
        payload_digest="ab" * 32,
        outcome="REJECTED" if reason else "ACCEPTED",
        rejection_reason=reason,
        comment=comment,
        event_ids=tuple(event_ids),
        recorded_at=at,
    )
    fields: dict[str, Any] = {
        "tenant_id": entry.tenant_id,
        "stream_id": entry.stream_id,
        "seq": seq,
        "principal": entry.principal,
        "command_type": entry.command_type,
        "request_id": entry.request_id,
        "correlation_id": entry.correlation_id,
        "payload_digest": entry.payload_digest,
        "outcome": entry.outcome,
        "rejection_reason": entry.rejection_reason,
        "comment": entry.comment,
        "event_ids": list(entry.event_ids),
        "recorded_at": _oracle_utc(entry.recorded_at),
    }
    assert canonical(entry, seq) == _oracle(fields)
    version_2 = {**fields, "chain_version": 2, "events_digest": "cd" * 32}
    assert canonical(entry, seq, "cd" * 32) == _oracle(version_2)


def test_a_value_json_cannot_encode_is_refused_as_json_refuses_it() -> None:
    with pytest.raises(TypeError, match="Decimal is not JSON serializable"):
        canonical_text({"amount": Decimal("1.5")})
    with pytest.raises(TypeError, match="Decimal is not JSON serializable"):
        stored_json([Decimal(1)])
