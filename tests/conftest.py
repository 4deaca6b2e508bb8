"""Test session wiring: database fixtures (SQLite and PostgreSQL) and one shared Ray."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

pytest_plugins = ["tests.conftest_db"]


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[str]:
    """A local Ray shared by the whole session (2 CPUs; shard actors reserve none)."""
    import ray

    ray.init(num_cpus=2, include_dashboard=False, namespace="q2c", log_to_driver=False)
    yield ray.get_runtime_context().gcs_address
    ray.shutdown()
