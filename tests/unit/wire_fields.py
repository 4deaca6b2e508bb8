"""Request fields found from the proto descriptors: the decimal, string and repeated ones.

The rule that makes a new field impossible to miss: walk the request type of every RPC of every
q2c.v1 service (and every message type reachable from it), and read each field's leading
comment from protoc's source info (the same comments docs/api.md is rendered from). A string
field is a *decimal field* when its comment calls it a decimal ("Decimal string", "as a decimal
string"), which the API rules require of every decimal on the wire (API_RULES.md rule 6).
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from google.protobuf.descriptor import Descriptor, FieldDescriptor  # type: ignore[import-untyped]

ROOT = Path(__file__).resolve().parents[2]
PROTOS = ROOT / "protos"
DECIMAL_NAME_HINTS = ("amount", "rate", "hours", "percent", "quantity", "price", "cost", "markup")
"""String fields named like this must be registered decimals, or their comment must say why not."""


@functools.cache
def _gen_api_docs() -> ModuleType:
    script = ROOT / "scripts" / "gen_api_docs.py"
    spec = importlib.util.spec_from_file_location("gen_api_docs", script)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("gen_api_docs", module)
    spec.loader.exec_module(module)
    return module


@functools.cache
def field_comments() -> dict[str, str]:
    """Leading comment of every q2c.v1 field, by full name ("q2c.v1.Money.amount")."""
    docs = _gen_api_docs()
    api = docs.load_api(docs.build_descriptor_set(docs.PROTO_ROOT, docs.gen_protos.proto_files()))
    return {f"{name}.{f.name}": f.comment for name, message in api.messages.items() for f in message.fields}


def request_types() -> list[tuple[str, Descriptor]]:
    """(full RPC name, request descriptor) of every q2c.v1 RPC."""
    found = []
    for proto in sorted((PROTOS / "q2c" / "v1").glob("*.proto")):
        module = importlib.import_module(f"q2c.v1.{proto.stem}_pb2")
        for service in module.DESCRIPTOR.services_by_name.values():
            found += [(f"{service.full_name}.{m.name}", m.input_type) for m in service.methods]
    return found


@dataclass(frozen=True)
class FieldPath:
    """A field reachable from an RPC's request, and the proto path to it (repeated -> [0])."""

    rpc: str
    request: Descriptor
    path: str
    field: FieldDescriptor


def _walk(
    descriptor: Descriptor, prefix: str, seen: tuple[str, ...]
) -> Iterator[tuple[str, FieldDescriptor]]:
    for field in descriptor.fields:
        path = f"{prefix}.{field.name}" if prefix else field.name
        yield path, field
        nested = field.message_type if field.type == FieldDescriptor.TYPE_MESSAGE else None
        if nested is not None and nested.full_name.startswith("q2c.") and nested.full_name not in seen:
            yield from _walk(nested, path + ("[0]" if field.is_repeated else ""), (*seen, nested.full_name))


def request_fields() -> list[FieldPath]:
    """Every field reachable from every RPC request, with its path."""
    return [
        FieldPath(rpc, request, path, field)
        for rpc, request in request_types()
        for path, field in _walk(request, "", (request.full_name,))
    ]


def is_string(field: FieldDescriptor) -> bool:
    """A string (or repeated string) field."""
    return bool(field.type == FieldDescriptor.TYPE_STRING)


def documented_decimals() -> set[str]:
    """Full names of the request string fields whose comment calls them decimals."""
    comments = field_comments()
    return {
        f.field.full_name
        for f in request_fields()
        if is_string(f.field) and "decimal" in comments.get(f.field.full_name, "").lower()
    }


def set_path(message: Any, path: str, value: Any) -> None:
    """Set `a.b[0].c` on a message, creating parents (and the first repeated item) on the way."""
    *parents, last = path.split(".")
    for part in parents:
        name, _, index = part.partition("[")
        child = getattr(message, name)
        message = (child[0] if len(child) else child.add()) if index else child
    getattr(message, "SetInParent", lambda: None)()
    setattr(message, last, value)


def message_class(descriptor: Descriptor) -> Any:
    """The generated class of a descriptor."""
    from google.protobuf import message_factory  # type: ignore[import-untyped]

    return message_factory.GetMessageClass(descriptor)
