"""Prometheus metrics of the gateway: its RPCs, and every engagement host it can reach.

RPCs use the grpc-ecosystem names (go-grpc-prometheus / py-grpc-prometheus), so existing
dashboards work: `grpc_server_started_total`, `grpc_server_handled_total` and
`grpc_server_handling_seconds`, counted by the one interceptor (refusals included, with their
code). The hosts count into plain `HostTelemetry` (app/telemetry.py) in whatever process they
run; `HostCollector` asks each for its cumulative snapshot at scrape time (on Ray: every shard
actor, with a timeout) and keeps the last answer of a shard that does not reply, so no metric
vanishes because it was recorded in another process.
"""

from __future__ import annotations

import logging
import time
from bisect import bisect_left
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import grpc
from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector

log = logging.getLogger(__name__)

HANDLING_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
"""Seconds from a call reaching the interceptor to its reply (or refusal)."""
_RPC_LABELS = ("grpc_type", "grpc_service", "grpc_method")

Snapshot = Mapping[str, Any]
"""A host's `metrics_snapshot()`: see `q2c_core.app.telemetry.HostTelemetry.snapshot`."""
SnapshotSource = Callable[[], Mapping[str, Snapshot | None]]
"""Snapshots by shard label at scrape time; None for a shard that did not answer."""


def new_registry() -> CollectorRegistry:
    """A registry with the process and platform collectors (CPU, memory, open fds, Python).

    No auto_describe: registering a collector must not run its collect() (which asks the
    shards through the event loop that is registering it, and reads the store)."""
    registry = CollectorRegistry(auto_describe=False)
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    return registry


@dataclass(slots=True)
class RouteMetrics:
    """What one RPC counts: plain numbers, read by `RpcMetrics` at scrape time.

    Only the gateway's event loop thread counts (every wrapped call runs on it), so a call costs
    a few additions and one bisect, not prometheus_client's lock per counter, three times."""

    labels: tuple[str, str, str]
    """grpc_type, grpc_service, grpc_method."""
    started: int = 0
    handled: dict[str, int] = field(default_factory=dict)
    """Calls ended, by status code name."""
    buckets: list[int] = field(default_factory=lambda: [0] * (len(HANDLING_BUCKETS) + 1))
    """Calls by duration: buckets[i] took at most HANDLING_BUCKETS[i] (the last: more), not
    cumulative."""
    seconds: float = 0.0

    def start(self) -> float:
        """Count the call as started; returns its start time."""
        self.started += 1
        return time.perf_counter()

    def done(self, code: grpc.StatusCode | None, started: float) -> None:
        """Count the call as handled with `code` (None: OK) and observe its duration."""
        took = time.perf_counter() - started
        self.seconds += took
        self.buckets[bisect_left(HANDLING_BUCKETS, took)] += 1  # a bucket holds durations <= its bound
        name = _CODE_NAMES[code]
        self.handled[name] = self.handled.get(name, 0) + 1

    def latency(self) -> tuple[int, float, list[tuple[float, int]]]:
        """Calls, their total seconds, and the cumulative count at each bound (inf last)."""
        counts, total = list(self.buckets), self.seconds
        cumulative, running = [], 0
        for bound, count in zip((*HANDLING_BUCKETS, float("inf")), counts, strict=True):
            running += count
            cumulative.append((bound, running))
        return running, total, cumulative


_CODE_NAMES: dict[grpc.StatusCode | None, str] = {None: "OK", **{code: code.name for code in grpc.StatusCode}}


class RpcMetrics(Collector):
    """The three grpc-ecosystem server metrics of every route, collected from `RouteMetrics`."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self._routes: dict[tuple[str, str, str], RouteMetrics] = {}
        registry.register(self)

    def route(self, method: str, grpc_type: str) -> RouteMetrics:
        """The counts of one full method name (/package.Service/Method); one per method and type."""
        service, _, name = method.lstrip("/").partition("/")
        labels = (grpc_type, service, name)
        route = self._routes.get(labels)
        if route is None:
            route = self._routes[labels] = RouteMetrics(labels)
        return route

    def routes(self) -> list[RouteMetrics]:
        """Every route counted so far (a copy: scrapes run on another thread)."""
        return list(self._routes.values())

    def collect(self) -> Iterable[Metric]:
        """grpc_server_started_total, grpc_server_handled_total, grpc_server_handling_seconds."""
        started = CounterMetricFamily(
            "grpc_server_started", "RPCs started on the server.", labels=_RPC_LABELS
        )
        handled = CounterMetricFamily(
            "grpc_server_handled",
            "RPCs completed on the server, by gRPC status code.",
            labels=(*_RPC_LABELS, "grpc_code"),
        )
        handling = HistogramMetricFamily(
            "grpc_server_handling_seconds",
            "Time from a call's arrival to its reply or refusal.",
            labels=_RPC_LABELS,
        )
        for route in self.routes():
            started.add_metric(route.labels, route.started)
            for code, count in dict(route.handled).items():
                handled.add_metric((*route.labels, code), count)
            _, total, cumulative = route.latency()
            handling.add_metric(route.labels, [(_bound(b), c) for b, c in cumulative], total)
        yield started
        yield handled
        yield handling


REGISTRY = new_registry()
"""The gateway process's registry, served on --metrics-port."""
RPC_METRICS = RpcMetrics(REGISTRY)
"""What the interceptor counts into (one per process, like the prometheus default registry)."""


