"""q2c_core/logs.py: JSON lines carry the context of the work in hand; the text line is unchanged."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import grpc
import pytest

from q2c.v1 import customer_pb2, engagement_pb2
from q2c_core.adapters.erp.simulator_connectors import CORRELATION_HEADER, SimulatorErp, _headers
from q2c_core.app.messages import Caller
from q2c_core.edge.auth.identity import Identity
from q2c_core.edge.context import CALLER, CORRELATION_ID, IDENTITY, call_log_fields
from q2c_core.edge.request_log import engagement_of, outcome_of
from q2c_core.logs import (
    ContextFilter,
    adopt_logger,
    batch_fields,
    bound_correlation_id,
    context_fields,
    formatter,
    log_context,
)
from simulator.client import SimulatorClient

Captured = tuple[logging.Logger, io.StringIO, logging.Handler]


@pytest.fixture
def capture() -> Iterator[Captured]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(ContextFilter())
    logger = logging.getLogger("q2c.test_logs")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    yield logger, stream, handler
    logger.removeHandler(handler)


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_a_json_line_parses_and_carries_time_level_logger_message(capture: Captured) -> None:
    logger, stream, handler = capture
    handler.setFormatter(formatter("json"))
    logger.warning("disk %s full", "q2c-1")
    (line,) = lines(stream)
    assert line["message"] == "disk q2c-1 full"
    assert line["level"] == "WARNING"
    assert line["logger"] == "q2c.test_logs"
    assert datetime.fromisoformat(str(line["time"])).utcoffset() == timedelta(0)


def test_a_line_written_in_a_call_carries_the_caller_and_the_bound_fields(capture: Captured) -> None:
    logger, stream, handler = capture
    handler.setFormatter(formatter("json"))
    caller = Caller(tenant_id="acme", principal="alice", correlation_id="corr-1")
    tokens = CALLER.set(caller), CORRELATION_ID.set("corr-1")
    try:
        with log_context(rpc="/q2c.v1.EngagementService/GetEngagement", engagement_id="e-1"):
            logger.info("inside", extra={"outcome": "OK"})
    finally:
        CALLER.reset(tokens[0])
        CORRELATION_ID.reset(tokens[1])
    logger.info("outside")
    inside, outside = lines(stream)
    assert inside["tenant"] == "acme"
    assert inside["principal"] == "alice"
    assert inside["correlation_id"] == "corr-1"
    assert inside["rpc"] == "/q2c.v1.EngagementService/GetEngagement"
    assert inside["engagement_id"] == "e-1"
    assert inside["outcome"] == "OK"
    assert not {"tenant", "principal", "correlation_id", "rpc", "engagement_id"} & set(outside)


def test_a_refused_call_carries_its_correlation_id_but_no_caller(capture: Captured) -> None:
    logger, stream, handler = capture
    handler.setFormatter(formatter("json"))
    token = CORRELATION_ID.set("corr-2")
    try:
        logger.info("refused")
    finally:
        CORRELATION_ID.reset(token)
    (line,) = lines(stream)
    assert line["correlation_id"] == "corr-2"
    assert "tenant" not in line


def test_the_text_line_is_unchanged_and_takes_no_context(capture: Captured) -> None:
    logger, stream, handler = capture
    handler.setFormatter(formatter("text"))
    with log_context(correlation_id="corr-3", tenant="acme"):
        logger.info("plain %d", 7)
    text = stream.getvalue().rstrip("\n")
    assert text.endswith(" INFO q2c.test_logs plain 7")
    assert "corr-3" not in text and "acme" not in text


def test_nested_contexts_add_and_restore_fields() -> None:
    with log_context(correlation_id="outer"):
        with log_context(correlation_id="inner", engagement_id="e-9"):
            assert bound_correlation_id() == "inner"
        assert bound_correlation_id() == "outer"
    assert bound_correlation_id() == ""


def test_a_batch_names_one_correlation_id_or_the_list_of_them() -> None:
    assert batch_fields(["c1", "c1"], ["e1"]) == {"correlation_id": "c1", "engagement_id": "e1"}
    assert batch_fields(["c2", "c1"], ["e1", "e2"], ["t1"]) == {
        "correlation_ids": ["c1", "c2"],
        "tenant": "t1",
    }
    assert batch_fields([]) == {}


def test_a_call_refused_for_its_scope_names_the_verified_identity() -> None:
    identity = Identity(tenant_id="acme", principal="carol", scopes=frozenset(), method="jwt")
    tokens = IDENTITY.set(identity), CORRELATION_ID.set("corr-4")
    try:
        assert call_log_fields() == {"correlation_id": "corr-4", "tenant": "acme", "principal": "carol"}
    finally:
        IDENTITY.reset(tokens[0])
        CORRELATION_ID.reset(tokens[1])
    assert context_fields() == {}


class CapturingClient(SimulatorClient):
    """A simulator client that keeps the headers of each request and lists no documents."""

    def __init__(self) -> None:
        super().__init__("http://unused")
        self.headers: list[dict[str, str]] = []

    def request(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None, **_: Any
    ) -> Any:
        """Keep the headers; an empty listing."""
        self.headers.append(dict(headers or {}))
        return {"documents": [], "next_after": None}


def test_an_erp_request_sends_the_bound_correlation_id_and_none_outside_any_work() -> None:
    client = CapturingClient()
    erp = SimulatorErp(client)
    with log_context(correlation_id="corr-5"):
        assert erp.list_invoices() == []
        assert _headers(**{"Idempotency-Key": "k"}) == {"Idempotency-Key": "k", CORRELATION_HEADER: "corr-5"}
    assert erp.list_payments() == []
    assert client.headers == [{CORRELATION_HEADER: "corr-5"}, {}]
    assert _headers(**{"Idempotency-Key": "k"}) == {"Idempotency-Key": "k"}


class StubContext:
    """The one ServicerContext method the request log reads."""

    def __init__(self, code: object) -> None:
        self._code = code

    def code(self) -> object:
        return self._code


@pytest.mark.parametrize(
    ("code", "error", "outcome"),
    [
        (None, None, "OK"),
        (grpc.StatusCode.NOT_FOUND, Exception(), "NOT_FOUND"),
        (grpc.StatusCode.PERMISSION_DENIED.value[0], Exception(), "PERMISSION_DENIED"),
        (None, asyncio.CancelledError(), "CANCELLED"),
        (None, RuntimeError(), "UNKNOWN"),
    ],
)
def test_the_outcome_is_the_code_the_call_ended_with(
    code: object, error: Exception | None, outcome: str
) -> None:
    assert outcome_of(StubContext(code), error) == outcome  # type: ignore[arg-type]


def test_the_engagement_id_is_logged_only_when_the_request_names_one() -> None:
    assert engagement_of(engagement_pb2.GetEngagementRequest(engagement_id="e-7")) == "e-7"
    assert engagement_of(customer_pb2.CreateCustomerRequest()) == ""


def test_an_adopted_library_logger_writes_through_the_root_handler() -> None:
    library = logging.getLogger("q2c.test_logs.library")
    own = logging.StreamHandler(io.StringIO())
    library.addHandler(own)
    library.propagate = False
    adopt_logger("q2c.test_logs.library")
    assert library.handlers == [] and library.propagate
