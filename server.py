"""q2c entry point: settings -> store -> Ray (local or cluster) -> runtime -> gateway -> serve."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from collections.abc import Sequence

from q2c_core.adapters.store import Store
from q2c_core.app.runtime import LocalRuntime, Runtime
from q2c_core.edge.app import start_server
from q2c_core.edge.security import GatewaySecurity, SecuritySettingsError, security_from_settings
from q2c_core.settings import Settings, parse_settings

log = logging.getLogger("q2c.server")


def start_ray(settings: Settings) -> bool:
    """Join the configured cluster, or start a local Ray; True when we started it."""
    import ray

    if settings.ray_address:
        ray.init(address=settings.ray_address, namespace="q2c", log_to_driver=False)
        return False
    # ray.init() picks a free GCS port, so a Redis on 6379 is left alone.
    ray.init(num_cpus=settings.ray_num_cpus, include_dashboard=False, namespace="q2c", log_to_driver=False)
    return True


async def build_runtime(settings: Settings, store: Store) -> Runtime:
    """LocalRuntime with --local, otherwise RayRuntime over named shard actors."""
    delivery = settings.delivery_config()
    if settings.local:
        local = LocalRuntime(store, delivery=delivery, self_approval=settings.self_approval_policy())
        await local.start_delivery()
        return local
    from actors.runtime import RayRuntime

    runtime = RayRuntime(
        store,
        settings.database_url,
        shards=settings.shards,
        deployment=settings.deployment,
        delivery=delivery,
        self_approval=settings.self_approval_policy(),
    )
    await runtime.wait_ready()
    await runtime.start_delivery()
    return runtime


def schedule_reconciliation(
    settings: Settings, runtime: Runtime, stop: asyncio.Event
) -> asyncio.Task[None] | None:
    """With --reconcile-interval-seconds and an ERP: reconcile every tenant that often."""
    reconciler = runtime.reconciler
    if settings.reconcile_interval_seconds is None or reconciler is None:
        return None
    from q2c_core.app.reconciliation.service import reconcile_periodically

    interval = settings.reconcile_interval_seconds
    return asyncio.create_task(reconcile_periodically(reconciler, reconciler.tenants, interval, stop))


def schedule_checkpoints(
    settings: Settings, runtime: Runtime, security: GatewaySecurity, stop: asyncio.Event
) -> asyncio.Task[None] | None:
    """With --audit-checkpoint-interval-seconds and a signing key: checkpoint changed tenants."""
    interval = settings.audit_checkpoint_interval_seconds
    if interval is None or security.audit_signer is None:
        return None
    from q2c_core.app.audit.ledger import checkpoint_periodically

    ledger = runtime.queries.audit_ledger(security.audit_signer)
    return asyncio.create_task(checkpoint_periodically(ledger, interval, stop))


async def serve(settings: Settings) -> None:
    """Serve until SIGTERM/SIGINT; then report NOT_SERVING, drain, and stop."""
    store = Store.open(settings.database_url)
    try:
        security = security_from_settings(settings, store)
    except SecuritySettingsError as error:
        store.close()
        raise SystemExit(f"q2c serve: {error}") from error
    started_ray = False if settings.local else start_ray(settings)
    runtime = await build_runtime(settings, store)
    gateway = await start_server(
        runtime, settings.host, settings.port, security=security, limits=settings.server_limits()
    )
    log.info(
        "q2c serving on %s:%d (%s, %d shards, %s, authentication %s)",
        settings.host,
        gateway.port,
        "in-process" if settings.local else "ray",
        settings.shards,
        "TLS" if security.tls else "plaintext",
        "required" if security.authenticator.enabled else "OFF",
    )
    print(f"q2c listening on {settings.host}:{gateway.port}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    scheduled = [
        task
        for task in (
            schedule_reconciliation(settings, runtime, stop),
            schedule_checkpoints(settings, runtime, security, stop),
        )
        if task is not None
    ]
    await stop.wait()
    for task in scheduled:
        await task
    log.info("shutting down: NOT_SERVING, draining for up to %.1fs", settings.grace_seconds)
    await gateway.stop(settings.grace_seconds)
    await runtime.close()
    store.close()
    if started_ray:
        import ray

        ray.shutdown()


def main(argv: Sequence[str] | None = None) -> int:
    """Parse settings and serve."""
    settings = parse_settings(argv)
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    asyncio.run(serve(settings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
