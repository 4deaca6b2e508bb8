"""/metrics of the real server on Ray: RPC counts by code, the shards' own metrics, and a real
Prometheus scraping it.

server.py runs as a subprocess with `--metrics-port 0` over two shard actors; the test drives a
lifecycle and a bill run through the SDK, scrapes /metrics over HTTP and parses it with
`prometheus_client.parser`. The shard metrics are recorded in the shard processes, so they can
only be right here if the gateway really gathered them from there.
"""

from __future__ import annotations

import json
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.parse
import urllib.request
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from q2c.v1 import billing_pb2, customer_pb2, customer_pb2_grpc, exception_pb2
from q2c.v1 import engagement_pb2 as pb
from q2c_sdk import Q2cClient, month
from tests import credentials
from tests.e2e.processes import launch_server
from tests.sdk import flows

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
METRICS_LINE = re.compile(r"metrics on http://([0-9.]+):(\d+)/metrics")
Labels = dict[str, str]


@dataclass
class Server:
    """server.py's gRPC target and /metrics URL."""

    target: str
    metrics_url: str


def _metrics_url(log_file: Path, proc: subprocess.Popen[str]) -> str:
    for _ in range(200):
        found = METRICS_LINE.search(log_file.read_text(encoding="utf-8", errors="replace"))
        if found:
            return f"http://{found.group(1)}:{found.group(2)}/metrics"
        assert proc.poll() is None, f"server exited with {proc.returncode}"
        time.sleep(0.05)
    raise AssertionError(f"no metrics line logged: {log_file.read_text()}")


