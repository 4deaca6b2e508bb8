"""Seeded random protobuf messages, built field by field from their descriptors, and mutations.

The black-box fuzzer draws every request from one `random.Random`, so a run is reproduced by
its seed. `RandomMessages.build` fills any message with hostile and boundary values for each
field's kind; `mutate` breaks exactly one field of an otherwise valid request.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message
from google.protobuf.message_factory import GetMessageClass

from tests.fuzz import values as v

F = FieldDescriptor
INT_TYPES = {F.TYPE_INT32: v.INT32S, F.TYPE_SINT32: v.INT32S, F.TYPE_INT64: v.INT64S, F.TYPE_SINT64: v.INT64S}
CURRENCIES = ("USD", "EUR", "JPY", "BHD", "GBP", "XXX", "usd", "US", "USDD", "")
MAX_DEPTH = 5
LARGE_REPEAT = 100
MAX_REQUEST_BYTES = 6_000_000
"""Above the server's default 4 MiB receive limit, so that bound is exercised, but never huge."""


class RandomMessages:
    """Random requests whose id fields mostly name real, seeded entities."""

    def __init__(self, rng: random.Random, ids: Mapping[str, Sequence[str]], request_ids: list[str]) -> None:
        self.rng = rng
        self.ids = ids
        self.request_ids = request_ids  # earlier request ids, replayed to probe idempotency

    # -- whole messages -------------------------------------------------------------------

    def build(self, descriptor: Descriptor, depth: int = 0, small: bool = False) -> Message:
        """A message with a random subset of its fields set to random values."""
        message = GetMessageClass(descriptor)()
        if depth > MAX_DEPTH:
            return message
        for field in descriptor.fields:
            if self.rng.random() < 0.6:
                self.fill(message, field, depth, small)
        return message if message.ByteSize() <= MAX_REQUEST_BYTES else GetMessageClass(descriptor)()

    def mutate(self, message: Message) -> str:
        """Break one field somewhere in `message` (in place); returns its path."""
        target, path = message, ""
        for _ in range(MAX_DEPTH):
            if not target.DESCRIPTOR.fields:
                return "(no fields)"
            field = self.rng.choice(target.DESCRIPTOR.fields)
            child = self._descend(target, field)
            if child is None:
                self._break(target, field)
                return f"{path}{field.name}"
            target, segment = child
            path = f"{path}{segment}."
        return path.rstrip(".") or "request"

    # -- one field ------------------------------------------------------------------------

    def fill(self, message: Message, field: FieldDescriptor, depth: int, small: bool) -> None:
        """Set `field` of `message` to a random value (a random list when repeated)."""
        if field.is_repeated:
            size = self._size(small)
            container = getattr(message, field.name)
            if field.type == F.TYPE_MESSAGE:
                for _ in range(size):
                    container.add().CopyFrom(self.build(field.message_type, depth + 1, small or size > 10))
            else:
                container.extend(self.scalar(field, small or size > 10) for _ in range(size))
        elif field.type == F.TYPE_MESSAGE:
            getattr(message, field.name).CopyFrom(self.submessage(field, depth, small))
        else:
            setattr(message, field.name, self.scalar(field, small))

    def submessage(self, field: FieldDescriptor, depth: int, small: bool) -> Message:
        """A value for a message-typed field (well-known types get their own hostile values)."""
        kind = field.message_type
        cls = GetMessageClass(kind)
        if kind.full_name == "google.type.Date":
            year, month, day = self.rng.choice(v.DATES)
            return cls(year=year, month=month, day=day)
        if kind.full_name in ("google.protobuf.Timestamp", "google.protobuf.Duration"):
            return cls(seconds=self.rng.choice(v.TIMESTAMP_SECONDS), nanos=self.rng.choice(v.NANOS))
        if kind.full_name == "google.protobuf.FieldMask":
            names = [f.name for f in field.containing_type.fields]
            pool = [*names, "customer.display_name", "tax_profile.rate", "", "*", "nope", "etag"]
            return cls(paths=[self.rng.choice(pool) for _ in range(self.rng.choice((0, 1, 2, 3, 20)))])
        return self.build(kind, depth + 1, small)

    def scalar(self, field: FieldDescriptor, small: bool = False) -> Any:
        """A hostile or boundary value of the field's scalar kind."""
        rng = self.rng
        if field.type == F.TYPE_STRING:
            return self.string(field.name, small)
        if field.type == F.TYPE_BOOL:
            return rng.random() < 0.5
        if field.type == F.TYPE_ENUM:
            known = [value.number for value in field.enum_type.values]
            return rng.choice(known) if rng.random() < 0.7 else rng.choice(v.UNKNOWN_ENUMS)
        if field.type in INT_TYPES:
            return rng.choice(INT_TYPES[field.type]) if rng.random() < 0.8 else rng.randint(-1000, 1000)
        if field.type == F.TYPE_BYTES:
            return rng.randbytes(rng.choice((0, 1, 16, 1024)))
        raise NotImplementedError(f"no values for {field.full_name} (type {field.type})")

    def string(self, name: str, small: bool) -> str:
        """A string for a field of this name: real ids, decimals, currencies, or garbage."""
        rng = self.rng
        roll = rng.random()
        if name == "request_id":
            return self.request_id()
        if v.is_id_field(name) and roll < 0.7:
            return self.real_id(name)
        if v.is_decimal_field(name) and roll < 0.8:
            return rng.choice(v.DECIMALS)
        if name.endswith("currency_code") or name == "billing_currency":
            return rng.choice(CURRENCIES) if roll < 0.8 else rng.choice(v.STRINGS)
        if roll < 0.25:
            return self.garbage(rng.choice((1, 5, 30, 200)))
        choice = rng.choice(v.STRINGS)
        return choice[:200] if small else choice

    def request_id(self) -> str:
        """Mostly fresh; sometimes empty, replayed from an earlier call, or garbage."""
        roll = self.rng.random()
        if roll < 0.08 or not self.request_ids:
            return self.rng.choice(("", "x" * 129, "\x00", " ", "x" * 10_000)) if roll < 0.04 else ""
        if roll < 0.2:
            return self.rng.choice(self.request_ids)
        fresh = uuid.UUID(int=self.rng.getrandbits(128)).hex
        self.request_ids.append(fresh)
        return fresh

    def real_id(self, name: str) -> str:
        """A seeded id for this field name (any seeded id when the name is not known)."""
        pool = self.ids.get(name.removesuffix("s")) or self.ids.get(name) or self.ids.get("*") or ("",)
        return self.rng.choice(list(pool))

    def garbage(self, length: int) -> str:
        """Random unicode (no lone surrogates, which protobuf cannot encode)."""
        ranges = ((0x00, 0x7F), (0x80, 0x7FF), (0x800, 0xD7FF), (0xE000, 0xFFFF), (0x10000, 0x10FFFF))
        out = []
        for _ in range(length):
            low, high = self.rng.choice(ranges)
            out.append(chr(self.rng.randint(low, high)))
        return "".join(out)

    # -- mutation helpers -----------------------------------------------------------------

    def _descend(self, message: Message, field: FieldDescriptor) -> tuple[Message, str] | None:
        """A set submessage to break something inside, or None to break this field itself."""
        if field.type != F.TYPE_MESSAGE or field.message_type.full_name.startswith("google."):
            return None
        if self.rng.random() < 0.3:
            return None
        if field.is_repeated:
            items = getattr(message, field.name)
            if not items:
                return None
            index = self.rng.randrange(len(items))
            return items[index], f"{field.name}[{index}]"
        if not message.HasField(field.name):
            return None
        return getattr(message, field.name), field.name

    def _break(self, message: Message, field: FieldDescriptor) -> None:
        """Replace one field: cleared, duplicated, oversized, or a hostile value of its kind."""
        roll = self.rng.random()
        if roll < 0.1:
            message.ClearField(field.name)
            return
        if field.is_repeated:
            items = getattr(message, field.name)
            if roll < 0.35 and len(items) > 0:
                items.append(items[0])  # a duplicate id / entry in one request
                return
            message.ClearField(field.name)
        self.fill(message, field, 0, small=False)

    def _size(self, small: bool) -> int:
        """A repeated-field length: mostly short, sometimes large."""
        if small or self.rng.random() < 0.9:
            return self.rng.choice((0, 1, 1, 2, 3, 5))
        return self.rng.choice([n for n in v.REPEATED_SIZES if n >= 10])
