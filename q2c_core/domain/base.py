"""Base model settings shared by every domain value, and copies that skip re-validation."""

from __future__ import annotations

from collections.abc import Callable
from copy import copy
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict

M = TypeVar("M", bound=BaseModel)
_set = object.__setattr__


class Frozen(BaseModel):
    """Immutable domain value: frozen, strict about unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")


@dataclass(frozen=True, slots=True)
class _Shape:
    """What trusted() and replaced() need to know about a model class."""

    names: frozenset[str]
    required: frozenset[str]
    template: dict[str, Any]  # every field in declaration order, with its default
    mutable: tuple[str, ...]  # fields whose default is a list, dict or set (copied per instance)
    factories: tuple[tuple[str, Callable[[], Any]], ...]  # fields with a default factory
    every: set[str]  # every field: the fields set of what trusted() and replaced() build


_SHAPES: dict[type[BaseModel], _Shape] = {}


def _shape(cls: type[BaseModel]) -> _Shape:
    shape = _SHAPES.get(cls)
    if shape is None:
        fields = cls.model_fields
        template = {name: info.default for name, info in fields.items()}
        shape = _SHAPES[cls] = _Shape(
            names=frozenset(fields),
            required=frozenset(n for n, info in fields.items() if info.is_required()),
            template=template,
            mutable=tuple(n for n, d in template.items() if isinstance(d, list | dict | set)),
            factories=tuple(
                (n, info.default_factory)  # type: ignore[misc]
                for n, info in fields.items()
                if info.default_factory is not None
            ),
            every=set(fields),
        )
    return shape


def trusted(cls: type[M], values: dict[str, Any]) -> M:
    """An instance of `cls` from values that are already valid for it, without validating them.

    Only for values taken from validated models, or computed from them the way a validator
    would accept: the decide/evolve hot path re-validated them at microseconds per object.
    Missing fields take their defaults (mutable ones copied, as validation does); an unknown
    field or a missing required one is a TypeError (a bug, not bad input).

    Every field counts as set, and the instances of a class share that one set (pydantic copies
    it before changing it, and frozen models never change it): q2c never dumps with
    `exclude_unset`, and a set per object was a large part of an entity's memory.
    """
    shape = _SHAPES.get(cls) or _shape(cls)
    data = dict(shape.template)
    data.update(values)  # keeps declaration order
    keys = values.keys()
    if len(data) != len(shape.template) or not keys >= shape.required:
        raise TypeError(f"{cls.__name__} cannot be built from fields {sorted(keys)}")
    if shape.mutable or shape.factories:
        for name in shape.mutable:
            if name not in values:
                data[name] = copy(data[name])
        for name, factory in shape.factories:
            if name not in values:
                data[name] = factory()
    return assembled(cls, data, shape.every)


def replaced(model: M, changes: dict[str, Any]) -> M:
    """`model.model_copy(update=changes)` (which does not validate either) at half its cost;
    every field counts as set, as with trusted()."""
    cls = type(model)
    data = {**model.__dict__, **changes}
    if len(data) != len(model.__dict__):
        raise TypeError(f"{cls.__name__} has no field(s) {sorted(set(data) - set(model.__dict__))}")
    every = (_SHAPES.get(cls) or _shape(cls)).every
    return assembled(cls, data, every, model.__pydantic_extra__, model.__pydantic_private__)


def assembled(
    cls: type[M],
    data: dict[str, Any],
    fields_set: set[str],
    extra: dict[str, Any] | None = None,
    private: dict[str, Any] | None = None,
) -> M:
    """An instance of `cls` holding `data` as it is, unvalidated: pydantic's four slots set as
    its own `__setstate__` sets them (trusted(), replaced() and actors/wire.py rebuild models so)."""
    instance = object.__new__(cls)
    _set(instance, "__dict__", data)
    _set(instance, "__pydantic_fields_set__", fields_set)
    _set(instance, "__pydantic_extra__", extra)
    _set(instance, "__pydantic_private__", private)
    return instance


def complete_builder(cls: type[M]) -> Callable[[dict[str, Any]], M]:
    """trusted() for a class whose callers pass every field in a fresh dict, in declaration
    order, without trusted()'s checks and defaults (Money: made for every sum and product)."""
    every = _shape(cls).every

    def build(values: dict[str, Any]) -> M:  # assembled(), inlined: made for every Money
        instance = object.__new__(cls)
        _set(instance, "__dict__", values)
        _set(instance, "__pydantic_fields_set__", every)
        _set(instance, "__pydantic_extra__", None)
        _set(instance, "__pydantic_private__", None)
        return instance

    return build
