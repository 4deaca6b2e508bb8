"""The one failure table: every simulator error maps to one kind (no process needed)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from q2c_core.adapters.erp.simulator_connectors import SimulatorErp, classify
from q2c_core.app.connectors import DeliveryFailure, FailureKind, invoice_key
from simulator.client import (
    ConflictError,
    HTTPStatusError,
    MalformedResponseError,
    SimulatorClient,
    SimulatorConnectionError,
    SimulatorError,
    SimulatorTimeout,
    ThrottledError,
    UnavailableError,
)
from tests.integration.builders import invoice


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (ThrottledError(429, "{}", 2.0), FailureKind.RETRYABLE),
        (UnavailableError(503, "{}", 5.0), FailureKind.RETRYABLE),
        (HTTPStatusError(500, "{}", None), FailureKind.RETRYABLE),
        (HTTPStatusError(504, "{}", None), FailureKind.RETRYABLE),
        (HTTPStatusError(408, "{}", None), FailureKind.RETRYABLE),
        (ConflictError(409, "{}", None), FailureKind.PERMANENT),
        (HTTPStatusError(422, "{}", None), FailureKind.PERMANENT),
        (HTTPStatusError(400, "{}", None), FailureKind.PERMANENT),
        (SimulatorConnectionError("reset"), FailureKind.UNKNOWN_OUTCOME),
        (SimulatorTimeout("slow"), FailureKind.UNKNOWN_OUTCOME),
        (MalformedResponseError("not JSON"), FailureKind.MALFORMED),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, Exception) else str(value),
)
def test_each_simulator_error_has_one_failure_kind(error: SimulatorError, kind: FailureKind) -> None:
    failure = classify(error, "post_invoice", "k")
    assert (failure.kind, failure.operation, failure.key) == (kind, "post_invoice", "k")
    if isinstance(error, HTTPStatusError):
        assert (failure.status, failure.retry_after) == (error.status, error.retry_after)


class ReplyingClient(SimulatorClient):
    """A client whose every request returns one canned JSON reply."""

    def __init__(self, reply: Any) -> None:
        super().__init__("http://unused")
        self.reply = reply

    def request(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Any:
        """The canned reply."""
        return self.reply


@pytest.mark.parametrize(
    "reply",
    [[], {"status": "posted", "replayed": False}, {"document_number": "INV-1", "status": "posted"}],
)
def test_json_of_the_wrong_shape_is_malformed_with_its_text(reply: Any) -> None:
    inv = invoice()
    failure = SimulatorErp(ReplyingClient(reply)).post_invoice(inv, key=invoice_key(inv))
    assert isinstance(failure, DeliveryFailure)
    assert failure.kind is FailureKind.MALFORMED
    assert failure.payload is not None and json.loads(failure.payload) == reply
