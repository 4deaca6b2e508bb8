"""Review of bill-run leases over real Ray: a coordinator actor whose run raises still exits."""

from __future__ import annotations

import asyncio
import uuid

import pytest
import ray

from actors.bill_run import BillRunCoordinatorActor, coordinator_name
from actors.runtime import RayRuntime
from q2c_core.adapters.store import Store

pytestmark = pytest.mark.e2e


def registered(name: str) -> bool:
    """Whether an actor is still registered under `name`."""
    try:
        ray.get_actor(name, namespace="q2c")
    except ValueError:
        return False
    return True


async def test_a_coordinator_actor_whose_run_raises_exits_instead_of_lingering(
    ray_cluster: str, database_url: str
) -> None:
    store = Store.open(database_url)
    deployment = f"exit-{uuid.uuid4().hex[:8]}"
    runtime = RayRuntime(store, database_url, shards=1, deployment=deployment)
    name = coordinator_name(deployment, "no-such-run")
    try:
        await runtime.wait_ready()
        actor = BillRunCoordinatorActor.options(  # type: ignore[attr-defined]
            name=name, namespace="q2c", lifetime="detached"
        ).remote(database_url, deployment, 1, "t-none", "no-such-run", (3, 0.0), ("gw-none", 3.0))
        with pytest.raises(Exception):  # noqa: B017 - the run is unknown: whatever Ray reports
            await actor.run.remote()
        loop = asyncio.get_running_loop()
        end = loop.time() + 20
        while registered(name) and loop.time() < end:
            await asyncio.sleep(0.05)
        assert not registered(name), "the detached coordinator actor lingers after its run raised"
    finally:
        if registered(name):
            ray.kill(ray.get_actor(name, namespace="q2c"), no_restart=True)
        await runtime.close(kill_shards=True)
        store.close()
