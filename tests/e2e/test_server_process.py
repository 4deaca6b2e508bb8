"""server.py as an operator runs it: flags, a real port, health, and a clean SIGTERM shutdown."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from q2c.v1 import customer_pb2, customer_pb2_grpc
from tests import credentials

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def server_process(ray_cluster: str, tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """server.py joined to the session's Ray cluster, on a free port, with its own SQLite file."""
    command = [
        sys.executable,
        "server.py",
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
    proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    target = ""
    for line in proc.stdout:
        if line.startswith("q2c listening on"):
            target = line.split()[-1]
            break
    assert target, f"server exited with {proc.wait()} before listening"
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
