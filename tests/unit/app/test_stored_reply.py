"""The reply stored for idempotency, built field by field, is the slim result's whole dump."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from q2c_core.app.commands import BatchDecider
from q2c_core.app.messages import CommandResult
from q2c_core.app.read_models import RESPONSE_FIELDS
from q2c_core.domain.engagement import Engagement
from q2c_core.domain.entities import BusinessException, ExceptionState, GatedStep, Severity
from q2c_core.domain.errors import ErrorKind, ErrorPayload, FieldViolation
from q2c_core.domain.events import BusinessExceptionRaised
from q2c_core.domain.routing import route
from tests.unit.app.test_invoice_json import _invoice

NOW = datetime(2025, 4, 1, 12, tzinfo=UTC)


def _exception() -> BusinessException:
    queue, due = route("NOT_TO_EXCEED_CAP", GatedStep.INVOICE, Severity.REVIEW, NOW)
    return BusinessException(
        exception_id="e.x3.0",
        engagement_id="e",
        customer_id="c",
        step=GatedStep.INVOICE,
        check="NOT_TO_EXCEED_CAP",
        severity=Severity.REVIEW,
        state=ExceptionState.RESOLVED,
        message="over the cap",
        item_ids=["t1", "t2"],
        raise_time=NOW,
        resolve_time=NOW,
        owner_queue=queue,
        sla_due_time=due,
    )


def _decider() -> BatchDecider:
    return BatchDecider({}, {}, reference=None, clock=lambda: NOW)  # type: ignore[arg-type]


def _expected(result: CommandResult) -> dict[str, Any]:
    return {"engagement": None, **result.model_dump(mode="json", exclude={"engagement"})}


def test_the_reply_holds_every_field_of_a_result_but_the_summary() -> None:
    assert set(CommandResult.model_fields) - {"summary"} == set(RESPONSE_FIELDS)


@pytest.mark.parametrize(
    "result",
    [
        CommandResult(event_ids=["e:4", "e:5"], version=5, invoice=_invoice()),
        CommandResult(event_ids=["e:6"], version=6, exception=_exception()),
        CommandResult(
            error=ErrorPayload(
                kind=ErrorKind.VALIDATION,
                reason="BAD",
                message="no",
                metadata={"engagement_id": "e"},
                field_violations=[FieldViolation(field="hours", description="too many")],
            )
        ),
        CommandResult(version=2, replayed=True),
    ],
)
def test_the_reply_is_the_dump_of_the_result(result: CommandResult) -> None:
    reply = _decider()._response_json(result)
    assert reply == _expected(result)
    assert json.loads(reply.text) == _expected(result)


def test_a_known_invoice_json_is_reused_in_the_reply() -> None:
    decider, invoice = _decider(), _invoice()
    known = decider._invoice_json.dump(None, invoice)
    result = CommandResult(event_ids=["e:7"], version=7, invoice=invoice)

    reply = decider._response_json(result)

    assert reply["invoice"] is known
    assert reply == _expected(result)
    assert known.text in reply.text


def test_a_raised_exception_row_reuses_the_event_payload_json() -> None:
    decider, exception = _decider(), _exception()
    payload = decider._payload(BusinessExceptionRaised(exception=exception))
    before = Engagement.model_construct(engagement_id="e", exceptions={})
    after = Engagement.model_construct(engagement_id="e", exceptions={exception.exception_id: exception})

    decider._stage_read_models("t", before, after)

    [row] = decider.staged.writes.exceptions
    assert row.data is payload["exception"]
    assert row.data == exception.model_dump(mode="json")
    assert json.loads(payload.text) == BusinessExceptionRaised(exception=exception).model_dump(mode="json")


def test_an_exception_not_raised_in_the_batch_is_dumped() -> None:
    decider, exception = _decider(), _exception()
    after = Engagement.model_construct(engagement_id="e", exceptions={exception.exception_id: exception})

    decider._stage_read_models("t", None, after)

    [row] = decider.staged.writes.exceptions
    assert row.data == exception.model_dump(mode="json")
