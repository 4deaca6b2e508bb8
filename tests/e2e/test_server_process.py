"""server.py as an operator runs it: flags, a real port, health, and a clean SIGTERM shutdown."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from q2c.v1 import customer_pb2, customer_pb2_grpc
from tests import credentials
from tests.e2e.processes import launch_server

pytestmark = pytest.mark.e2e


@pytest.fixture
def server_process(ray_cluster: str, tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """server.py joined to the session's Ray cluster, on a free port, with its own SQLite file."""
    proc, target = launch_server(
        [
            "--port",
            "0",
            "--shards",
            "1",
            "--ray-address",
            ray_cluster,
            "--deployment",
            "proc-test",
            "--database-url",
            f"sqlite:///{tmp_path}/q2c.db",
            "--dev-key-dir",
            str(credentials.dev_key().directory),
        ]
    )
    yield proc, target
    if proc.poll() is None:
        proc.kill()
        proc.wait()


def test_server_serves_then_reports_not_serving_and_exits_cleanly_on_sigterm(
    server_process: tuple[subprocess.Popen[str], str],
) -> None:
    proc, target = server_process
    with grpc.insecure_channel(target) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        assert (
            health.Check(health_pb2.HealthCheckRequest(), timeout=10).status
            == health_pb2.HealthCheckResponse.SERVING
        )
        created = customer_pb2_grpc.CustomerServiceStub(channel).CreateCustomer(
            customer_pb2.CreateCustomerRequest(
                request_id="r1", customer=customer_pb2.Customer(display_name="Acme", billing_currency="EUR")
            ),
            metadata=credentials.bearer("proc-tenant", "operator"),
            timeout=30,
        )
        assert created.customer_id

        watch = health.Watch(health_pb2.HealthCheckRequest(), timeout=60)
        assert next(watch).status == health_pb2.HealthCheckResponse.SERVING
        proc.send_signal(signal.SIGTERM)
        statuses = []
        try:
            for update in watch:
                statuses.append(update.status)
        except grpc.RpcError:
            pass  # the stream ends when the server stops
        assert health_pb2.HealthCheckResponse.NOT_SERVING in statuses
    assert proc.wait(timeout=60) == 0
