"""The one composition root: settings -> adapters -> app -> runtime -> edge.

Only this module (and the Ray actors) knows the concrete classes of every room. In-process
(`--local`) and Ray are two choices made here, in `build_runtime`; the Ray side is imported
lazily so that q2c_core itself never imports ray.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from prometheus_client.registry import Collector

from q2c_core.adapters.store import Store
from q2c_core.adapters.store.database import sqlite_url
from q2c_core.app.runtime import LocalRuntime, Runtime, RuntimeServices
from q2c_core.edge.app import GatewayServer, start_server
from q2c_core.edge.app_metrics import AppCollector
from q2c_core.edge.dashboard import DashboardEndpoint
from q2c_core.edge.metrics import REGISTRY, HostCollector, MetricsEndpoint, Snapshot
from q2c_core.edge.security import GatewaySecurity, SecuritySettingsError, security_from_settings
from q2c_core.settings import Settings

log = logging.getLogger("q2c.bootstrap")


@dataclass
class Service:
    """A running q2c: its store, runtime, gateway and the security it was built with."""

    settings: Settings
    store: Store
    runtime: Runtime
    gateway: GatewayServer
    security: GatewaySecurity
    metrics: MetricsEndpoint | None = field(default=None)
    """/metrics over HTTP, when --metrics-port was given (`metrics.port` is the bound port)."""
    dashboard: DashboardEndpoint | None = field(default=None)
    """The operations dashboard, when --dashboard-port was given (`dashboard.port` is the bound port)."""


def store_url(settings: Settings) -> str:
    """The database URL every process opens: on SQLite it carries --sqlite-synchronous."""
    return sqlite_url(settings.database_url, settings.sqlite_synchronous)


async def build_runtime(settings: Settings, store: Store) -> Runtime:
    """LocalRuntime with --local, otherwise RayRuntime over named shard actors."""
    delivery = settings.delivery_config()
    from q2c_core.adapters.erp.simulator_connectors import simulator_connectors

    if settings.local:
        local = LocalRuntime(
            store,
            delivery=delivery,
            connectors=simulator_connectors,
            self_approval=settings.self_approval_policy(),
            bill_run_leases=settings.bill_run_leases(),
            bill_run_chunk=settings.bill_run_chunk,
            bill_run_pause=settings.bill_run_pause_seconds,
        )
        await local.start_delivery()
        await local.start_bill_run_sweeper()  # resumes abandoned bill runs until the runtime closes
        return local
    from actors.runtime import RayRuntime

    runtime = RayRuntime(
        store,
        store_url(settings),
        shards=settings.shards,
        deployment=settings.deployment,
        placement=settings.shard_placement,
        channel=settings.shard_channel,
        delivery=delivery,
        connectors=simulator_connectors,
        self_approval=settings.self_approval_policy(),
        log_settings=(settings.log_level, settings.log_format),
        bill_run_leases=settings.bill_run_leases(),
        bill_run_chunk=settings.bill_run_chunk,
        bill_run_pause=settings.bill_run_pause_seconds,
    )
    await runtime.wait_ready()
    await runtime.start_delivery()
    await runtime.start_bill_run_sweeper()  # resumes abandoned bill runs until the runtime closes
    return runtime


def schedule_background(service: Service, stop: asyncio.Event) -> list[asyncio.Task[None]]:
    """Periodic reconciliation and audit checkpoints, when configured; they end with `stop`."""
    settings, runtime, tasks = service.settings, service.runtime, []
    reconciler = runtime.reconciler
    if settings.reconcile_interval_seconds is not None and reconciler is not None:
        from q2c_core.app.reconciliation.service import reconcile_periodically

        interval = settings.reconcile_interval_seconds
        tasks.append(
            asyncio.create_task(reconcile_periodically(reconciler, reconciler.tenants, interval, stop))
        )
    signer = service.security.audit_signer
    if settings.audit_checkpoint_interval_seconds is not None and signer is not None:
        from q2c_core.app.audit.ledger import checkpoint_periodically

        ledger = runtime.queries.audit_ledger(signer)
        interval = settings.audit_checkpoint_interval_seconds
        tasks.append(asyncio.create_task(checkpoint_periodically(ledger, interval, stop)))
    return tasks


SHARD_METRICS_TIMEOUT = 2.0
"""Seconds a scrape waits for a shard's metrics before showing its last known values."""
APP_METRICS_SECONDS = 10.0
"""A scrape reads the store's metrics (exceptions, bill runs, KPIs) at most this often."""
AUDIT_VERIFY_SECONDS = 300.0
"""A scrape verifies every tenant's audit chain at most this often (it reads every record)."""


