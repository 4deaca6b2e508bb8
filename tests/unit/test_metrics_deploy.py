"""deploy/: the Grafana dashboard and the Prometheus alert rules use only metrics q2c exports.

The exported names come from a live registry: the gateway's RPC metrics, the collector of a
real in-process host and the app-layer collector over a real (SQLite) store.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from q2c_core.adapters.store import Store
from q2c_core.app.runtime import LocalRuntime
from q2c_core.edge.app_metrics import AppCollector
from q2c_core.edge.metrics import HostCollector, RpcMetrics

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "deploy" / "grafana" / "q2c-dashboard.json"
ALERTS = ROOT / "deploy" / "prometheus" / "alerts.yml"
METRIC = re.compile(r"\b(?:grpc_server|q2c)_[a-z0-9_]+\b")
SUFFIXES = {
    "counter": ("_total", "_created"),
    "gauge": ("",),
    "histogram": ("_bucket", "_count", "_sum", "_created"),
    "summary": ("", "_count", "_sum", "_created"),
}


@pytest.fixture
def exported(tmp_path: Path) -> Iterator[set[str]]:
    """Every sample name q2c's gateway can serve (families with no samples yet included)."""
    store = Store.open(f"sqlite:///{tmp_path}/q2c.db")
    runtime = LocalRuntime(store)
    registry = CollectorRegistry()
    RpcMetrics(registry)
    registry.register(HostCollector(lambda: {"0": runtime.host.metrics_snapshot()}))
    registry.register(AppCollector(runtime, ttl=0.0))
    text = generate_latest(registry).decode()
    yield {
        family.name + suffix
        for family in text_string_to_metric_families(text)
        for suffix in SUFFIXES[family.type]
    }
    store.close()


def dashboard_expressions() -> list[str]:
    """Every PromQL expression of the dashboard: panel targets and template queries."""
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    exprs = [t["expr"] for panel in dashboard["panels"] for t in panel.get("targets", [])]
    exprs += [v["query"] for v in dashboard["templating"]["list"] if v["type"] == "query"]
    return exprs


def alert_rules() -> list[dict[str, object]]:
    """Every rule of every group of alerts.yml."""
    groups = yaml.safe_load(ALERTS.read_text(encoding="utf-8"))["groups"]
    return [rule for group in groups for rule in group["rules"]]


def test_every_metric_the_dashboard_uses_is_exported(exported: set[str]) -> None:
    used = {name for expr in dashboard_expressions() for name in METRIC.findall(expr)}
    assert len(used) > 20
    assert used - exported == set()


def test_every_metric_an_alert_uses_is_exported(exported: set[str]) -> None:
    used = {name for rule in alert_rules() for name in METRIC.findall(str(rule["expr"]))}
    assert {"q2c_outbox_lag_events", "q2c_dead_letters", "q2c_exceptions_sla_breached"} <= used
    assert {"grpc_server_handled_total", "grpc_server_handling_seconds_bucket"} <= used
    assert used - exported == set()


def test_alert_rules_are_named_with_a_severity_and_a_summary() -> None:
    rules = alert_rules()
    names = [rule["alert"] for rule in rules]
    assert len(names) == len(set(names))
    for rule in rules:
        assert str(rule["alert"]).startswith("Q2c"), rule
        assert rule["labels"]["severity"] in {"page", "ticket"}, rule  # type: ignore[index]
        assert rule["annotations"]["summary"], rule  # type: ignore[index]


def test_dashboard_panels_have_unique_ids_and_fit_the_grid() -> None:
    panels = json.loads(DASHBOARD.read_text(encoding="utf-8"))["panels"]
    assert len({panel["id"] for panel in panels}) == len(panels)
    for panel in panels:
        grid = panel["gridPos"]
        assert grid["x"] >= 0 and grid["x"] + grid["w"] <= 24, panel["title"]
        if panel["type"] != "row":
            assert panel["targets"], panel["title"]


def test_promtool_accepts_the_alert_rules() -> None:
    promtool = shutil.which("promtool")
    assert promtool is not None, "promtool is missing (scripts/test.sh installs Debian's prometheus)"
    checked = subprocess.run(
        [promtool, "check", "rules", str(ALERTS)], capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
