"""Canonical JSON text (sorted keys, no whitespace, non-ASCII as is), encoded once per value.

A value that several records carry was encoded once per record: a generated invoice in its
event, its read-model row, the idempotency reply and the audit chain's events digest. A
`JsonText` is the JSON-able dict itself that also encodes, once and lazily, to its canonical
text, splicing in the texts of the JsonText values it holds (so an invoice's text is made once
and reused by every dict that contains it). The audit chain hashes that text (it must be exactly
the canonical form, see `canonical_text`); a store may write it for the dict (any JSON text of
the value would do there: a reader parses it back into the same value).

A JsonText must not be changed once made (it is built from values already final): its text
would no longer describe it.
"""

from __future__ import annotations

from collections.abc import Callable
from json import encoder as _json_encoder
from json.encoder import JSONEncoder, encode_basestring, encode_basestring_ascii
from typing import Any


def _unencodable(value: Any) -> Any:
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def compact_encoder(*, sort_keys: bool, ensure_ascii: bool = False) -> Callable[[Any], str]:
    """`json.dumps(value, sort_keys=sort_keys, separators=(",", ":"), ensure_ascii=ensure_ascii)`.

    json.dumps with any argument builds a new encoder for every call, which costs more than
    encoding a small value; this one is built once (the C encoder, without json's check for
    circular references: the values encoded here come from model dumps and never hold one).
    """
    make = getattr(_json_encoder, "c_make_encoder", None)  # untyped: json's C accelerator
    if make is None:  # pragma: no cover - CPython always has it
        return JSONEncoder(sort_keys=sort_keys, separators=(",", ":"), ensure_ascii=ensure_ascii).encode
    escape = encode_basestring_ascii if ensure_ascii else encode_basestring
    chunks = make(None, _unencodable, escape, None, ":", ",", sort_keys, False, True)

    def encode(value: Any) -> str:
        return "".join(chunks(value, 0))

    return encode


_encode = compact_encoder(sort_keys=True)
_encode_compact = compact_encoder(sort_keys=False)


def canonical_text(value: Any) -> str:
    """The canonical JSON text of a JSON-able value: `json.dumps(value, sort_keys=True,
    separators=(",", ":"), ensure_ascii=False)`, reusing the texts of JsonText values it holds
    at its top level (or itself)."""
    if type(value) is JsonText:
        return value.text
    if type(value) is dict and any(type(v) is JsonText for v in value.values()):
        return _spliced(value)
    return _encode(value)


def _spliced(value: dict[str, Any]) -> str:
    """A dict's canonical text from its values' (keys are strings, as JSON objects have)."""
    parts = [f"{encode_basestring(key)}:{canonical_text(value[key])}" for key in sorted(value)]
    return "{" + ",".join(parts) + "}"


class JsonText(dict[str, Any]):
    """A JSON-able dict that encodes to its canonical text once (see the module docstring)."""

    __slots__ = ("_text",)
    _text: str

    @property
    def text(self) -> str:
        """The canonical JSON text of this dict (encoded on first use, then kept)."""
        try:
            return self._text
        except AttributeError:
            pass
        text = _spliced(self) if any(type(v) is JsonText for v in self.values()) else _encode(self)
        self._text = text
        return text


def stored_json(value: Any) -> str:
    """Compact JSON for a store's JSON column: a JsonText's canonical text as it is, anything
    else encoded as the store always has (insertion order, compact, non-ASCII as is)."""
    if type(value) is JsonText:
        return value.text
    return _encode_compact(value)
