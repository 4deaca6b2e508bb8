"""Shared proto <-> domain pieces: money, dates, timestamps, enums and validation paths."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, TypeVar

import pydantic
from google.type import date_pb2  # type: ignore[import-untyped, unused-ignore]

from q2c.v1 import common_pb2
from q2c_core.domain.entities import BillingModel
from q2c_core.domain.errors import FieldViolation, ValidationError
from q2c_core.domain.limits import MAX_ID_LENGTH, MONEY, DecimalKind, check_decimal
from q2c_core.domain.money import Money, minor_units
from q2c_core.domain.policies import BILLING_MODEL_FIELDS
from q2c_core.edge.converters.wire_decimals import wire_decimal
from q2c_core.edge.converters.wire_limits import TIMESTAMP_SECONDS

M = TypeVar("M", bound=pydantic.BaseModel)
E = TypeVar("E", bound=StrEnum)
Payload = dict[str, Any]
LocHook = Callable[[tuple[int | str, ...]], tuple[int | str, ...]]

_RENAMES = {"currency": "currency_code"}
"""Domain field names that differ from their proto field names."""

_MODEL_TAGS = {model.value: name for model, name in BILLING_MODEL_FIELDS.items()}


ProtoEnum = Any
"""A generated enum class (its Name/Value live on protobuf's EnumTypeWrapper metaclass)."""


class Violations:
    """Collects field violations so one reply names every bad field at once."""

    def __init__(self) -> None:
        self.items: list[FieldViolation] = []

    def add(self, field: str, description: str) -> None:
        """Record one bad field."""
        self.items.append(FieldViolation(field=field, description=description))

    def covers(self, field: str) -> bool:
        """True when a violation already names this field or one of its parents."""
        return any(
            field == v.field or field.startswith(v.field + ".") or field.startswith(v.field + "[")
            for v in self.items
        )

    def raise_if_any(self) -> None:
        """Raise a domain ValidationError when anything was recorded."""
        if self.items:
            raise ValidationError(list(self.items))


def join(prefix: str, name: str) -> str:
    """A dotted proto field path."""
    return f"{prefix}.{name}" if prefix else name


def proto_path(loc: tuple[int | str, ...], prefix: str = "") -> str:
    """Turn a pydantic error location into a proto field path (`entries[3].hours`)."""
    path = prefix
    previous: int | str | None = None
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif previous == "terms" and part in _MODEL_TAGS:
            path = path.removesuffix("terms") + _MODEL_TAGS[part]
        else:
            path = join(path, _RENAMES.get(part, part))
        previous = part
    return path or "request"


def _description(error: Mapping[str, Any]) -> str:
    if error["type"] == "missing" or (error.get("input") is None and error["type"].endswith("_type")):
        return "is required"
    return str(error["msg"]).removeprefix("Value error, ")


def build(
    model: type[M],
    payload: Payload,
    *,
    prefix: str = "",
    bad: Violations | None = None,
    loc_hook: LocHook | None = None,
) -> M:
    """Validate a payload into a domain model; any problem raises one domain ValidationError."""
    bad = bad or Violations()
    try:
        value = model.model_validate(payload)
    except pydantic.ValidationError as exc:
        found = Violations()
        for error in exc.errors():
            loc = loc_hook(error["loc"]) if loc_hook else error["loc"]
            path = proto_path(loc, prefix)
            # a whole-model check restates a problem the converter already named precisely
            if not bad.covers(path) and not (not loc and bad.items):
                found.add(path, _description(error))
        bad.items.extend(found.items)
        bad.raise_if_any()
        raise  # unreachable: pydantic never fails without errors
    bad.raise_if_any()
    return value


def require_id(value: str, path: str, bad: Violations | None = None) -> str:
    """A required resource id: non-empty, at most MAX_ID_LENGTH (128) characters."""
    problem = "is required" if not value else ""
    if len(value) > MAX_ID_LENGTH:
        problem = f"must be at most {MAX_ID_LENGTH} characters"
    if problem:
        if bad is None:
            raise ValidationError.one(path, problem)
        bad.add(path, problem)
    return value


def check_page_size(page_size: int) -> int:
    """Negative page sizes are invalid (0 means the default)."""
    if page_size < 0:
        raise ValidationError.one("page_size", "must not be negative")
    return page_size


def decimal_in(text: str, kind: DecimalKind, path: str, bad: Violations) -> Decimal | None:
    """A wire decimal string through the one strict parser; a bad one becomes a violation."""
    try:
        return wire_decimal(text, kind)  # parsed already by the bound check: a lookup
    except ValueError as exc:
        if not bad.covers(path):
            bad.add(path, str(exc))
        return None


def money_payload(parent: Any, field: str, path: str, bad: Violations) -> Payload | None:
    """A Money submessage as a domain payload (amount strictly parsed), or None when unset."""
    if not parent.HasField(field):
        return None
    money: common_pb2.Money = getattr(parent, field)
    amount = decimal_in(money.amount, MONEY, f"{path}.amount", bad)
    return {"currency": money.currency_code, "amount": amount}


def decimal_out(value: Decimal) -> str:
    """An exact decimal string: plain notation, never an exponent ("1E+3" -> "1000").

    The value is checked against the domain's bounds first, so a huge exponent can never be
    expanded into a reply of gigabytes (it raises instead of allocating).
    """
    return f"{check_decimal(value):f}"


def money_out(value: Money | None) -> common_pb2.Money | None:
    """Domain money on the wire (the amount as an exact decimal string, full precision)."""
    if value is None:
        return None
    return common_pb2.Money(currency_code=value.currency, amount=decimal_out(value.amount))


def amount_out(value: Money) -> common_pb2.Money:
    """Billed money on the wire, padded (never rounded) to the currency's minor unit: "0.00"."""
    amount = value.amount
    quantum = Decimal(1).scaleb(-minor_units(value.currency))
    if amount.as_tuple().exponent > quantum.as_tuple().exponent:  # type: ignore[operator]
        amount = amount.quantize(quantum)  # exact: only adds trailing zeros
    return common_pb2.Money(currency_code=value.currency, amount=decimal_out(amount))


def date_in(parent: Any, field: str, path: str, bad: Violations) -> date | None:
    """A google.type.Date field as a date; unset or all-zero is None, impossible dates violate."""
    if not parent.HasField(field):
        return None
    value: date_pb2.Date = getattr(parent, field)
    if value.year == value.month == value.day == 0:
        return None
    try:
        return date(value.year, value.month, value.day)
    except ValueError:
        bad.add(path, f"{value.year:04d}-{value.month:02d}-{value.day:02d} is not a calendar date")
        return None


def date_out(value: date | None) -> dict[str, int] | None:
    """A date as the fields of a google.type.Date, for a message constructor (None stays unset):
    upb builds the submessage from them, several times cheaper than a Date made and copied."""
    if value is None:
        return None
    return {"year": value.year, "month": value.month, "day": value.day}


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NAIVE_EPOCH = datetime(1970, 1, 1)


def timestamp_out(value: datetime | None) -> dict[str, int] | None:
    """A datetime as the fields of a Timestamp, for a message constructor (naive values are
    taken as UTC; None stays unset): exact integer arithmetic, what Timestamp.FromDatetime gives."""
    if value is None:
        return None
    delta = value - (_NAIVE_EPOCH if value.utcoffset() is None else _EPOCH)
    seconds = delta.days * 86400 + delta.seconds
    if not TIMESTAMP_SECONDS[0] <= seconds <= TIMESTAMP_SECONDS[1]:
        raise ValueError(f"{value.isoformat()} is outside the Timestamp range")
    return {"seconds": seconds, "nanos": delta.microseconds * 1000}


_ENUM_NUMBERS: dict[tuple[ProtoEnum, str, StrEnum], int] = {}
"""Proto numbers of domain enum members, looked up once (domain enums are small and fixed)."""


def enum_out(wrapper: ProtoEnum, prefix: str, value: StrEnum | None) -> Any:
    """A domain enum as its proto number (`prefix + value`); None is UNSPECIFIED (0)."""
    if value is None:
        return 0
    key = (wrapper, prefix, value)
    number = _ENUM_NUMBERS.get(key)
    if number is None:
        number = _ENUM_NUMBERS[key] = wrapper.Value(prefix + value.value)
    return number


def view_is_basic(view: int, basic: int, full: int) -> bool:
    """Whether a request's `view` (AIP-157: an EngagementView or InvoiceView number) asks for
    BASIC; UNSPECIFIED (0) and `full` mean the whole resource; unknown values are a field
    violation on `view`."""
    if view == basic:
        return True
    if view in (0, full):
        return False
    raise ValidationError.one("view", f"unknown enum value {view}")


def enum_in(wrapper: ProtoEnum, prefix: str, number: int, domain: type[E], path: str) -> E | None:
    """A proto enum number as a domain enum; UNSPECIFIED is None, unknown numbers violate."""
    if number == 0:
        return None
    try:
        return domain(wrapper.Name(number).removeprefix(prefix))
    except ValueError:
        raise ValidationError.one(path, f"unknown enum value {number}") from None


def required_enum(wrapper: ProtoEnum, prefix: str, number: int, domain: type[E], path: str) -> E:
    """Like enum_in, but UNSPECIFIED is a field violation."""
    value = enum_in(wrapper, prefix, number, domain, path)
    if value is None:
        raise ValidationError.one(path, "is required")
    return value


def billing_model_name(model: BillingModel) -> str:
    """The oneof field name of a billing model's terms."""
    return BILLING_MODEL_FIELDS[model]
