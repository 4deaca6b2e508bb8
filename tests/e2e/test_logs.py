"""server.py --log-format json: every call leaves one "rpc handled" JSON line with its context."""

from __future__ import annotations

import json
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest

from q2c.v1 import customer_pb2, customer_pb2_grpc
from q2c_core.adapters.store import Store
from q2c_core.app.connectors import Ack, Connectors
from q2c_core.app.delivery.config import DeliveryConfig
from q2c_core.app.messages import Caller, CommandEnvelope
from q2c_core.app.runtime import LocalRuntime
from q2c_core.logs import bound_correlation_id
from tests import credentials
from tests.delivery.conftest import eventually
from tests.e2e.processes import launch_server
from tests.host.helpers import OPERATOR, activate, approve_contract, close_won, create, qualify, seed_customer

pytestmark = pytest.mark.e2e
CREATE_CUSTOMER = "/q2c.v1.CustomerService/CreateCustomer"


@pytest.fixture
def json_server(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], str, Path]]:
    """server.py in-process (--local) with JSON logs on stderr, written to a file."""
    log_path = tmp_path / "server.log"
    proc, target = launch_server(
        [
            "--local",
            "--port",
            "0",
            "--log-format",
            "json",
            "--database-url",
            f"sqlite:///{tmp_path}/q2c.db",
            "--dev-key-dir",
            str(credentials.dev_key().directory),
        ],
        log_path,
    )
    yield proc, target, log_path
    if proc.poll() is None:
        proc.kill()
        proc.wait()


def json_lines(text: str) -> list[dict[str, Any]]:
    """Every line of the log: each must be one JSON object."""
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def handled(lines: list[dict[str, Any]], correlation_id: str) -> dict[str, Any]:
    (line,) = [
        x for x in lines if x["message"] == "rpc handled" and x.get("correlation_id") == correlation_id
    ]
    return line


def test_json_logs_carry_the_context_of_an_accepted_and_a_refused_call(
    json_server: tuple[subprocess.Popen[str], str, Path],
) -> None:
    proc, target, log_path = json_server
    request = customer_pb2.CreateCustomerRequest(
        request_id="r1", customer=customer_pb2.Customer(display_name="Acme", billing_currency="EUR")
    )
    with grpc.insecure_channel(target) as channel:
        customers = customer_pb2_grpc.CustomerServiceStub(channel)
        metadata = (*credentials.bearer("log-tenant", "bob"), ("x-correlation-id", "corr-accepted"))
        assert customers.CreateCustomer(request, metadata=metadata, timeout=30).customer_id
        forged = (("authorization", "Bearer not-a-token"), ("x-correlation-id", "corr-refused"))
        with pytest.raises(grpc.RpcError) as refused:
            customers.CreateCustomer(request, metadata=forged, timeout=30)
        assert refused.value.code() is grpc.StatusCode.UNAUTHENTICATED
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 0

    lines = json_lines(log_path.read_text())
    accepted = handled(lines, "corr-accepted")
    assert accepted["level"] == "INFO" and accepted["logger"] == "q2c.rpc"
    assert (accepted["tenant"], accepted["principal"]) == ("log-tenant", "bob")
    assert accepted["rpc"] == CREATE_CUSTOMER
    assert accepted["outcome"] == "OK"
    assert accepted["duration_ms"] >= 0

    refusal = handled(lines, "corr-refused")
    assert refusal["rpc"] == CREATE_CUSTOMER
    assert refusal["outcome"] == "UNAUTHENTICATED"
    assert (refusal["tenant"], refusal["principal"]) == ("", "")  # nobody was verified
    # Every line of the refused call carries it: the security event's warning too.
    warned = [x for x in lines if x["level"] == "WARNING" and x.get("correlation_id") == "corr-refused"]
    assert warned and all(x["rpc"] == CREATE_CUSTOMER for x in warned)
    serving = [x for x in lines if x["message"].startswith("q2c serving on")]
    assert serving and "correlation_id" not in serving[0]


class RecordingConnector:
    """An ERP and PSA that acknowledge every record and keep the correlation id it came with."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    def _ack(self, record: str, key: str) -> Ack:
        self.seen.append((record, bound_correlation_id()))
        return Ack(record, key, 1)

    def upsert_customer(self, customer: object, *, key: str) -> Ack:
        return self._ack("customer", key)

    def create_job(self, engagement: object, *, key: str) -> Ack:
        return self._ack("job", key)

    def provision_project(self, engagement: object, *, key: str) -> Ack:
        return self._ack("project", key)


async def test_delivery_calls_carry_the_correlation_id_of_the_call_that_activated(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'q2c.db'}")
    connector = RecordingConnector()
    config = DeliveryConfig(erp_url="http://erp", psa_url="http://psa", poll_seconds=0.05)
    runtime = LocalRuntime(store, delivery=config, connectors=lambda _: Connectors(connector, connector))  # type: ignore[arg-type]
    try:
        customer = seed_customer(store, "log-tenant")
        for command in (create(customer), qualify(), close_won(), approve_contract(), activate()):
            correlation_id = f"corr-{type(command).__name__}"
            caller = Caller(tenant_id="log-tenant", principal=OPERATOR, correlation_id=correlation_id)
            result = await runtime.execute(
                CommandEnvelope(caller=caller, engagement_id="e-1", command=command)
            )
            assert result.ok, result.error
        await runtime.start_delivery()
        await eventually(
            lambda: len(connector.seen) >= 3, timeout=30, what="job, customer and project delivered"
        )
    finally:
        await runtime.close()
        store.close()
    assert sorted(connector.seen) == [
        ("customer", "corr-ActivateEngagement"),
        ("job", "corr-ActivateEngagement"),
        ("project", "corr-ActivateEngagement"),
    ]