def _histogram(name: str, doc: str, snapshots: Iterable[tuple[str, Snapshot]], key: str) -> Metric:
    family = HistogramMetricFamily(name, doc, labels=["shard"])
    for shard, snapshot in snapshots:
        data = snapshot[key]
        cumulative, buckets = 0, []
        for bound, count in zip([*data["bounds"], float("inf")], data["counts"], strict=True):
            cumulative += count
            buckets.append((_bound(bound), cumulative))
        family.add_metric([shard], buckets, data["sum"])
    return family


def _bound(value: float) -> str:
    return "+Inf" if value == float("inf") else repr(float(value))


def _counter(name: str, doc: str, snapshots: Iterable[tuple[str, Snapshot]], key: str) -> Metric:
    family = CounterMetricFamily(name, doc, labels=["shard"])
    for shard, snapshot in snapshots:
        family.add_metric([shard], snapshot[key])
    return family


def _gauge(name: str, doc: str, snapshots: Iterable[tuple[str, Snapshot]], key: str) -> Metric:
    family = GaugeMetricFamily(name, doc, labels=["shard"])
    for shard, snapshot in snapshots:
        family.add_metric([shard], snapshot[key])
    return family


class HostCollector(Collector):
    """q2c_* metrics of every engagement host, from their snapshots at scrape time."""

    def __init__(self, source: SnapshotSource) -> None:
        self.source = source
        self.last: dict[str, Snapshot] = {}

    def collect(self) -> Iterable[Metric]:
        """Ask every host; a host that does not answer keeps its last values (q2c_shard_up 0)."""
        try:
            answers = dict(self.source())
        except Exception:  # a failing source must not take the gateway's own metrics down
            log.exception("host metrics unavailable")
            answers = {}
        up = GaugeMetricFamily("q2c_shard_up", "1 when the shard answered this scrape.", labels=["shard"])
        for shard, snapshot in answers.items():
            up.add_metric([shard], 0.0 if snapshot is None else 1.0)
            if snapshot is not None:
                self.last[shard] = snapshot
        known = sorted(self.last.items())
        yield up
        yield _histogram("q2c_batch_size", "Commands per group-committed batch.", known, "batch_size")
        yield _histogram(
            "q2c_commit_seconds", "Seconds per group commit (one transaction).", known, "commit_seconds"
        )
        yield _histogram("q2c_commit_rows", "Rows written per group commit.", known, "commit_rows")
        yield _counter("q2c_activations", "Engagements loaded or created in memory.", known, "activations")
        yield _counter("q2c_evictions", "Engagements evicted from memory.", known, "evictions")
        yield _counter("q2c_idempotent_replays", "Commands answered from idempotency.", known, "replays")
        yield _counter("q2c_commands", "Commands decided and committed by the hosts.", known, "commands")
        yield _counter("q2c_command_rejections", "Commands rejected by the domain.", known, "rejections")
        yield _gauge("q2c_hosted_engagements", "Engagements held live in memory.", known, "resident")
        hibernating = [(shard, snapshot) for shard, snapshot in known if "hibernating" in snapshot]
        yield _gauge(
            "q2c_hibernating_engagements",
            "Idle engagements held as compressed snapshots (thawed on their next command).",
            hibernating,
            "hibernating",
        )
        yield _counter("q2c_hibernations", "Engagements compacted.", hibernating, "hibernations")
        yield _counter("q2c_thaws", "Hibernating engagements rebuilt for a command.", hibernating, "thaws")
        yield _gauge("q2c_mailbox_depth", "Commands waiting for the host's next batch.", known, "mailbox")


class MetricsEndpoint:
    """/metrics over HTTP in a daemon thread (prometheus_client's WSGI server)."""

    def __init__(self, host: str, port: int, registry: CollectorRegistry = REGISTRY) -> None:
        self._server, self._thread = start_http_server(port, host, registry)
        self.port: int = self._server.server_port
        """The bound port (the one picked when 0 was asked for)."""

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
