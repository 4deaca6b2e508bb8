"""`q2c load` against a gateway over Ray shard actors (the session's Ray, two shards) on
PostgreSQL: the month-end runs through the real actors, writes its report, sends the planned RPCs
and its check passes."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from actors.runtime import RayRuntime
from q2c_core.adapters.store import Store
from tests.cli.conftest import ThreadedServer
from tests.conftest_db import _pg_database
from tests.load.conftest import LoadTarget
from tests.load.test_load_run import run_and_check


class RayServer(ThreadedServer):
    """The threaded gateway, over RayRuntime shards instead of the in-process runtime."""

    async def runtime(self, store: Store) -> RayRuntime:
        """Two shard actors of a deployment of its own, started."""
        runtime = RayRuntime(store, self.database_url, shards=2, deployment=f"load-{uuid.uuid4().hex[:8]}")
        await runtime.wait_ready()
        return runtime

    async def close_runtime(self, runtime: RayRuntime) -> None:
        """Close the runtime and kill its shard actors."""
        await runtime.close(kill_shards=True)


@pytest.fixture(scope="module")
def database_url() -> Iterator[str]:
    """A fresh PostgreSQL database, for this module."""
    yield from _pg_database()


@pytest.fixture(scope="module")
def load_server(ray_cluster: str, database_url: str) -> Iterator[str]:
    """The gateway over Ray shards; its target."""
    running = RayServer(database_url).start()
    try:
        yield f"127.0.0.1:{running.port}"
    finally:
        running.stop()


def test_a_month_end_over_ray_shards_passes_the_check(load_target: LoadTarget, tmp_path: Path) -> None:
    data = run_and_check(load_target, tmp_path)
    assert data["run"]["server"]["shards"] == 2
