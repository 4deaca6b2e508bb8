"""/metrics of an in-process (--local) q2c started by the composition root."""

from __future__ import annotations

import asyncio
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from q2c.v1 import engagement_pb2 as pb
from q2c_core import bootstrap
from q2c_core.bootstrap import running
from q2c_core.edge.metrics import REGISTRY
from q2c_core.settings import parse_settings
from q2c_sdk import Q2cClient
from tests import credentials
from tests.sdk import flows

SUBMIT = {"grpc_method": "SubmitTimeEntries", "grpc_code": "OK"}


def scrape(url: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    """Every sample of /metrics by sample name (an HTTP GET, parsed by prometheus_client)."""
    with urllib.request.urlopen(url, timeout=30) as reply:
        text = reply.read().decode("utf-8")
    found: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found.setdefault(sample.name, []).append((sample.labels, sample.value))
    return found


def value(samples: dict[str, list[tuple[dict[str, str], float]]], name: str, **labels: str) -> float:
    """The sum of the samples of `name` whose labels include `labels`."""
    return sum(v for found, v in samples.get(name, []) if labels.items() <= found.items())


def _one_engagement_with_time(target: str) -> None:
    with Q2cClient(target, token=credentials.token("metrics-local"), deadline=20.0) as q2c:
        eid = flows.active_engagement(q2c).engagement_id
        for entry in ("T1", "T2"):
            q2c.submit_time_entries(
                pb.SubmitTimeEntriesRequest(engagement_id=eid, entries=flows.time_entries(entry))
            )


async def test_local_service_serves_rpc_host_and_app_metrics_then_stops_serving(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bootstrap, "APP_METRICS_SECONDS", 0.0)  # read the store at every scrape
    monkeypatch.setattr(bootstrap, "AUDIT_VERIFY_SECONDS", 0.0)
    settings = parse_settings(
        [
            "--local",
            "--port",
            "0",
            "--metrics-port",
            "0",
            "--database-url",
            f"sqlite:///{tmp_path}/q2c.db",
            "--dev-key-dir",
            str(credentials.dev_key().directory),
        ]
    )
    async with running(settings) as service:
        assert service.metrics is not None and service.metrics.port > 0
        url = f"http://127.0.0.1:{service.metrics.port}/metrics"
        before = await asyncio.to_thread(scrape, url)
        await asyncio.to_thread(_one_engagement_with_time, f"127.0.0.1:{service.gateway.port}")
        after = await asyncio.to_thread(scrape, url)
        service.runtime.bill_run_sweeper.resumed_total += 2  # as two resumed runs count them
        swept = await asyncio.to_thread(scrape, url)
    assert (value(after, "q2c_bill_runs_resumed_total"), value(after, "q2c_bill_runs_lost_total")) == (0, 0)
    assert value(swept, "q2c_bill_runs_resumed_total") == 2
    assert (
        value(after, "grpc_server_handled_total", **SUBMIT)
        - value(before, "grpc_server_handled_total", **SUBMIT)
        == 2
    )
    assert value(after, "q2c_shard_up", shard="0") == 1
    assert value(after, "q2c_activations_total", shard="0") == 1
    assert value(after, "q2c_commands_total", shard="0") == 5 + 2  # create..activate, two submits
    # the engagement was used a moment ago: held live, not hibernating, never thawed
    assert (value(after, "q2c_hosted_engagements", shard="0"), value(after, "q2c_thaws_total")) == (1, 0)
    assert ("shard", "0") in next(iter(after["q2c_hibernating_engagements"]))[0].items()
    assert value(after, "q2c_quote_to_activation_seconds_count", tenant="metrics-local") == 1
    assert value(after, "q2c_audit_chain_ok", tenant="metrics-local") == 1
    assert value(after, "q2c_audit_records_verified", tenant="metrics-local") >= 7
    assert "process_cpu_seconds_total" in after
    with pytest.raises(urllib.error.URLError):
        await asyncio.to_thread(scrape, url)
    names = {metric.name for metric in REGISTRY.collect()}
    assert "q2c_shard_up" not in names and "q2c_bill_runs" not in names  # unregistered on exit
