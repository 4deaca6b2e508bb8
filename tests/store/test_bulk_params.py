"""The write path's own parameter conversion gives the driver exactly what SQLAlchemy's bind
processors would (so rows are stored as they always were)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import JSON, DateTime, Dialect, Table
from sqlalchemy.dialects import postgresql, sqlite

from q2c_core.adapters.store import schema as s
from q2c_core.adapters.store._bulk import Insert, Update, sqlite_datetime
from q2c_core.adapters.store.database import _dumps
from tests.store.helpers import audit, ev, idem

TIMES = [
    datetime(2026, 1, 1, 12, 0, 0, 123456, tzinfo=UTC),
    datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC),  # no microseconds: still six digits
    datetime(2026, 7, 4, 23, 59, 59, 1, tzinfo=timezone(timedelta(hours=-5))),
    datetime(2026, 2, 3, 4, 5, 6, 7),  # naive
    datetime(5, 1, 2, 3, 4, 5, 600000, tzinfo=UTC),  # a year of fewer than four digits
]


def _dialect(name: str) -> Dialect:
    dialect = sqlite.dialect() if name == "sqlite" else postgresql.dialect()
    dialect._json_serializer = _dumps  # type: ignore[attr-defined]  # as make_engine sets it
    return dialect


def _expected(table: Table, dialect: Dialect, names: list[str], row: dict[str, Any]) -> tuple[Any, ...]:
    """The values as SQLAlchemy's own bind processors convert them."""
    out = []
    for name in names:
        kind = table.c[name].type
        proc = (
            kind.bind_processor(dialect)  # type: ignore[no-untyped-call]
            if isinstance(kind, JSON)
            else kind.dialect_impl(dialect).bind_processor(dialect)
        )
        out.append(row[name] if proc is None else proc(row[name]))
    return tuple(out)


@pytest.mark.parametrize("value", [*TIMES, None])
def test_sqlite_datetime_text_is_sqlalchemys(value: datetime | None) -> None:
    dialect = sqlite.dialect()
    expected = DateTime(timezone=True).dialect_impl(dialect).bind_processor(dialect)(value)

    assert sqlite_datetime(value) == expected


@pytest.mark.parametrize("name", ["sqlite", "postgresql"])
def test_insert_parameters_are_sqlalchemys(name: str) -> None:
    dialect = _dialect(name)
    events = [ev("t", "s", n, payload={"ü": [n, None, "x"]}) for n in (1, 2, 3)]
    rows = [s.EVENTS.params(e) for e in events]
    for row, when in zip(rows, TIMES, strict=False):
        row["occurred_at"] = when
    cases: list[tuple[Table, list[dict[str, Any]]]] = [
        (s.events, rows),
        (s.idempotency, [s.IDEMPOTENCY.params(idem("t", f"r{n}")) for n in (1, 2)]),
        (
            s.audit_records,
            [
                s.AUDIT.params(
                    audit("t", "s", event_ids=("s:1",)),
                    seq=1,
                    prev_hash="0",
                    hash="1",
                    events_digest=None,
                    chain_version=1,
                )
            ],
        ),
    ]
    for table, given in cases:
        insert = Insert(table, dialect, "x_")
        expected = [_expected(table, dialect, insert.names, row) for row in given]

        got = insert.params(given)

        if name == "sqlite":
            assert got == expected
        else:
            assert got == {f"x_{n}": [r[i] for r in expected] for i, n in enumerate(insert.names)}


@pytest.mark.parametrize("name", ["sqlite", "postgresql"])
def test_update_parameters_are_sqlalchemys(name: str) -> None:
    dialect = _dialect(name)
    columns, where = ("state", "update_time"), ("tenant_id", "engagement_id")
    update = Update(s.engagements, dialect, "u_", columns, where, "version")
    rows = [
        {"state": "ACTIVE", "update_time": when, "tenant_id": "t", "engagement_id": f"e{n}", "version": n}
        for n, when in enumerate(TIMES)
    ]
    names = [*columns, *where, "version"]
    expected = [_expected(s.engagements, dialect, names, row) for row in rows]

    got = update.params(rows)

    if name == "sqlite":
        assert got == expected
    else:
        assert got == {f"u_{i}": [r[i] for r in expected] for i in range(len(names))}
