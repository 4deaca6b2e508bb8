"""Alembic environment: uses the connection handed in via config.attributes["connection"]."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from q2c_core.adapters.store.schema import metadata

config = context.config
target_metadata = metadata


def _run(connection: Connection) -> None:
    """Run migrations on an open connection."""
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def run() -> None:
    """Entry point: online mode only (a connection or a sqlalchemy.url is required)."""
    if context.is_offline_mode():
        raise RuntimeError("offline migrations are not supported")
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    from q2c_core.adapters.store.database import make_engine

    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("set config.attributes['connection'] or sqlalchemy.url")
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            _run(conn)
    finally:
        engine.dispose()


run()
