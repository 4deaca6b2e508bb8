"""Database fixtures: every store contract test runs against SQLite and PostgreSQL.

Load with `pytest_plugins = ["tests.conftest_db"]`. PostgreSQL must be reachable at
Q2C_TEST_PG_URL (default postgresql+psycopg://postgres@127.0.0.1:5432/postgres): if it is
not, the postgresql tests fail; they never skip.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from q2c_core.adapters.store import Store

PG_ADMIN_URL = os.environ.get("Q2C_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def _pg_database() -> Iterator[str]:
    """Create a throwaway PostgreSQL database, yield its URL, drop it."""
    name = f"q2c_test_{uuid.uuid4().hex[:16]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = admin.url.set(database=name).render_as_string(hide_password=False)
        yield url
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"], ids=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh, empty database URL per test module and backend."""
    if request.param == "sqlite":
        path: Path = tmp_path_factory.mktemp("q2c_db") / "q2c.db"
        yield f"sqlite:///{path}"
    else:
        yield from _pg_database()


@pytest.fixture(scope="module")
def store(database_url: str) -> Iterator[Store]:
    """A migrated Store on the module's database."""
    st = Store.open(database_url)
    try:
        yield st
    finally:
        st.close()


def new_tenant_id() -> str:
    """A tenant id no other test uses."""
    return f"tenant-{uuid.uuid4().hex}"


@pytest.fixture
def tenant_id() -> str:
    """A fresh tenant id per test, so tests sharing a module database never interfere."""
    return new_tenant_id()


@pytest.fixture
def make_tenant() -> Callable[[], str]:
    """Factory for further fresh tenant ids within one test."""
    return new_tenant_id
