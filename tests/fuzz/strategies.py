"""Hypothesis strategies for any q2c.v1 request message, built field by field from `DESCRIPTOR`.

`requests(descriptor)` draws a message whose fields are each either unset or a hostile or
boundary value of their kind: ids, garbage unicode, very long strings, decimal-looking strings
(`1E5`, `NaN`, `Infinity`, `-0`, 40-digit numbers, whitespace), integers at the int32/int64
bounds, unknown enum numbers, impossible dates, nested messages and long repeated fields.
"""

from __future__ import annotations

import functools
from typing import Any

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message
from google.protobuf.message_factory import GetMessageClass
from hypothesis import strategies as st

from tests.fuzz import values as v

F = FieldDescriptor
MAX_DEPTH = 4
LONG_LIST_BYTES = 200_000
CURRENCIES = st.sampled_from(("USD", "EUR", "JPY", "BHD", "XXX", "usd", "", "US$"))
SEED_IDS = st.sampled_from(("eng-1", "cust-1", "rc-1", "inv-1", "T1", "TM-1", "M1", "x" * 128, "x" * 129))

text = st.text(
    alphabet=st.characters(exclude_categories=("Cs",)),  # lone surrogates cannot be encoded
    max_size=40,
)
strings = st.one_of(st.sampled_from(v.STRINGS), text)
decimals = st.one_of(
    st.sampled_from(v.DECIMALS),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.from_regex(r"-?[0-9]{1,45}(\.[0-9]{0,45})?([eE][+-]?[0-9]{1,4})?", fullmatch=True),
    text,
)
int32s = st.one_of(st.sampled_from(v.INT32S), st.integers(v.INT32_MIN, v.INT32_MAX))
int64s = st.one_of(st.sampled_from(v.INT64S), st.integers(v.INT64_MIN, v.INT64_MAX))
dates = st.one_of(
    st.sampled_from(v.DATES),
    st.tuples(st.integers(-1, 10_001), st.integers(-1, 13), st.integers(-1, 32)),
)


def string_values(name: str) -> st.SearchStrategy[str]:
    """Values for a string field, chosen by what its name says it holds."""
    if v.is_decimal_field(name):
        return decimals
    if v.is_id_field(name) or name == "request_id":
        return st.one_of(SEED_IDS, strings)
    if name.endswith("currency_code") or name == "billing_currency":
        return st.one_of(CURRENCIES, strings)
    return strings


def enum_values(field: FieldDescriptor) -> st.SearchStrategy[int]:
    """Known numbers of the enum and unknown ones (negative, large, out of range)."""
    known = [value.number for value in field.enum_type.values]
    return st.one_of(st.sampled_from(known), st.sampled_from(v.UNKNOWN_ENUMS), int32s)


def scalar_values(field: FieldDescriptor) -> st.SearchStrategy[Any]:
    """A strategy for one value of a non-message field."""
    kinds: dict[int, st.SearchStrategy[Any]] = {
        F.TYPE_BOOL: st.booleans(),
        F.TYPE_INT32: int32s,
        F.TYPE_SINT32: int32s,
        F.TYPE_INT64: int64s,
        F.TYPE_SINT64: int64s,
        F.TYPE_BYTES: st.binary(max_size=64),
    }
    if field.type == F.TYPE_STRING:
        return string_values(field.name)
    if field.type == F.TYPE_ENUM:
        return enum_values(field)
    return kinds[field.type]


def well_known(field: FieldDescriptor) -> st.SearchStrategy[Message] | None:
    """Strategies for google.type / google.protobuf messages, or None for q2c messages."""
    kind = field.message_type
    cls = GetMessageClass(kind)
    if kind.full_name == "google.type.Date":
        return dates.map(lambda ymd: cls(year=ymd[0], month=ymd[1], day=ymd[2]))
    if kind.full_name in ("google.protobuf.Timestamp", "google.protobuf.Duration"):
        seconds = st.one_of(st.sampled_from(v.TIMESTAMP_SECONDS), int64s)
        nanos = st.one_of(st.sampled_from(v.NANOS), int32s)
        return st.builds(cls, seconds=seconds, nanos=nanos)
    if kind.full_name == "google.protobuf.FieldMask":
        names = [f.name for f in field.containing_type.fields] + ["customer.display_name", "*", "", "nope"]
        paths = st.lists(st.one_of(st.sampled_from(names), text), max_size=5)
        return paths.map(lambda p: cls(paths=p))
    return None


def field_values(field: FieldDescriptor, depth: int) -> st.SearchStrategy[Any]:
    """A strategy for the whole field: one value, or a list when repeated."""
    if field.type == F.TYPE_MESSAGE:
        known = well_known(field)
        one = known if known is not None else requests(field.message_type, depth + 1)
    else:
        one = scalar_values(field)
    if not field.is_repeated:
        return one
    # a long list of one drawn element: its size is what is being probed, not variety
    long_list = st.tuples(one, st.integers(100, 2000)).map(lambda pair: _repeat(*pair))
    return st.one_of(st.lists(one, max_size=4), long_list)


@functools.cache
def requests(descriptor: Descriptor, depth: int = 0) -> st.SearchStrategy[Message]:
    """Messages of `descriptor`: each field unset or a hostile/boundary value of its kind."""
    cls = GetMessageClass(descriptor)
    if depth > MAX_DEPTH:
        return st.just(cls())
    optional = {field.name: field_values(field, depth) for field in descriptor.fields}
    return st.fixed_dictionaries({}, optional=optional).map(lambda kwargs: _build(cls, kwargs))


def _repeat(item: Any, times: int) -> list[Any]:
    """`times` copies of one item, fewer when that would pass LONG_LIST_BYTES."""
    size = item.ByteSize() if isinstance(item, Message) else len(str(item))
    return [item] * max(1, min(times, LONG_LIST_BYTES // max(size, 1)))


def _build(cls: type[Message], kwargs: dict[str, Any]) -> Message:
    """Construct a message; oneof members set together keep only the last, as on the wire."""
    message = cls()
    for name, value in kwargs.items():
        field = message.DESCRIPTOR.fields_by_name[name]
        if field.is_repeated:
            target = getattr(message, name)
            if field.type == F.TYPE_MESSAGE:
                for item in value:
                    target.add().CopyFrom(item)
            else:
                target.extend(value)
        elif field.type == F.TYPE_MESSAGE:
            getattr(message, name).CopyFrom(value)
        else:
            setattr(message, name, value)
    return message
