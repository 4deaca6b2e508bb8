"""Host fixtures: a fresh EngagementHost per test over the module's store (both backends)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from q2c_core.adapters.store import Store
from q2c_core.app.host import EngagementHost
from tests.host.helpers import seed_customer


@pytest.fixture
async def host(store: Store) -> AsyncIterator[EngagementHost]:
    """An EngagementHost with default settings, closed after the test."""
    h = EngagementHost(store)
    yield h
    await h.close()


@pytest.fixture
def customer_id(store: Store, tenant_id: str) -> str:
    """An active, fully mapped customer of the test's tenant."""
    return seed_customer(store, tenant_id)