def host_snapshots(runtime: Runtime) -> Callable[[], Mapping[str, Snapshot | None]]:
    """Where the host metrics come from at scrape time: the in-process host, or every shard
    actor (asked from the HTTP thread through the gateway's event loop, with a timeout)."""
    host = getattr(runtime, "host", None)
    if host is not None:
        return lambda: {"0": host.metrics_snapshot()}
    shard_metrics = getattr(runtime, "shard_metrics", None)
    if shard_metrics is None:
        return dict
    loop = asyncio.get_running_loop()

    def from_shards() -> Mapping[str, Snapshot | None]:
        future = asyncio.run_coroutine_threadsafe(shard_metrics(SHARD_METRICS_TIMEOUT), loop)
        return {str(index): snapshot for index, snapshot in future.result(SHARD_METRICS_TIMEOUT + 1).items()}

    return from_shards


def start_metrics(settings: Settings, runtime: Runtime) -> tuple[MetricsEndpoint, list[Collector]] | None:
    """Serve /metrics on --metrics-port (0: any free port, logged): the gateway's RPCs, the
    hosts' metrics and what the app layer reads from the store."""
    if settings.metrics_port is None:
        return None
    collectors: list[Collector] = [HostCollector(host_snapshots(runtime))]
    if isinstance(runtime, RuntimeServices):
        collectors.append(AppCollector(runtime, APP_METRICS_SECONDS, audit_every=AUDIT_VERIFY_SECONDS))
    for collector in collectors:
        REGISTRY.register(collector)
    endpoint = MetricsEndpoint(settings.host, settings.metrics_port)
    log.info("metrics on http://%s:%d/metrics", settings.host, endpoint.port)
    return endpoint, collectors


def stop_metrics(started: tuple[MetricsEndpoint, list[Collector]] | None) -> None:
    """Stop serving /metrics and unregister the runtime's collectors."""
    if started is not None:
        endpoint, collectors = started
        endpoint.stop()
        for collector in collectors:
            REGISTRY.unregister(collector)


def start_dashboard(
    settings: Settings, runtime: Runtime, security: GatewaySecurity
) -> DashboardEndpoint | None:
    """Serve the operations dashboard on --dashboard-port (0: any free port, logged), trusting
    what the gateway trusts (its authenticator; its TLS files, when it has them)."""
    if settings.dashboard_port is None:
        return None
    endpoint = DashboardEndpoint(
        runtime, security.authenticator, settings.host, settings.dashboard_port, security.tls
    )
    log.info("dashboard on %s://%s:%d/dashboard", endpoint.scheme, settings.host, endpoint.port)
    return endpoint


@asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[Service]:
    """Open the store, check security, start Ray (unless --local), the runtime and the gateway.

    On exit: NOT_SERVING and drain, close the runtime and the store, stop a Ray we started.
    Raises SystemExit naming the problem when the security settings cannot work.
    """
    store = Store.open(store_url(settings))
    try:
        security = security_from_settings(settings, store)
    except SecuritySettingsError as error:
        store.close()
        raise SystemExit(f"q2c serve: {error}") from error
    started_ray = False
    if not settings.local:
        from actors.cluster import start_ray

        started_ray = start_ray(settings.ray_address, settings.ray_num_cpus)
    runtime = await build_runtime(settings, store)
    limits = settings.server_limits()
    gateway = await start_server(runtime, settings.host, settings.port, security=security, limits=limits)
    metrics = start_metrics(settings, runtime)
    dashboard = start_dashboard(settings, runtime, security)
    try:
        yield Service(settings, store, runtime, gateway, security, metrics[0] if metrics else None, dashboard)
    finally:
        log.info("shutting down: NOT_SERVING, draining for up to %.1fs", settings.grace_seconds)
        await gateway.stop(settings.grace_seconds)
        if dashboard is not None:
            dashboard.stop()
        stop_metrics(metrics)
        await runtime.close()
        store.close()
        if started_ray:
            from actors.cluster import stop_ray

            stop_ray()
