"""How command batches cross the Ray hop: pickled here with the C pickler, sent as bytes.

Ray pickles a call's arguments and its return value with cloudpickle, whose Python-level
`reducer_override` runs for every object, and a pydantic model pickles as a state dict its
Python `__setstate__` unpacks. A batch encoded here instead goes through the C pickler with
a dispatch table of compact reducers for q2c's own models and enums: the model's field dict
and fields-set (no `__getstate__` dict), an enum member by value. Ray then only copies bytes.

Only a q2c process reads what another wrote (gateway <-> shard, same code), so the format
is free to change between releases; a batch holding an object the C pickler cannot handle
(a lambda, a local class) falls back to cloudpickle, whose output `pickle.loads` reads too.
"""

from __future__ import annotations

import copyreg
import enum
import io
import pickle
from collections.abc import Callable, Iterator
from typing import Any

from pydantic import BaseModel
from ray import cloudpickle

from q2c_core.domain.base import assembled

_OWN = "q2c_core."
Reducer = Callable[[Any], Any]


def encode(value: object) -> bytes:
    """`value` pickled (protocol 5) with the compact reducers; cloudpickle if it must."""
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=5)
    pickler.dispatch_table = _table()
    try:
        pickler.dump(value)
    except (pickle.PicklingError, TypeError, AttributeError):
        return bytes(cloudpickle.dumps(value, protocol=5))  # type: ignore[no-untyped-call]
    return buffer.getvalue()


def decode(data: bytes) -> Any:
    """What `encode` pickled."""
    return pickle.loads(data)


def member(cls: type[enum.Enum], value: object) -> enum.Enum:
    """An enum member by value (a dict lookup rather than `EnumType.__call__`)."""
    found = cls._value2member_map_.get(value)
    return found if found is not None else cls(value)


def _reduce_model(instance: BaseModel) -> Any:
    if instance.__pydantic_private__ is not None or instance.__pydantic_extra__ is not None:
        return instance.__reduce_ex__(5)  # not a plain model: pydantic's own state
    return assembled, (type(instance), instance.__dict__, instance.__pydantic_fields_set__)


def _reduce_member(instance: enum.Enum) -> Any:
    return member, (type(instance), instance._value_)


_TABLE: dict[type, Reducer] = {}


def _table() -> dict[type, Reducer]:
    """q2c's models and enums (those imported by the first call), with copyreg's entries."""
    if not _TABLE:
        _TABLE.update(copyreg.dispatch_table)
        _TABLE.update((cls, _reduce_model) for cls in _own(BaseModel))
        _TABLE.update((cls, _reduce_member) for cls in _own(enum.Enum))
    return _TABLE


def _own(base: type) -> Iterator[type]:
    """Subclasses of `base` defined in q2c_core, at any depth (generic aliases left out)."""
    seen: set[type] = set()
    stack: list[type] = list(base.__subclasses__())
    while stack:
        cls = stack.pop()
        if cls in seen:
            continue
        seen.add(cls)
        stack.extend(cls.__subclasses__())
        if cls.__module__.startswith(_OWN) and "[" not in cls.__name__:
            yield cls
