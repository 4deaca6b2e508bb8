"""Shard actors log like the gateway: the level and format it was started with reach them."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator

import pytest
import ray

from actors.runtime import RayRuntime
from q2c_core.adapters.store import Store


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    opened = Store.open(database_url)
    yield opened
    opened.close()


def root_logging(shard: object) -> tuple[int, str]:
    """The shard process's root level and its handler's formatter class, asked inside the actor."""

    def read(_self: object) -> tuple[int, str]:
        root = logging.getLogger()
        return root.level, type(root.handlers[0].formatter).__name__

    return ray.get(shard.__ray_call__.remote(read))  # type: ignore[attr-defined, no-any-return]


async def test_shards_log_json_at_the_gateway_s_level(
    ray_cluster: str, database_url: str, store: Store
) -> None:
    runtime = RayRuntime(
        store,
        database_url,
        shards=1,
        deployment=f"logs-{uuid.uuid4().hex[:8]}",
        log_settings=("WARNING", "json"),
    )
    try:
        await runtime.wait_ready()
        level, formatter = root_logging(runtime.lanes[0].handle)
    finally:
        await runtime.close(kill_shards=True)
    assert level == logging.WARNING
    assert formatter == "JsonFormatter"
