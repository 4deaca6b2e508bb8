"""The write path's multi-row statements, compiled once per dialect and handed to the driver as
they are (`exec_driver_sql`): no statement building, cache-key generation or per-row parameter
compilation on each commit, which were most of a commit's CPU (bench/store_commit.py).

SQLite runs one cached statement per row (executemany). PostgreSQL inserts all rows with one
`INSERT ... SELECT ... FROM unnest(<an array per column>)` whose text does not depend on the row
count, so psycopg prepares it once, and RETURNING gives the ids in one round trip; parameters go
in binary (`%b`: a text array in text format costs a regex escape per element). Values go
through the columns' own bind processors (the engine's JSON serializer, SQLite's datetime format),
so rows are stored exactly as SQLAlchemy would store them; statements still pass through the
engine's cursor events.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import JSON, Column, Connection, Dialect, Table

from q2c_core.adapters.store import schema as s

Processor = Callable[[Any], Any] | None


def _processor(column: Column[Any], dialect: Dialect) -> Processor:
    """How SQLAlchemy converts a value of `column` for this dialect's driver (None: as is).

    JSON always becomes text with the engine's serializer (psycopg would otherwise get a `Json`
    wrapper, which cannot go into a text array)."""
    if isinstance(column.type, JSON):
        text: Processor = column.type.bind_processor(dialect)  # type: ignore[no-untyped-call]
        return text
    return column.type.dialect_impl(dialect).bind_processor(dialect)


def _convert(
    rows: Sequence[s.Params], names: Sequence[str], procs: Sequence[Processor]
) -> list[tuple[Any, ...]]:
    """Each row's values in `names` order, converted."""
    pairs = list(zip(names, procs, strict=True))
    return [tuple(row[n] if p is None else p(row[n]) for n, p in pairs) for row in rows]


class Insert:
    """INSERT of many rows into one table (every column but the database-assigned id)."""

    def __init__(self, table: Table, dialect: Dialect) -> None:
        self.columns = [c for c in table.columns if c is not table.autoincrement_column]
        self.names = [c.name for c in self.columns]
        self.procs = [_processor(c, dialect) for c in self.columns]
        self.unnest = dialect.name == "postgresql"
        listed = ", ".join(self.names)
        if self.unnest:
            arrays = ", ".join(f"%({c.name})b::{c.type.compile(dialect=dialect)}[]" for c in self.columns)
            self.sql = (
                f"INSERT INTO {table.name} ({listed}) SELECT {listed} FROM unnest({arrays})"
                f" WITH ORDINALITY AS v({listed}, n_) ORDER BY n_"
            )
        else:
            self.sql = f"INSERT INTO {table.name} ({listed}) VALUES ({', '.join('?' * len(self.names))})"
        self.id_column = table.autoincrement_column

    def run(self, conn: Connection, rows: Sequence[s.Params]) -> None:
        """Insert `rows` (column name -> value, as RowMap.params gives them), in order."""
        if rows:
            conn.exec_driver_sql(self.sql, self._params(rows))

    def run_ids(self, conn: Connection, rows: Sequence[s.Params], key: Sequence[str]) -> list[int]:
        """Insert `rows` in order; the ids the database assigned them, in the same order.

        `key` names columns that are unique together among the rows (the ids come back keyed by
        them on PostgreSQL). On SQLite the rows of one executemany get consecutive rowids: the
        transaction holds the database's write lock (BEGIN IMMEDIATE).
        """
        if not rows:
            return []
        assert self.id_column is not None
        if self.unnest:
            returning = ", ".join([self.id_column.name, *key])
            found = conn.exec_driver_sql(f"{self.sql} RETURNING {returning}", self._params(rows))
            ids = {tuple(r[1:]): int(r[0]) for r in found}
            return [ids[tuple(row[k] for k in key)] for row in rows]
        if len(rows) == 1:
            last = conn.exec_driver_sql(self.sql, self._params(rows)[0]).lastrowid
        else:
            conn.exec_driver_sql(self.sql, self._params(rows))
            last = conn.exec_driver_sql("SELECT last_insert_rowid()").scalar_one()
        return list(range(int(last) - len(rows) + 1, int(last) + 1))

    def _params(self, rows: Sequence[s.Params]) -> Any:
        values = _convert(rows, self.names, self.procs)
        if self.unnest:
            return {n: [v[i] for v in values] for i, n in enumerate(self.names)}
        return values


class Update:
    """UPDATE of the `columns` of many rows, each matched on the `where` columns by equality and
    on `at_most` by `<=`. SQLite: one statement per row, in row order. PostgreSQL: one
    `UPDATE ... FROM unnest(...)`; its nested loop over the array locks the rows in row order
    (callers sort them: a stable lock order)."""

    def __init__(
        self, table: Table, dialect: Dialect, columns: Sequence[str], where: Sequence[str], at_most: str
    ) -> None:
        self.names = [*columns, *where, at_most]
        self.procs = [_processor(table.c[n], dialect) for n in self.names]
        self.unnest = dialect.name == "postgresql"
        if self.unnest:
            alias = ", ".join(f"p{i}" for i in range(len(self.names)))
            arrays = ", ".join(
                f"%(p{i})b::{table.c[n].type.compile(dialect=dialect)}[]" for i, n in enumerate(self.names)
            )
            values = [f"v.p{i}" for i in range(len(self.names))]
            source = f" FROM unnest({arrays}) AS v({alias})"
            target = table.name
        else:
            values, source, target = ["?"] * len(self.names), "", ""
        column = f"{target}." if target else ""
        tests = [f"{column}{n} = {v}" for n, v in zip(self.names, values, strict=True)]
        tests[-1] = f"{column}{at_most} <= {values[-1]}"
        sets = ", ".join(f"{n} = {v}" for n, v in zip(columns, values, strict=False))
        self.sql = f"UPDATE {table.name} SET {sets}{source} WHERE {' AND '.join(tests[len(columns) :])}"

    def run(self, conn: Connection, rows: Sequence[s.Params]) -> None:
        """Update every row (column name -> value; the `at_most` column's value is the bound)."""
        if not rows:
            return
        values = _convert(rows, self.names, self.procs)
        if self.unnest:
            conn.exec_driver_sql(self.sql, {f"p{i}": [v[i] for v in values] for i in range(len(self.names))})
        else:
            conn.exec_driver_sql(self.sql, values)


class Statements:
    """The write path's compiled statements for one dialect."""

    def __init__(self, dialect: Dialect) -> None:
        self.events = Insert(s.events, dialect)
        self.audit = Insert(s.audit_records, dialect)
        self.idempotency = Insert(s.idempotency, dialect)
        self.engagement_columns = Update(
            s.engagements,
            dialect,
            ("state", "version", "display_name", "update_time", "currency"),
            ("tenant_id", "engagement_id"),
            "version",
        )


_compiled: WeakKeyDictionary[Dialect, Statements] = WeakKeyDictionary()


def statements(dialect: Dialect) -> Statements:
    """The compiled statements for `dialect` (an engine's dialect; compiled on first use)."""
    found = _compiled.get(dialect)
    if found is None:
        found = _compiled[dialect] = Statements(dialect)
    return found
