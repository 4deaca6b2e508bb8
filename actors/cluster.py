"""Joining or starting Ray for a gateway process."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import ray
from ray._private import node as ray_node

# What a local head runs for q2c, beyond the GCS, the raylet and the raylet's two agents (those
# the raylet fate-shares with: they stay). q2c has no autoscaler, reads no Ray log through its
# driver (log_to_driver=False), and serves its own metrics (prometheus-client), so the
# autoscaler monitor, the log monitor and the API server (dashboard.py, which runs with
# include_dashboard=False only to report usage stats, disabled too) are not started: ~280 MB of
# RSS (bench/bill_run.py's peak_rss_mb_by_process). ray.init has no parameter for these, so the
# head is started through a subclass of Ray's private Node for the length of ray.init;
# tests/e2e/test_cluster_start.py checks it on each Ray upgrade. LEAN_HEAD = False starts Ray's
# default set.
LEAN_HEAD = True
# Ray's own bookkeeping that q2c never reads: per-task events sent to the GCS (the state API,
# ray.timeline; 0 turns recording off) and the core workers' metrics exported to the dashboard
# agent (q2c's metrics are its own). Only a head started here takes them: a joined cluster
# keeps its own configuration.
SYSTEM_CONFIG: dict[str, Any] = {"task_events_report_interval_ms": 0, "enable_metrics_collection": False}


class _LeanHead(ray_node.Node):
    """A head node without the autoscaler monitor, the log monitor and the API server."""

    def __init__(self, ray_params: Any, head: bool = False, **kwargs: Any) -> None:
        if head:
            ray_params.no_monitor = True
            ray_params.include_log_monitor = False
        super().__init__(ray_params, head=head, **kwargs)

    def start_api_server(self, *, include_dashboard: bool | None, raise_on_failure: bool) -> None:
        if include_dashboard:  # asked for explicitly: Ray's own behaviour
            super().start_api_server(include_dashboard=include_dashboard, raise_on_failure=raise_on_failure)


@contextlib.contextmanager
def _lean_head() -> Iterator[None]:
    """While ray.init starts the local head, it starts a _LeanHead (and only then)."""
    base = ray_node.Node
    ray_node.Node = _LeanHead  # type: ignore[misc,assignment]
    try:
        yield
    finally:
        ray_node.Node = base  # type: ignore[misc]


def start_ray(address: str | None, num_cpus: int | None) -> bool:
    """Join the cluster at `address`, or start a local Ray; True when this process started it."""
    if address:
        ray.init(address=address, namespace="q2c", log_to_driver=False)
        return False
    # ray.init() picks a free GCS port, so a Redis on 6379 is left alone.
    with _lean_head() if LEAN_HEAD else contextlib.nullcontext():
        ray.init(
            num_cpus=num_cpus,
            include_dashboard=False,
            namespace="q2c",
            log_to_driver=False,
            _system_config=SYSTEM_CONFIG,
        )
    return True


def stop_ray() -> None:
    """Shut down the Ray this process started."""
    ray.shutdown()
