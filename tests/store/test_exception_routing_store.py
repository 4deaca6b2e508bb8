"""Store contract for exception routing (SQLite and PostgreSQL): queue filter, age order, 0004."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert, inspect, select

from q2c_core.adapters.store import ExceptionRow, Store, WriteBatch, make_engine, migrate
from q2c_core.adapters.store import schema as s
from q2c_core.app.read_models import exception_row as routed_row
from q2c_core.domain.entities import BusinessException, GatedStep, OwnerQueue, Severity
from tests.conftest_db import _pg_database
from tests.store.helpers import T0, exception_row

QUEUES = ("FINANCE_OPS", "SALES_OPS", "DELIVERY_OPS")


def row(tenant: str, xid: str, minute: int, queue: str, **kw: str) -> ExceptionRow:
    """An exception row raised T0 + minute, owned by `queue`."""
    base = exception_row(tenant, xid, f"eng-{xid}", minute=minute, **kw)
    return replace(base, owner_queue=queue, sla_due_time=base.raise_time + timedelta(days=1))


def collect(fetch: Callable[[str], tuple[list[str], str]]) -> list[str]:
    out, token = [], ""
    for _ in range(20):
        items, token = fetch(token)
        out += items
        if not token:
            return out
    raise AssertionError("paging did not end")


@pytest.fixture
def seeded(store: Store, tenant_id: str) -> list[ExceptionRow]:
    """Nine exceptions, three per queue; two share a raise_time (ties break on exception_id)."""
    rows = [row(tenant_id, f"x-{i}", minute=i, queue=QUEUES[i % 3]) for i in range(8)]
    rows.append(row(tenant_id, "x-3b", minute=3, queue="SALES_OPS", state="RESOLVED"))
    store.commit(WriteBatch(exceptions=rows))
    return rows


def test_rows_round_trip_owner_queue_and_sla_due_time(store: Store, tenant_id: str) -> None:
    written = row(tenant_id, "x-1", 1, "DELIVERY_OPS")
    store.commit(WriteBatch(exceptions=[written, replace(written, exception_id="x-2", sla_due_time=None)]))
    assert store.get_exception(tenant_id, "x-1") == written
    got = store.get_exception(tenant_id, "x-2")
    assert got is not None and got.sla_due_time is None


def test_filter_by_owner_queue(store: Store, tenant_id: str, seeded: list[ExceptionRow]) -> None:
    finance = store.list_exceptions(tenant_id, owner_queue="FINANCE_OPS")
    assert [r.exception_id for r in finance.items] == ["x-0", "x-3", "x-6"]
    sales_open = store.list_exceptions(tenant_id, owner_queue="SALES_OPS", state="OPEN")
    assert [r.exception_id for r in sales_open.items] == ["x-1", "x-4", "x-7"]
    sales_all = store.list_exceptions(tenant_id, owner_queue="SALES_OPS")
    assert [r.exception_id for r in sales_all.items] == ["x-1", "x-3b", "x-4", "x-7"]
    assert store.list_exceptions(tenant_id, owner_queue="NOBODY").items == []


@pytest.mark.parametrize("size", [1, 2, 3, 50])
def test_oldest_first_and_newest_first_page_through_everything(
    store: Store, tenant_id: str, seeded: list[ExceptionRow], size: int
) -> None:
    oldest = ["x-0", "x-1", "x-2", "x-3", "x-3b", "x-4", "x-5", "x-6", "x-7"]

    def pages(order_by: str) -> Callable[[str], tuple[list[str], str]]:
        def fetch(token: str) -> tuple[list[str], str]:
            page = store.list_exceptions(tenant_id, order_by=order_by, page_size=size, page_token=token)
            return [r.exception_id for r in page.items], page.next_page_token

        return fetch

    assert collect(pages("oldest_first")) == oldest
    assert collect(pages("newest_first")) == oldest[::-1]
    default = store.list_exceptions(tenant_id, page_size=size)
    assert [r.exception_id for r in default.items] == oldest[:size]  # the default is oldest first


def test_age_order_pages_within_a_queue(store: Store, tenant_id: str, seeded: list[ExceptionRow]) -> None:
    def fetch(token: str) -> tuple[list[str], str]:
        page = store.list_exceptions(
            tenant_id, owner_queue="SALES_OPS", order_by="newest_first", page_size=1, page_token=token
        )
        return [r.exception_id for r in page.items], page.next_page_token

    assert collect(fetch) == ["x-7", "x-4", "x-3b", "x-1"]


def test_page_tokens_are_only_valid_for_their_order(
    store: Store, tenant_id: str, seeded: list[ExceptionRow]
) -> None:
    oldest = store.list_exceptions(tenant_id, page_size=2).next_page_token
    newest = store.list_exceptions(tenant_id, order_by="newest_first", page_size=2).next_page_token
    assert oldest and newest
    with pytest.raises(ValueError, match="page_token"):
        store.list_exceptions(tenant_id, order_by="newest_first", page_token=oldest)
    with pytest.raises(ValueError, match="page_token"):
        store.list_exceptions(tenant_id, page_token=newest)
    with pytest.raises(ValueError, match="order_by"):
        store.list_exceptions(tenant_id, order_by="age")


# --- migration 0004 --------------------------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
    else:
        yield from _pg_database()


def test_migration_0004_adds_and_backfills_owner_queue_and_sla_due_time(fresh_url: str) -> None:
    engine = make_engine(fresh_url)
    migrate(engine, "0003")
    review = BusinessException(
        exception_id="e1.x3.0",
        engagement_id="e1",
        customer_id="c1",
        step=GatedStep.INVOICE,
        check="MISSING_PO_REFERENCE",
        severity=Severity.REVIEW,
        message="bill run skipped",
        raise_time=T0,  # a Thursday: 2 business days -> Monday
    )
    data = review.model_dump(mode="json")
    del data["owner_queue"], data["sla_due_time"]  # as written before 0004
    legacy = routed_row("t", "e1", review)
    columns = {
        "tenant_id": "t",
        "exception_id": legacy.exception_id,
        "engagement_id": "e1",
        "customer_id": "c1",
        "step": legacy.step,
        "check_name": legacy.check_name,
        "severity": legacy.severity,
        "state": legacy.state,
        "raise_time": T0,
    }
    with engine.begin() as conn:  # a row written before revision 0004 (no routing columns yet)
        conn.execute(insert(s.exceptions).values({**columns, "data": data}))
    migrate(engine)
    migrate(engine)  # idempotent
    store = Store(engine)
    try:
        due = T0 + timedelta(days=4)
        got = store.get_exception("t", review.exception_id)
        assert got is not None
        assert (got.owner_queue, got.sla_due_time) == ("FINANCE_OPS", due)
        assert BusinessException.model_validate(got.data) == review  # data has the fields too
        assert got.data["owner_queue"] == "FINANCE_OPS"
        finance = store.list_exceptions("t", owner_queue=OwnerQueue.FINANCE_OPS.value)
        assert [r.exception_id for r in finance.items] == [review.exception_id]
        indexes = {i["name"]: i["column_names"] for i in inspect(engine).get_indexes("exceptions")}
        assert indexes["ix_exceptions_tenant_id_owner_queue"] == ["tenant_id", "owner_queue"]
        with engine.connect() as conn:
            assert conn.execute(select(s.exceptions.c.owner_queue)).scalars().all() == ["FINANCE_OPS"]
    finally:
        store.close()


def test_migration_0004_leaves_unreadable_rows_unrouted(fresh_url: str) -> None:
    engine = make_engine(fresh_url)
    migrate(engine, "0003")
    junk = exception_row("t", "x-junk", "e1")  # data {"id": ...}: not an exception
    with engine.begin() as conn:
        conn.execute(
            insert(s.exceptions).values(
                {k: v for k, v in vars_of(junk).items() if k not in ("owner_queue", "sla_due_time")}
            )
        )
    migrate(engine)
    store = Store(engine)
    try:
        got = store.get_exception("t", "x-junk")
        assert got is not None and (got.owner_queue, got.sla_due_time) == ("", None)
    finally:
        store.close()


def vars_of(x: ExceptionRow) -> dict[str, object]:
    return {name: getattr(x, name) for name in x.__dataclass_fields__}
