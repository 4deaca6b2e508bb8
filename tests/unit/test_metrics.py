"""Host telemetry and its collector: buckets, merged shards, and a shard that does not answer."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import grpc
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from q2c_core.app.telemetry import Histogram, HostTelemetry
from q2c_core.edge.metrics import HostCollector, RpcMetrics, Snapshot


def samples(registry: CollectorRegistry) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of the registry's exposition, parsed back, by (name, sorted labels)."""
    text = generate_latest(registry).decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_an_observation_on_a_bound_counts_in_that_bucket_and_beyond_the_last_in_inf() -> None:
    histogram = Histogram((1.0, 2.0))
    for value in (0.5, 1.0, 1.5, 2.0, 9.0):
        histogram.observe(value)
    assert histogram.counts == [2, 2, 1]
    assert histogram.snapshot() == {"bounds": [1.0, 2.0], "counts": [2, 2, 1], "sum": 14.0}


def test_collector_merges_shards_with_cumulative_buckets() -> None:
    one, two = HostTelemetry(), HostTelemetry()
    one.batch_size.observe(3)
    one.batch_size.observe(200)
    two.batch_size.observe(1)
    one.activations, two.activations, two.replays = 4, 1, 2
    snapshots = {"0": one.snapshot(resident=4, mailbox=0), "1": two.snapshot(resident=1, mailbox=7)}
    registry = CollectorRegistry()
    registry.register(HostCollector(lambda: snapshots))
    found = samples(registry)
    assert found[("q2c_batch_size_bucket", (("le", "4.0"), ("shard", "0")))] == 1
    assert found[("q2c_batch_size_bucket", (("le", "256.0"), ("shard", "0")))] == 2
    assert found[("q2c_batch_size_bucket", (("le", "+Inf"), ("shard", "0")))] == 2
    assert found[("q2c_batch_size_count", (("shard", "0"),))] == 2
    assert found[("q2c_batch_size_sum", (("shard", "0"),))] == 203
    assert found[("q2c_batch_size_count", (("shard", "1"),))] == 1
    assert found[("q2c_activations_total", (("shard", "0"),))] == 4
    assert found[("q2c_idempotent_replays_total", (("shard", "1"),))] == 2
    assert found[("q2c_mailbox_depth", (("shard", "1"),))] == 7
    assert found[("q2c_hosted_engagements", (("shard", "0"),))] == 4


def test_a_shard_that_does_not_answer_keeps_its_last_values_and_shows_down() -> None:
    telemetry = HostTelemetry()
    telemetry.activations = 5
    answers: list[Mapping[str, Snapshot | None]] = [
        {"0": telemetry.snapshot(resident=5, mailbox=0)},
        {"0": None},
    ]
    registry = CollectorRegistry()
    registry.register(HostCollector(lambda: answers.pop(0)))
    assert samples(registry)[("q2c_shard_up", (("shard", "0"),))] == 1
    later = samples(registry)
    assert later[("q2c_shard_up", (("shard", "0"),))] == 0
    assert later[("q2c_activations_total", (("shard", "0"),))] == 5


def test_a_failing_source_leaves_the_other_metrics_served() -> None:
    def broken() -> Mapping[str, Any]:
        raise TimeoutError

    registry = CollectorRegistry()
    registry.register(HostCollector(broken))
    rpcs = RpcMetrics(registry)
    route = rpcs.route("/q2c.v1.CustomerService/GetCustomer", "unary")
    route.done(None, route.start())
    found = samples(registry)
    labels = (
        ("grpc_method", "GetCustomer"),
        ("grpc_service", "q2c.v1.CustomerService"),
        ("grpc_type", "unary"),
    )
    assert found[("grpc_server_started_total", labels)] == 1
    handled = tuple(sorted((*labels, ("grpc_code", "OK"))))
    assert found[("grpc_server_handled_total", handled)] == 1
    assert ("q2c_activations_total", (("shard", "0"),)) not in found


def test_handled_counts_each_status_code_apart() -> None:
    registry = CollectorRegistry()
    route = RpcMetrics(registry).route("/q2c.v1.EngagementService/SubmitTimeEntries", "unary")
    for code in (None, None, grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.OK):
        route.done(code, route.start())
    found = {
        (name, dict(labels)["grpc_code"]): value
        for (name, labels), value in samples(registry).items()
        if name == "grpc_server_handled_total"
    }
    assert found == {
        ("grpc_server_handled_total", "OK"): 3,
        ("grpc_server_handled_total", "UNAUTHENTICATED"): 1,
    }
    assert (
        samples(registry)[
            (
                "grpc_server_handling_seconds_count",
                (
                    ("grpc_method", "SubmitTimeEntries"),
                    ("grpc_service", "q2c.v1.EngagementService"),
                    ("grpc_type", "unary"),
                ),
            )
        ]
        == 4
    )


def test_open_reconciliation_mismatches_are_counted_by_kind() -> None:
    from datetime import UTC, datetime
    from types import SimpleNamespace

    from q2c_core.app.records import Page
    from q2c_core.domain.entities import BusinessException, GatedStep, Severity
    from q2c_core.domain.reconciliation import RECONCILIATION_CHECK
    from q2c_core.edge.app_metrics import AppCollector

    now = datetime(2026, 1, 5, tzinfo=UTC)

    def exception(n: int, check: str, kind: str) -> BusinessException:
        return BusinessException(
            exception_id=f"x{n}",
            engagement_id="e1",
            customer_id="c1",
            step=GatedStep.INVOICE,
            check=check,
            severity=Severity.REVIEW,
            message="m",
            item_ids=[f"inv-{n}", kind, "rec-1"],
            raise_time=now,
        )

    listed = [
        exception(1, RECONCILIATION_CHECK, "AMOUNT_DIFFERS"),
        exception(2, RECONCILIATION_CHECK, "AMOUNT_DIFFERS"),
        exception(3, RECONCILIATION_CHECK, "MISSING_IN_ERP"),
        exception(4, "TAX_PROFILE_PRESENT", "not-a-mismatch"),
    ]
    queries = SimpleNamespace(list_exceptions=lambda *args: Page(items=listed))
    collector = AppCollector(SimpleNamespace(queries=queries), clock=lambda: now)  # type: ignore[arg-type]
    families = {f.name: f for f in collector._exceptions(["t1"], now)}
    got = {s.labels["kind"]: s.value for s in families["q2c_reconciliation_mismatches_open"].samples}
    assert got == {"AMOUNT_DIFFERS": 2, "MISSING_IN_ERP": 1}
