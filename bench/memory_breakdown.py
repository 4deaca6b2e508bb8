"""Deep `sys.getsizeof` of a pydantic state, by top-level field (each object counted once)."""

from __future__ import annotations

import enum
import sys
from typing import Any

from pydantic import BaseModel

_SHARED = (type, enum.Enum, bool, type(None))


def _children(value: Any) -> list[Any]:
    if isinstance(value, BaseModel):
        slots = ("__dict__", "__pydantic_fields_set__", "__pydantic_extra__", "__pydantic_private__")
        return [getattr(value, name, None) for name in slots]
    if isinstance(value, dict):
        return [*value.keys(), *value.values()]
    if isinstance(value, list | tuple | set | frozenset):
        return list(value)
    return []


def deep_size(value: Any, seen: set[int]) -> int:
    """Bytes of `value` and everything it holds that `seen` does not list yet (adds them)."""
    total, todo = 0, [value]
    while todo:
        item = todo.pop()
        if isinstance(item, _SHARED) or id(item) in seen:
            continue
        seen.add(id(item))
        total += sys.getsizeof(item)
        todo.extend(_children(item))
    return total


def deep_sizes(model: BaseModel) -> dict[str, int]:
    """The model's own object overhead, then each field's deep size (largest first)."""
    parts = [model, model.__dict__, model.__pydantic_fields_set__]
    seen: set[int] = {id(part) for part in parts}
    own = sum(sys.getsizeof(part) for part in parts)
    fields = {name: deep_size(value, seen) for name, value in model.__dict__.items()}
    ordered = dict(sorted(fields.items(), key=lambda kv: -kv[1]))
    return {
        "(model objects)": own,
        **{k: v for k, v in ordered.items() if v},
        "total": own + sum(fields.values()),
    }
