"""Each simulator fault lands in exactly one DeliveryFailure kind, with what a retry needs."""

from __future__ import annotations

from q2c_core.adapters.erp.simulator_connectors import SimulatorErp, SimulatorPsa
from q2c_core.app.connectors import DeliveryFailure, FailureKind, PostedDocument, invoice_key
from simulator.server import MALFORMED_BODY
from tests.integration.builders import customer, engagement, invoice
from tests.simulator.conftest import RunningSimulator


def post_failure(erp: SimulatorErp) -> DeliveryFailure:
    """Post the standard invoice, expecting a failure."""
    inv = invoice()
    failure = erp.post_invoice(inv, key=invoice_key(inv))
    assert isinstance(failure, DeliveryFailure), failure
    assert (failure.operation, failure.key) == ("post_invoice", invoice_key(inv))
    return failure


def test_throttling_is_retryable_after_the_given_delay(erp: SimulatorErp, sim: RunningSimulator) -> None:
    sim.client.set_faults({"throttle": {"count": 1, "retry_after": 3}})
    failure = post_failure(erp)
    assert (failure.kind, failure.status, failure.retry_after) == (FailureKind.RETRYABLE, 429, 3.0)
    assert sim.client.list_invoices() == []


def test_maintenance_is_retryable_after_the_window(erp: SimulatorErp, sim: RunningSimulator) -> None:
    sim.client.set_faults({"maintenance_seconds": 30})
    failure = post_failure(erp)
    assert (failure.kind, failure.status) == (FailureKind.RETRYABLE, 503)
    assert failure.retry_after is not None and 0 < failure.retry_after <= 30


def test_a_server_error_is_retryable(erp: SimulatorErp, sim: RunningSimulator) -> None:
    sim.client.set_faults({"error": {"count": 1, "status": 500}})
    failure = post_failure(erp)
    assert (failure.kind, failure.status, failure.may_retry) == (FailureKind.RETRYABLE, 500, True)


def test_a_malformed_reply_keeps_the_raw_payload_and_a_retry_replays(
    erp: SimulatorErp, sim: RunningSimulator
) -> None:
    sim.client.set_faults({"malformed": 1})
    failure = post_failure(erp)
    assert failure.kind is FailureKind.MALFORMED
    assert failure.payload == MALFORMED_BODY.decode()
    inv = invoice()
    retried = erp.post_invoice(inv, key=invoice_key(inv))
    assert isinstance(retried, PostedDocument) and retried.replayed


def test_a_malformed_record_reply_is_a_failure_not_a_crash(
    erp: SimulatorErp, psa: SimulatorPsa, sim: RunningSimulator
) -> None:
    sim.client.set_faults({"malformed": 2})
    for failure in (
        erp.upsert_customer(customer(), key="c"),
        psa.provision_project(engagement(), key="p"),
    ):
        assert isinstance(failure, DeliveryFailure)
        assert (failure.kind, failure.payload) == (FailureKind.MALFORMED, MALFORMED_BODY.decode())


def test_a_timeout_is_an_unknown_outcome(erp: SimulatorErp, sim: RunningSimulator) -> None:
    sim.client.set_faults({"timeout": {"count": 1, "hold_seconds": 4}})
    failure = post_failure(erp)
    assert failure.kind is FailureKind.UNKNOWN_OUTCOME


def test_an_unreachable_system_is_an_unknown_outcome(erp: SimulatorErp, sim: RunningSimulator) -> None:
    sim.stop()
    assert post_failure(erp).kind is FailureKind.UNKNOWN_OUTCOME
