"""One store contract, three back ends: SQLite, PostgreSQL and the in-memory fake.

The fake is what the app-layer unit tests run on; passing the same suite as the SQL store is
what makes those tests worth trusting (the eventsourcing library's recorder test cases are the
model). Each back end gets a fresh store per test module.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import text

from q2c_core.adapters.store import Store
from tests.conftest_db import _pg_database
from tests.fakes.memory_store import MemoryStore


class Backend:
    """A store under test, plus what a test needs beyond the Store API."""

    def __init__(self, store: Store | MemoryStore, url: str = "") -> None:
        self.store = store
        self.url = url

    def another(self) -> Any:
        """A second handle on the same data, as a second host process would have."""
        return Store.open(self.url, migrate=False) if self.url else self.store

    def tamper(self, tenant: str, stream: str, seq: int, command_type: str) -> None:
        """Rewrite one stored audit record's command type behind the store's back."""
        if isinstance(self.store, MemoryStore):
            self.store.tamper_audit(tenant, stream, seq, command_type=command_type)
            return
        self._sql(
            "UPDATE audit_records SET command_type = :c WHERE tenant_id = :t AND stream_id = :s AND seq = :n",
            c=command_type,
            t=tenant,
            s=stream,
            n=seq,
        )

    def delete(self, tenant: str, stream: str, seq: int) -> None:
        """Delete one stored audit record behind the store's back."""
        if isinstance(self.store, MemoryStore):
            self.store.delete_audit(tenant, stream, seq)
            return
        self._sql(
            "DELETE FROM audit_records WHERE tenant_id = :t AND stream_id = :s AND seq = :n",
            t=tenant,
            s=stream,
            n=seq,
        )

    def _sql(self, statement: str, **params: Any) -> None:
        assert isinstance(self.store, Store)
        with self.store.engine.begin() as conn:
            assert conn.execute(text(statement), params).rowcount == 1


@pytest.fixture(scope="module", params=["sqlite", "postgresql", "memory"])
def backend(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    """A fresh store per module and back end."""
    if request.param == "memory":
        yield Backend(MemoryStore())
        return
    if request.param == "sqlite":
        urls: Iterator[str] = iter([f"sqlite:///{tmp_path_factory.mktemp('q2c_db') / 'q2c.db'}"])
    else:
        urls = _pg_database()
    for url in urls:
        store = Store.open(url)
        try:
            yield Backend(store, url)
        finally:
            store.close()


@pytest.fixture
def store(backend: Backend) -> Any:
    """The back end's store (typed Any: the contract is the Store port, which both satisfy)."""
    return backend.store
