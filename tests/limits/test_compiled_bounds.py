"""The compiled bounds check decides exactly as the walk that names violations.

`check_request` first asks `within_bounds` (a plan compiled once per message type) and walks the
request again only to name what it refused; so for every field reachable from every RPC's
request, at its bound, past it, with control characters, hostile decimals and empty required
decimals, the two must agree.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from google.protobuf.descriptor import FieldDescriptor  # type: ignore[import-untyped]
from hypothesis import given
from hypothesis import strategies as st

from q2c.v1 import common_pb2, engagement_pb2
from q2c_core.domain import limits as lim
from q2c_core.domain.errors import ValidationError
from q2c_core.edge.converters import wire_limits
from q2c_core.edge.converters.wire_limits import (
    DECIMAL_FIELDS,
    INTEGER_LIMITS,
    REPEATED_LIMITS,
    check_request,
    string_limit,
    within_bounds,
)
from tests.unit.wire_fields import FieldPath, message_class, request_fields

DECIMALS = ["", "0", "1.5", "-1", "1E5", "NaN", "9" * 20, " 1", "1.1234567", "\u0661"]


def _named(message: Any) -> bool:
    """True when the naming walk finds nothing (the reference)."""
    return next(wire_limits._violations(message, ""), None) is None


def _parent(message: Any, path: str) -> tuple[Any, str]:
    """The message holding the path's last field (parents and first repeated items created)."""
    *parents, last = path.split(".")
    for part in parents:
        name, _, index = part.partition("[")
        child = getattr(message, name)
        message = (child[0] if len(child) else child.add()) if index else child
        message.SetInParent()
    return message, last


def _values(field: FieldDescriptor) -> list[Any]:
    if field.full_name in DECIMAL_FIELDS:
        return DECIMALS
    if field.full_name in INTEGER_LIMITS:
        low, high = INTEGER_LIMITS[field.full_name]
        return [low, high, low - 1, high + 1]
    if field.type == FieldDescriptor.TYPE_STRING:
        limit = string_limit(field) or lim.MAX_TEXT_LENGTH
        return ["x" * limit, "x" * (limit + 1), "é" * limit, "a\x00b", "a\tb\n", "a\x7f"]
    if field.type == FieldDescriptor.TYPE_BYTES:
        return [b"x" * lim.MAX_TEXT_LENGTH, b"x" * (lim.MAX_TEXT_LENGTH + 1)]
    return []


def _cases(where: FieldPath) -> Iterator[Any]:
    field, cls = where.field, message_class(where.request)
    path = where.path
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        message = cls()
        parent, last = _parent(message, path)
        holder = getattr(parent, last)
        if field.is_repeated:
            limit = REPEATED_LIMITS.get(field.full_name, lim.MAX_BATCH)
            for count in (1, limit, limit + 1):
                message = cls()
                parent, last = _parent(message, path)
                for _ in range(count):
                    getattr(parent, last).add()
                yield message
        else:
            holder.SetInParent()  # present and empty: a required decimal inside is missing
            yield message
            if field.message_type.full_name == "google.protobuf.Timestamp":
                for seconds, nanos in ((0, 0), (-62135596801, 0), (253402300800, 0), (0, -1), (0, 10**9)):
                    message = cls()
                    parent, last = _parent(message, path)
                    stamp = getattr(parent, last)
                    stamp.seconds, stamp.nanos = seconds, nanos
                    yield message
        return
    for value in _values(field):
        message = cls()
        parent, last = _parent(message, path)
        if field.is_repeated:
            limit = REPEATED_LIMITS.get(field.full_name, lim.MAX_BATCH)
            for count in (1, limit + 1):
                message = cls()
                parent, last = _parent(message, path)
                getattr(parent, last).extend([value] * count)
                yield message
        else:
            setattr(parent, last, value)
            yield message


FIELDS = {f"{f.rpc}:{f.path}": f for f in request_fields()}


@pytest.mark.parametrize("name", sorted(FIELDS))
def test_the_compiled_check_agrees_with_the_naming_walk_on_every_request_field(name: str) -> None:
    cases = list(_cases(FIELDS[name]))
    for message in cases:
        assert within_bounds(message) == _named(message), (name, message)


def test_the_corpus_holds_requests_refused_and_requests_accepted() -> None:
    verdicts = {within_bounds(message) for where in FIELDS.values() for message in _cases(where)}
    assert verdicts == {True, False}


@given(
    hours=st.text(max_size=30),
    person=st.text(max_size=300),
    entries=st.integers(min_value=0, max_value=3),
    request_id=st.text(max_size=140),
)
def test_random_time_entries_are_decided_alike(
    hours: str, person: str, entries: int, request_id: str
) -> None:
    entry = engagement_pb2.TimeEntryInput(hours=hours, person=person)
    request = engagement_pb2.SubmitTimeEntriesRequest(request_id=request_id, entries=[entry] * entries)
    assert within_bounds(request) == _named(request)


def test_a_refused_request_still_names_every_bad_field() -> None:
    request = engagement_pb2.SubmitExpensesRequest(
        request_id="r\x00",
        expenses=[
            engagement_pb2.ExpenseInput(amount=common_pb2.Money(currency_code="USD")),
            engagement_pb2.ExpenseInput(amount=common_pb2.Money(amount="1E5", currency_code="USD")),
        ],
    )
    with pytest.raises(ValidationError) as refused:
        check_request(request)
    named = [violation.field for violation in refused.value.field_violations]
    assert named == ["request_id", "expenses[0].amount.amount", "expenses[1].amount.amount"]
