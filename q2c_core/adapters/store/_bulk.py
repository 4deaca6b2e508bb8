"""The write path's multi-row statements, compiled once per dialect and handed to the driver as
they are, on its cursor (`_driver.execute`): no statement building, cache-key generation or per-row parameter
compilation on each commit, which were most of a commit's CPU (bench/store_commit.py).

SQLite runs one cached statement per row (executemany). PostgreSQL inserts all rows with one
`INSERT ... SELECT ... FROM unnest(<an array per column>)` whose text does not depend on the row
count, so psycopg prepares it once; the audit and idempotency inserts and the engagement upserts
and updates go as one statement (data-modifying CTEs), whose RETURNING gives the audit ids;
parameters go
in binary (`%b`: a text array in text format costs a regex escape per element). Values go
through the columns' own bind processors (the engine's JSON serializer, SQLite's datetime format),
so rows are stored exactly as SQLAlchemy would store them; statements still pass through the
engine's cursor events.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, cast
from weakref import WeakKeyDictionary

from sqlalchemy import JSON, Column, Connection, Dialect, Table
from sqlalchemy.dialects.sqlite import DATETIME as SQLITE_DATETIME

from q2c_core.adapters.store import _driver as driver
from q2c_core.adapters.store import schema as s

Processor = Callable[[Any], Any] | None
Row = tuple[Any, ...]


def _processor(column: Column[Any], dialect: Dialect) -> Processor:
    """How SQLAlchemy converts a value of `column` for this dialect's driver (None: as is).

    JSON always becomes text with the engine's serializer (psycopg would otherwise get a `Json`
    wrapper, which cannot go into a text array); called directly, as SQLAlchemy's processor
    does for every value but its NULL markers. SQLite's DATETIME text is made by `isoformat`
    (the same text as SQLAlchemy's format, several times faster)."""
    kind = column.type
    if isinstance(kind, JSON):
        if not kind.none_as_null and (serializer := getattr(dialect, "_json_serializer", None)):
            return cast(Processor, serializer)
        text: Processor = kind.bind_processor(dialect)  # type: ignore[no-untyped-call]
        return text
    impl = kind.dialect_impl(dialect)
    if isinstance(impl, SQLITE_DATETIME) and impl._storage_format == SQLITE_DATETIME_FORMAT:
        return sqlite_datetime
    return impl.bind_processor(dialect)


SQLITE_DATETIME_FORMAT = (
    "%(year)04d-%(month)02d-%(day)02d %(hour)02d:%(minute)02d:%(second)02d.%(microsecond)06d"
)


def sqlite_datetime(value: datetime | None) -> str | None:
    """SQLAlchemy's SQLite DATETIME text of a datetime (its zone dropped, as SQLAlchemy does)."""
    return None if value is None else value.isoformat(" ", "microseconds")[:26]


def _converter(names: Sequence[str], procs: Sequence[Processor]) -> Callable[[Sequence[s.Params]], list[Row]]:
    """A function from rows (column name -> value) to tuples of their values in `names` order,
    converted: generated once per statement, so a row costs one tuple display, not a generator."""
    env: dict[str, Any] = {f"p{i}": p for i, p in enumerate(procs) if p is not None}
    values = [
        f"r[{n!r}]" if p is None else f"p{i}(r[{n!r}])"
        for i, (n, p) in enumerate(zip(names, procs, strict=True))
    ]
    exec(f"def convert(rows):\n    return [({', '.join(values)},) for r in rows]\n", env)
    return cast(Callable[[Sequence[s.Params]], list[Row]], env["convert"])


def _arrays(keys: Sequence[str], values: list[Row]) -> dict[str, list[Any]]:
    """PostgreSQL's parameters: an array per column (named by `keys`) of the rows' values."""
    if not values:
        return {k: [] for k in keys}
    return dict(zip(keys, map(list, zip(*values, strict=True)), strict=True))


class Insert:
    """INSERT of many rows into one table (every column but the database-assigned id); on
    PostgreSQL its parameters are named `<prefix><column>`."""

    def __init__(
        self, table: Table, dialect: Dialect, prefix: str, *, upsert_keeping: tuple[str, ...] | None = None
    ) -> None:
        self.columns = [c for c in table.columns if c is not table.autoincrement_column]
        self.names = [c.name for c in self.columns]
        self.convert = _converter(self.names, [_processor(c, dialect) for c in self.columns])
        self.unnest = dialect.name == "postgresql"
        self.prefix = prefix
        self.keys = [f"{prefix}{n}" for n in self.names]
        self.table = table.name
        listed = ", ".join(self.names)
        self.conflict = "" if upsert_keeping is None else _on_conflict(table, upsert_keeping)
        if self.unnest:
            arrays = ", ".join(
                f"%({prefix}{c.name})b::{c.type.compile(dialect=dialect)}[]" for c in self.columns
            )
            self.source = f"unnest({arrays}) WITH ORDINALITY AS v({listed}, n_)"
            self.sql = self.insert_from()
        else:
            marks = ", ".join("?" * len(self.names))
            self.sql = f"INSERT INTO {table.name} ({listed}) VALUES ({marks}){self.conflict}"

    def insert_from(self, join: str = "") -> str:
        """PostgreSQL: INSERT the rows of the column arrays (joined with `join`, if any) in order."""
        values = ", ".join(f"v.{n}" for n in self.names)
        into = f"INSERT INTO {self.table} ({', '.join(self.names)})"
        return f"{into} SELECT {values} FROM {self.source}{join} ORDER BY v.n_{self.conflict}"

    def run(self, conn: Connection, rows: Sequence[s.Params]) -> None:
        """Insert `rows` (column name -> value, as RowMap.params gives them), in order."""
        if rows:
            driver.execute(conn, self.sql, self.params(rows), many=not self.unnest)

    def run_ids(self, conn: Connection, rows: Sequence[s.Params]) -> list[int]:
        """SQLite: insert `rows` in order; the rowids they got, in the same order.

        The rows of one executemany get consecutive rowids: the transaction holds the database's
        write lock (BEGIN IMMEDIATE), so no other insert comes between them.
        """
        if not rows:
            return []
        if len(rows) == 1:
            last = driver.execute(conn, self.sql, self.params(rows)[0])
        else:
            driver.execute(conn, self.sql, self.params(rows), many=True)
            last = driver.execute(conn, "SELECT last_insert_rowid()", fetch=True)[0][0]
        return list(range(int(last) - len(rows) + 1, int(last) + 1))

    def params(self, rows: Sequence[s.Params]) -> Any:
        """The driver's parameters: a tuple per row (SQLite), an array per column (PostgreSQL)."""
        values = self.convert(rows)
        if self.unnest:
            return _arrays(self.keys, values)
        return values


def _on_conflict(table: Table, keep: tuple[str, ...]) -> str:
    """` ON CONFLICT (pk) DO UPDATE` every other column but `keep`, never to a lower version."""
    pk = [c.name for c in table.primary_key.columns]
    sets = ", ".join(f"{c.name} = excluded.{c.name}" for c in table.columns if c.name not in (*pk, *keep))
    where = f" WHERE {table.name}.version <= excluded.version" if "version" in table.c else ""
    return f" ON CONFLICT ({', '.join(pk)}) DO UPDATE SET {sets}{where}"


class Update:
    """UPDATE of the `columns` of many rows, each matched on the `where` columns by equality and
    on `at_most` by `<=`. SQLite: one statement per row, in row order. PostgreSQL: one
    `UPDATE ... FROM unnest(...)`; its nested loop over the array locks the rows in row order
    (callers sort them: a stable lock order)."""

    def __init__(
        self,
        table: Table,
        dialect: Dialect,
        prefix: str,
        columns: Sequence[str],
        where: Sequence[str],
        at_most: str,
    ) -> None:
        self.names = [*columns, *where, at_most]
        self.convert = _converter(self.names, [_processor(table.c[n], dialect) for n in self.names])
        self.unnest = dialect.name == "postgresql"
        self.keys = [f"{prefix}{i}" for i in range(len(self.names))]
        if self.unnest:
            arrays = ", ".join(
                f"%({k})b::{table.c[n].type.compile(dialect=dialect)}[]"
                for k, n in zip(self.keys, self.names, strict=True)
            )
            values = [f"v.{k}" for k in self.keys]
            source, target = f" FROM unnest({arrays}) AS v({', '.join(self.keys)})", f"{table.name}."
        else:
            values, source, target = ["?"] * len(self.names), "", ""
        tests = [f"{target}{n} = {v}" for n, v in zip(self.names, values, strict=True)]
        tests[-1] = f"{target}{at_most} <= {values[-1]}"
        sets = ", ".join(f"{n} = {v}" for n, v in zip(columns, values, strict=False))
        self.sql = f"UPDATE {table.name} SET {sets}{source} WHERE {' AND '.join(tests[len(columns) :])}"

    def run(self, conn: Connection, rows: Sequence[s.Params]) -> None:
        """Update every row (column name -> value; the `at_most` column's value is the bound)."""
        if rows:
            driver.execute(conn, self.sql, self.params(rows), many=not self.unnest)

    def params(self, rows: Sequence[s.Params]) -> Any:
        """The driver's parameters: a tuple per row (SQLite), an array per column (PostgreSQL)."""
        values = self.convert(rows)
        if self.unnest:
            return _arrays(self.keys, values)
        return values


class Statements:
    """The write path's compiled statements for one dialect."""

    def __init__(self, dialect: Dialect) -> None:
        self.unnest = dialect.name == "postgresql"
        self.events = Insert(s.events, dialect, "e_")
        self.audit = Insert(s.audit_records, dialect, "a_")
        self.idempotency = Insert(s.idempotency, dialect, "i_")
        self.engagement_columns = Update(
            s.engagements,
            dialect,
            "u_",
            ("state", "version", "display_name", "update_time", "currency"),
            ("tenant_id", "engagement_id"),
            "version",
        )
        self.snapshots = Insert(s.engagements, dialect, "s_", upsert_keeping=("create_time",))
        self._parts: dict[str, Insert | Update] = {
            "a": self.audit,
            "i": self.idempotency,
            "s": self.snapshots,
            "u": self.engagement_columns,
        }
        self._combined: dict[tuple[str, ...], str] = {}
        self._append: str | None = None

    def write(
        self,
        conn: Connection,
        audit: Sequence[s.Params],
        idempotency: Sequence[s.Params],
        snapshots: Sequence[s.Params],
        columns: Sequence[s.Params],
    ) -> list[int]:
        """Insert the audit and idempotency rows, upsert the engagements with a snapshot (never to
        a lower version), update the other engagements' columns; return the audit records' ids in
        order. On PostgreSQL one statement does it all (one round trip instead of four), else one
        statement each."""
        rows = {"a": audit, "i": idempotency, "s": snapshots, "u": columns}
        if not self.unnest:
            ids = self.audit.run_ids(conn, audit)
            for name in "isu":
                self._parts[name].run(conn, rows[name])
            return ids
        present = tuple(name for name, part in rows.items() if part)
        if not present:
            return []
        params: dict[str, Any] = {}
        for name in present:
            params.update(self._parts[name].params(rows[name]))
        found = driver.execute(conn, self._with(present), params, fetch=True)
        if not audit:
            return []
        by_key = {(r[1], r[2], r[3]): int(r[0]) for r in found}
        return [by_key[(row["tenant_id"], row["stream_id"], row["seq"])] for row in audit]

    def append_events(self, conn: Connection, rows: Sequence[s.Params], lock_key: int, channel: str) -> None:
        """Insert the events, in order. PostgreSQL: in the same statement, first wait for the
        transaction-scoped advisory lock `lock_key` and NOTIFY `channel` once per tenant (sent
        only if the transaction commits); every row is joined with that first step's result, so
        the positions (nextval) are drawn after the lock is granted."""
        if not self.unnest:
            self.events.run(conn, rows)
            return
        if self._append is None:
            notify = "SELECT count(pg_notify(%(channel)s, t)) FROM unnest(%(tenants)b::text[]) AS t"
            lock = f"SELECT pg_advisory_xact_lock({lock_key}) AS locked, ({notify}) AS notified"
            self._append = (
                f"WITH ordered AS MATERIALIZED ({lock}) {self.events.insert_from(' CROSS JOIN ordered')}"
            )
        tenants = sorted({row["tenant_id"] for row in rows})
        driver.execute(
            conn, self._append, {"channel": channel, "tenants": tenants, **self.events.params(rows)}
        )

    def _with(self, present: tuple[str, ...]) -> str:
        """`WITH a AS (<audit insert> RETURNING ...), i AS (...), ... SELECT ... FROM a` with the
        parts present: data-modifying CTEs all run to completion, read or not."""
        found = self._combined.get(present)
        if found is None:
            returning = {"a": " RETURNING record_id, tenant_id, stream_id, seq"}
            ctes = ", ".join(f"{n} AS ({self._parts[n].sql}{returning.get(n, '')})" for n in present)
            main = "SELECT record_id, tenant_id, stream_id, seq FROM a" if "a" in present else "SELECT 1"
            found = self._combined[present] = f"WITH {ctes} {main}"
        return found


_compiled: WeakKeyDictionary[Dialect, Statements] = WeakKeyDictionary()


def statements(dialect: Dialect) -> Statements:
    """The compiled statements for `dialect` (an engine's dialect; compiled on first use)."""
    found = _compiled.get(dialect)
    if found is None:
        found = _compiled[dialect] = Statements(dialect)
    return found
