"""actors/wire.py: batches encoded for the Ray hop decode to equal values; lanes use it (no Ray needed)."""

from __future__ import annotations

import pickle
from collections.abc import Awaitable, Callable
from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, PrivateAttr

from actors import wire
from actors.runtime import ShardLane
from q2c_core.app.messages import Caller, CommandEnvelope, CommandResult
from q2c_core.domain import commands as cmd
from q2c_core.domain.entities import EngagementState
from q2c_core.domain.errors import ErrorKind, ErrorPayload
from q2c_core.domain.money import Money
from tests.unit.test_messages import PINNED, _summary

CALLER = Caller(tenant_id="t1", principal="ana", correlation_id="c-1")


def _envelopes() -> list[CommandEnvelope]:
    return [
        CommandEnvelope(caller=CALLER, engagement_id="e-1", request_id=f"r-{i}", command=c, slim_reply=i > 1)
        for i, (c, _) in enumerate(PINNED)
    ]


def test_envelopes_decode_equal_with_their_types_and_set_fields() -> None:
    envelopes = _envelopes()
    copies = wire.decode(wire.encode(envelopes))
    assert copies == envelopes
    assert [type(c.command) for c in copies] == [type(e.command) for e in envelopes]
    assert [c.model_fields_set for c in copies] == [e.model_fields_set for e in envelopes]
    assert [c.command.model_fields_set for c in copies] == [e.command.model_fields_set for e in envelopes]
    assert [c.digest() for c in copies] == [digest for _, digest in PINNED]


def test_results_decode_equal_enums_by_identity() -> None:
    error = ErrorPayload(kind=ErrorKind.CONFLICT, reason="R", message="m", metadata={"k": "v"})
    results = [CommandResult(event_ids=["e-1:9"], version=9, summary=_summary()), CommandResult(error=error)]
    copies = wire.decode(wire.encode(results))
    assert copies == results
    assert copies[0].summary == results[0].summary
    assert copies[0].summary is not None and copies[0].summary.state is EngagementState.ON_HOLD
    assert copies[1].error is not None and copies[1].error.kind is ErrorKind.CONFLICT


def test_models_go_as_their_field_dicts_not_pydantic_state() -> None:
    encoded = wire.encode(_envelopes())
    assert b"__pydantic_extra__" not in encoded  # pydantic's own __getstate__ dict names it
    assert len(encoded) < len(pickle.dumps(_envelopes(), protocol=5))


class _WithPrivate(BaseModel):
    value: int
    _cache: str = PrivateAttr(default="")


def test_a_model_with_private_attributes_keeps_them() -> None:
    model = _WithPrivate(value=1)
    model._cache = "kept"
    copy = wire.decode(wire.encode([model]))[0]
    assert copy == model and copy._cache == "kept"


def test_what_the_c_pickler_refuses_goes_through_cloudpickle() -> None:
    def local(x: int) -> int:
        return x + 1

    payload = [Money.of(Decimal("1.10"), "USD"), date(2026, 1, 1), local]
    money, day, function = wire.decode(wire.encode(payload))
    assert (money, day, function(1)) == (payload[0], payload[1], 2)


def test_a_command_from_a_batch_keeps_its_validated_values() -> None:
    envelope = _envelopes()[3]
    copy = wire.decode(wire.encode(envelope))
    assert isinstance(copy.command, cmd.SubmitTimeEntries)
    assert copy.command.entries[0].hours == Decimal("7.25")


class _Method:
    def __init__(self, answer: Callable[[Any], Any]) -> None:
        self.answer = answer
        self.calls: list[Any] = []

    def remote(self, argument: Any) -> Awaitable[Any]:
        self.calls.append(argument)

        async def reply() -> Any:
            return self.answer(argument)

        return reply()


def _results(envelopes: list[CommandEnvelope]) -> list[CommandResult]:
    return [CommandResult(event_ids=[e.request_id or ""]) for e in envelopes]


class _OldShard:
    """A shard started by an earlier release: no execute_encoded."""

    def __init__(self) -> None:
        self.execute_batch = _Method(_results)


class _Shard(_OldShard):
    def __init__(self) -> None:
        super().__init__()
        self.execute_encoded = _Method(lambda data: wire.encode(_results(wire.decode(data))))


async def test_a_lane_sends_encoded_batches_and_falls_back_for_an_older_shard() -> None:
    envelope = _envelopes()[0]
    new, old = _Shard(), _OldShard()
    assert (await ShardLane(0, new, 8).submit(envelope)).event_ids == ["r-0"]
    assert (await ShardLane(1, old, 8).submit(envelope)).event_ids == ["r-0"]
    assert type(new.execute_encoded.calls[0]) is bytes and new.execute_batch.calls == []
    assert old.execute_batch.calls == [[envelope]]
