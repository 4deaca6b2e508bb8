"""App-layer unit tests: the host, pipeline, catalog and reads over the in-memory store.

No database and no network: the fake passes the same store contract as SQLite and PostgreSQL
(tests/contract/store), so what holds here holds over the real store.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from q2c_core.app.host import EngagementHost
from tests.fakes.memory_store import MemoryStore
from tests.host.helpers import seed_customer


@pytest.fixture
def store() -> MemoryStore:
    """A fresh, empty in-memory store per test."""
    return MemoryStore()


@pytest.fixture
async def host(store: MemoryStore) -> AsyncIterator[EngagementHost]:
    """An EngagementHost with default settings over the fake, closed after the test."""
    h = EngagementHost(store)  # type: ignore[arg-type]
    yield h
    await h.close()


@pytest.fixture
def customer_id(store: MemoryStore, tenant_id: str) -> str:
    """An active, fully mapped customer of the test's tenant."""
    return seed_customer(store, tenant_id)  # type: ignore[arg-type]
