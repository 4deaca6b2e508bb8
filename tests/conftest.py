"""Test session wiring: database fixtures (SQLite and PostgreSQL) and one shared Ray."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

pytest_plugins = ["tests.conftest_db"]


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[str]:
    """A local Ray shared by the whole session (2 CPUs; shard actors reserve none)."""
    import ray

    from actors.cluster import start_ray, stop_ray

    start_ray(None, 2)  # the local head a server starts
    yield ray.get_runtime_context().gcs_address
    stop_ray()
