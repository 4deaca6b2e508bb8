"""Statements run on the driver's cursor itself: what `Connection.exec_driver_sql` does for the
write path's precompiled statements (SQLite and PostgreSQL), minus the execution context and
result object it builds around each one (most of a small statement's CPU,
bench/store_commit.py). The engine's
cursor events still fire around every statement, and driver errors still become SQLAlchemy's
(IntegrityError, OperationalError, ...), so `_guard.guard` maps them as before.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError


def execute(conn: Connection, sql: str, params: Any = (), *, many: bool = False, fetch: bool = False) -> Any:
    """Run `sql` once with `params` (or once per row of `params` when `many`) inside `conn`'s
    transaction; its rows when `fetch`, else the cursor's lastrowid (SQLite: the rowid of the
    row inserted; None on PostgreSQL)."""
    events = conn.dispatch
    cursor = None
    try:
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        if events.before_cursor_execute:
            events.before_cursor_execute(conn, cursor, sql, params, None, many)
        if many:
            cursor.executemany(sql, params)
        else:
            cursor.execute(sql, params)
        if events.after_cursor_execute:
            events.after_cursor_execute(conn, cursor, sql, params, None, many)
        return cursor.fetchall() if fetch else getattr(cursor, "lastrowid", None)
    except conn.dialect.loaded_dbapi.Error as error:
        raise DBAPIError.instance(
            sql, params, error, conn.dialect.loaded_dbapi.Error, dialect=conn.dialect, ismulti=many
        ) from error
    finally:
        if cursor is not None:
            cursor.close()
