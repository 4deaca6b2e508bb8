"""Fault injection: maintenance, throttling, errors, malformed replies, latency, timeouts, scope."""

from __future__ import annotations

import time

import pytest

from simulator.client import (
    HTTPStatusError,
    MalformedResponseError,
    SimulatorTimeout,
    ThrottledError,
    UnavailableError,
)
from tests.simulator.conftest import RunningSimulator, poll_until

INVOICE = {"customer": "ACME", "amount": "10.00"}


def test_maintenance_window_then_success(sim: RunningSimulator) -> None:
    sim.client.set_faults({"maintenance_seconds": 1.5})
    with pytest.raises(UnavailableError) as caught:
        sim.client.post_invoice("m", INVOICE)
    assert caught.value.status == 503
    assert caught.value.retry_after is not None and caught.value.retry_after >= 1
    # The control plane stays up during the window and shows the time left.
    assert sim.client.get_faults()["maintenance_remaining_seconds"] > 0

    def posted() -> bool:
        try:
            sim.client.post_invoice("m", INVOICE)
        except UnavailableError:
            return False
        return True

    poll_until(posted)
    assert sim.client.get_invoice("m")["document_number"] == "INV-000001"


def test_throttle_exactly_k_requests(sim: RunningSimulator) -> None:
    sim.client.set_faults({"throttle": {"count": 3, "retry_after": 7}})
    for _ in range(3):
        with pytest.raises(ThrottledError) as caught:
            sim.client.post_invoice("t", INVOICE)
        assert (caught.value.status, caught.value.retry_after) == (429, 7.0)
    assert sim.client.post_invoice("t", INVOICE).document_number == "INV-000001"
    assert sim.client.get_faults()["throttle"]["count"] == 0


def test_error_k_times_then_success(sim: RunningSimulator) -> None:
    sim.client.set_faults({"error": {"count": 2}})
    for _ in range(2):
        with pytest.raises(HTTPStatusError) as caught:
            sim.client.post_invoice("e", INVOICE)
        assert caught.value.status == 500 and caught.value.retryable
    assert sim.client.post_invoice("e", INVOICE).document_number == "INV-000001"


def test_malformed_reply_fails_parsing_clearly(sim: RunningSimulator) -> None:
    sim.client.set_faults({"malformed": {"count": 1}})
    with pytest.raises(MalformedResponseError, match="not JSON"):
        sim.client.post_invoice("bad", INVOICE)
    # The posting committed; the next reply is well formed and is the same document.
    assert sim.client.post_invoice("bad", INVOICE).replayed


def test_latency_is_applied(sim: RunningSimulator) -> None:
    sim.client.set_faults({"latency_ms": 300})
    started = time.monotonic()
    sim.client.put_customer("slow", {"name": "Slow"})
    assert time.monotonic() - started >= 0.3
    sim.client.clear_faults()
    assert sim.client.get_faults()["latency_ms"] == 0


def test_timeout_holds_then_drops(sim: RunningSimulator) -> None:
    sim.client.set_faults({"timeout": {"count": 1, "hold_seconds": 2}})
    sim.client.timeout = 0.5
    with pytest.raises(SimulatorTimeout):
        sim.client.put_project("p", {"name": "P"})
    sim.client.timeout = 5.0
    assert sim.client.put_project("p", {"name": "P"})["key"] == "p"


def test_faults_are_scoped_to_a_path_prefix(sim: RunningSimulator) -> None:
    sim.client.set_faults({"path_prefix": "/erp/invoices", "error": {"count": 1}})
    # Other paths, health and the control plane are untouched and do not consume the fault.
    assert sim.client.put_customer("c", {"name": "C"})["key"] == "c"
    assert sim.client.health() == {"status": "ok"}
    with pytest.raises(HTTPStatusError):
        sim.client.post_invoice("s", INVOICE)
    assert sim.client.post_invoice("s", INVOICE).document_number == "INV-000001"


def test_invalid_fault_plan_is_rejected(sim: RunningSimulator) -> None:
    with pytest.raises(HTTPStatusError) as caught:
        sim.client.set_faults({"explode": True})
    assert caught.value.status == 400