@pytest.fixture(scope="module")
def server(ray_cluster: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """server.py with --metrics-port 0 over two shards of a fresh deployment."""
    tmp = tmp_path_factory.mktemp("metrics")
    log_file = tmp / "server.log"
    proc, target = launch_server(
        [
            "--port",
            "0",
            "--metrics-port",
            "0",
            "--shards",
            "2",
            "--ray-address",
            ray_cluster,
            "--deployment",
            f"metrics-{uuid.uuid4().hex[:8]}",
            "--database-url",
            f"sqlite:///{tmp}/q2c.db",
            "--dev-key-dir",
            str(credentials.dev_key().directory),
        ],
        log_file,
    )
    yield Server(target, _metrics_url(log_file, proc))
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def scrape(url: str) -> dict[str, list[tuple[Labels, float]]]:
    """Every sample of /metrics by sample name (an HTTP GET, parsed by prometheus_client)."""
    with urllib.request.urlopen(url, timeout=30) as reply:
        assert reply.status == 200
        assert reply.headers["Content-Type"].startswith("text/plain")
        text = reply.read().decode("utf-8")
    samples: dict[str, list[tuple[Labels, float]]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples.setdefault(sample.name, []).append((sample.labels, sample.value))
    return samples


def value(samples: dict[str, list[tuple[Labels, float]]], name: str, **labels: str) -> float:
    """The sum of the samples of `name` whose labels include `labels` (0 when none)."""
    return sum(v for found, v in samples.get(name, []) if labels.items() <= found.items())


def _lifecycle_and_bill_run(server: Server, tenant: str) -> tuple[list[str], int, Counter[tuple[str, str]]]:
    """Two active engagements, three SubmitTimeEntries, approvals and a March bill run;
    returns the engagement ids, the invoices the run created and the open exceptions by
    (queue, severity) as ListExceptions gives them."""
    alice = Q2cClient(server.target, token=credentials.token(tenant), deadline=30.0)
    bob = Q2cClient(server.target, token=credentials.token(tenant, "bob"), deadline=30.0)
    with alice, bob:
        ids = [flows.active_engagement(alice).engagement_id for _ in range(2)]
        submits = [(ids[0], "T1"), (ids[0], "T2"), (ids[1], "T1")]
        for eid, entry in submits:
            alice.submit_time_entries(
                pb.SubmitTimeEntriesRequest(engagement_id=eid, entries=flows.time_entries(entry))
            )
        for eid, entry in submits:
            bob.approve_time_entries(pb.ApproveTimeEntriesRequest(engagement_id=eid, entry_ids=[entry]))
        run = alice.start_bill_run(billing_pb2.StartBillRunRequest(period=month("2025-03")))
        watch = billing_pb2.WatchBillRunRequest(bill_run_id=run.bill_run_id)
        states = [update.state for update in alice.watch_bill_run(watch)]
        assert states[-1] == billing_pb2.BILL_RUN_STATE_SUCCEEDED, states
        final = alice.get_bill_run(billing_pb2.GetBillRunRequest(bill_run_id=run.bill_run_id))
        listed = alice.list_exceptions(
            exception_pb2.ListExceptionsRequest(page_size=500, state=exception_pb2.EXCEPTION_STATE_OPEN)
        )
    open_ = Counter(
        (exception_pb2.OwnerQueue.Name(e.owner_queue), exception_pb2.ExceptionSeverity.Name(e.severity))
        for e in listed.exceptions
    )
    return ids, final.invoices_created, open_


def _call_without_token(target: str) -> None:
    with grpc.insecure_channel(target) as channel:
        stub = customer_pb2_grpc.CustomerServiceStub(channel)
        with pytest.raises(grpc.RpcError) as refused:
            stub.GetCustomer(customer_pb2.GetCustomerRequest(customer_id="c-1"), timeout=10)
    assert refused.value.code() is grpc.StatusCode.UNAUTHENTICATED


def test_metrics_count_rpcs_by_code_and_gather_the_shards_own_metrics(server: Server) -> None:
    tenant = f"metrics-{uuid.uuid4().hex[:6]}"
    ids, invoices, open_exceptions = _lifecycle_and_bill_run(server, tenant)
    _call_without_token(server.target)
    samples = scrape(server.metrics_url)

    engagement = {"grpc_service": "q2c.v1.EngagementService", "grpc_type": "unary"}
    submit = {**engagement, "grpc_method": "SubmitTimeEntries"}
    assert value(samples, "grpc_server_started_total", **submit) == 3
    assert value(samples, "grpc_server_handled_total", **submit, grpc_code="OK") == 3
    assert value(samples, "grpc_server_handling_seconds_count", **submit) == 3
    assert value(samples, "grpc_server_handled_total", grpc_method="CreateEngagement", grpc_code="OK") == 2
    refused = {"grpc_method": "GetCustomer", "grpc_service": "q2c.v1.CustomerService"}
    assert value(samples, "grpc_server_handled_total", **refused, grpc_code="UNAUTHENTICATED") == 1
    assert value(samples, "grpc_server_handled_total", **refused, grpc_code="OK") == 0
    watch = {"grpc_method": "WatchBillRun", "grpc_type": "server_stream"}
    assert value(samples, "grpc_server_handled_total", **watch, grpc_code="OK") == 1
    assert invoices == 2

    assert {labels["shard"] for labels, _ in samples["q2c_shard_up"]} == {"0", "1"}
    assert value(samples, "q2c_shard_up") == 2
    # recorded in the shard processes: the lifecycle, the approvals and the run's invoices
    assert value(samples, "q2c_activations_total") == len(ids)
    assert value(samples, "q2c_hosted_engagements") == len(ids)
    assert value(samples, "q2c_evictions_total") == 0
    assert value(samples, "q2c_batch_size_count") > 0
    assert value(samples, "q2c_commit_seconds_count") > 0
    assert value(samples, "q2c_commit_rows_sum") > 0
    commands = 2 * 5 + 3 + 3 + invoices  # create..activate, submits, approvals, GenerateInvoice
    assert value(samples, "q2c_commands_total") == commands
    assert value(samples, "q2c_batch_size_sum") == commands
    assert value(samples, "q2c_idempotent_replays_total") == 0
    assert value(samples, "q2c_mailbox_depth") == 0

    # read through the app layer at scrape time: the run, the KPIs folded from the events
    assert value(samples, "q2c_bill_runs", tenant=tenant, state="SUCCEEDED") == 1
    assert value(samples, "q2c_bill_runs", tenant=tenant) == 1
    assert value(samples, "q2c_quote_to_activation_seconds_count", tenant=tenant) == len(ids)
    assert value(samples, "q2c_invoice_exceptions_total", tenant=tenant) == 0
    assert value(samples, "q2c_exceptions_open", tenant=tenant) == sum(open_exceptions.values())
    for (queue, severity), count in open_exceptions.items():
        labels = {
            "queue": queue.removeprefix("OWNER_QUEUE_"),
            "severity": severity.removeprefix("EXCEPTION_SEVERITY_"),
        }
        assert value(samples, "q2c_exceptions_open", tenant=tenant, **labels) == count
    assert "q2c_outbox_lag_events" in samples
    assert value(samples, "q2c_audit_chain_ok", tenant=tenant) == 1


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _query(prometheus: str, expr: str) -> list[dict[str, Any]]:
    url = f"{prometheus}/api/v1/query?{urllib.parse.urlencode({'query': expr})}"
    with urllib.request.urlopen(url, timeout=10) as reply:
        body = json.loads(reply.read())
    assert body["status"] == "success", body
    result: list[dict[str, Any]] = body["data"]["result"]
    return result


@pytest.fixture
def prometheus(server: Server, tmp_path: Path) -> Iterator[str]:
    """A real Prometheus (Debian package `prometheus`) scraping the server every second."""
    binary = shutil.which("prometheus")
    assert binary is not None, "prometheus is missing (scripts/test.sh installs Debian's package)"
    target = urllib.parse.urlsplit(server.metrics_url).netloc
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
        "scrape_configs:\n"
        f"  - job_name: q2c\n    static_configs: [{{targets: ['{target}']}}]\n",
        encoding="utf-8",
    )
    address = f"127.0.0.1:{_free_port()}"
    command = [
        binary,
        f"--config.file={config}",
        f"--storage.tsdb.path={tmp_path / 'data'}",
        f"--web.listen-address={address}",
    ]
    with (tmp_path / "prometheus.log").open("w") as log:
        proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    yield f"http://{address}"
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def test_a_real_prometheus_scrapes_the_rpc_and_shard_metrics(server: Server, prometheus: str) -> None:
    _call_without_token(server.target)
    refused = 'grpc_server_handled_total{job="q2c", grpc_method="GetCustomer", grpc_code="UNAUTHENTICATED"}'
    deadline = time.monotonic() + 60
    while True:
        try:
            found = _query(prometheus, refused)
        except OSError:  # Prometheus still starting
            found = []
        if found or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert found, "Prometheus never scraped grpc_server_handled_total"
    assert float(found[0]["value"][1]) >= 1
    assert found[0]["metric"]["grpc_service"] == "q2c.v1.CustomerService"
    shards = _query(prometheus, 'q2c_shard_up{job="q2c"}')
    assert sorted((s["metric"]["shard"], s["value"][1]) for s in shards) == [("0", "1"), ("1", "1")]


def test_prometheus_evaluates_every_dashboard_and_alert_expression(server: Server, prometheus: str) -> None:
    """PromQL that does not parse would fail here (the unit test only checks the names)."""
    dashboard = json.loads((ROOT / "deploy" / "grafana" / "q2c-dashboard.json").read_text(encoding="utf-8"))
    exprs = [t["expr"] for panel in dashboard["panels"] for t in panel.get("targets", [])]
    variables = {"$__rate_interval": "1m", "$service": ".*", "$tenant": ".*"}
    rules = yaml.safe_load((ROOT / "deploy" / "prometheus" / "alerts.yml").read_text(encoding="utf-8"))
    exprs += [rule["expr"] for group in rules["groups"] for rule in group["rules"]]
    deadline = time.monotonic() + 30
    while True:  # until Prometheus answers
        try:
            _query(prometheus, "up")
            break
        except OSError:
            assert time.monotonic() < deadline, "Prometheus did not start"
            time.sleep(0.5)
    for expr in exprs:
        for name, replacement in variables.items():
            expr = expr.replace(name, replacement)
        _query(prometheus, expr)  # asserts status success
