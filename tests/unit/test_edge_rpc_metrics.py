"""The gateway's RPC metrics: plain counts per route, exposed as the grpc-ecosystem families."""

from __future__ import annotations

import time

import grpc
from prometheus_client import CollectorRegistry

from q2c_core.edge.dashboard_view import rpc_latencies
from q2c_core.edge.metrics import RpcMetrics
from tests.unit.test_metrics import samples

LABELS = (
    ("grpc_method", "QualifyEngagement"),
    ("grpc_service", "q2c.v1.EngagementService"),
    ("grpc_type", "unary"),
)


def test_a_call_lands_in_every_bucket_whose_bound_holds_its_duration() -> None:
    registry = CollectorRegistry()
    route = RpcMetrics(registry).route("/q2c.v1.EngagementService/QualifyEngagement", "unary")
    route.done(None, time.perf_counter() - 0.003)  # took 3 ms and a little more
    found = samples(registry)

    def bucket(le: str) -> float:
        return found[("grpc_server_handling_seconds_bucket", tuple(sorted((*LABELS, ("le", le)))))]

    assert bucket("0.0025") == 0
    assert bucket("0.005") == bucket("10.0") == bucket("+Inf") == 1
    assert found[("grpc_server_handling_seconds_count", LABELS)] == 1
    assert 0.003 <= found[("grpc_server_handling_seconds_sum", LABELS)] < 0.005


def test_a_route_is_exposed_from_registration_with_nothing_counted() -> None:
    registry = CollectorRegistry()
    RpcMetrics(registry).route("/q2c.v1.EngagementService/QualifyEngagement", "unary")
    found = samples(registry)
    assert found[("grpc_server_started_total", LABELS)] == 0
    assert found[("grpc_server_handling_seconds_count", LABELS)] == 0
    assert not [name for name, _ in found if name == "grpc_server_handled_total"]


def test_the_same_method_and_type_share_one_route() -> None:
    metrics = RpcMetrics(CollectorRegistry())
    method = "/q2c.v1.EngagementService/QualifyEngagement"
    assert metrics.route(method, "unary") is metrics.route(method, "unary")
    assert metrics.route(method, "unary") is not metrics.route(method, "server_stream")


def test_the_dashboard_reads_calls_mean_and_p99_bound_per_method() -> None:
    metrics = RpcMetrics(CollectorRegistry())
    busy = metrics.route("/q2c.v1.EngagementService/QualifyEngagement", "unary")
    for _ in range(3):
        busy.done(grpc.StatusCode.OK, busy.start())
    metrics.route("/q2c.v1.CustomerService/GetCustomer", "unary")  # never called: not listed
    (row,) = rpc_latencies(metrics)
    assert row.method == "q2c.v1.EngagementService/QualifyEngagement"
    assert row.calls == 3
    assert row.p99_bound_seconds <= 10.0
    assert 0 <= row.mean_seconds < row.p99_bound_seconds
