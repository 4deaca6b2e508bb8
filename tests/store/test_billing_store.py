"""Store contract for the billing read side (SQLite and PostgreSQL): invoices, bill runs, scope."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert, select

from q2c_core.adapters.store import (
    BillRunRow,
    ConcurrencyConflict,
    InvoiceRow,
    Store,
    WriteBatch,
    make_engine,
    migrate,
)
from q2c_core.adapters.store import schema as s
from tests.conftest_db import _pg_database
from tests.store.helpers import T0, engagement, uid

MIGRATIONS = Path(__file__).resolve().parents[2] / "q2c_core/adapters/store/migrations/versions"


def invoice(
    tenant: str, iid: str, eid: str, *, minute: int = 0, state: str = "DRAFT", run: str = ""
) -> InvoiceRow:
    """An invoice read-model row."""
    t = T0 + timedelta(minutes=minute)
    return InvoiceRow(
        tenant_id=tenant,
        invoice_id=iid,
        engagement_id=eid,
        customer_id=f"cust-{eid}",
        state=state,
        period_key="2026-01",
        bill_run_id=run,
        currency="USD",
        total="108.88",
        data={"invoice_id": iid, "state": state},
        create_time=t,
        update_time=t,
    )


def bill_run(
    tenant: str, rid: str, version: int = 1, *, state: str = "PENDING", minute: int = 0
) -> BillRunRow:
    """A bill run row."""
    t = T0 + timedelta(minutes=minute)
    return BillRunRow(
        tenant_id=tenant,
        bill_run_id=rid,
        period_key="2026-01",
        state=state,
        version=version,
        data={"bill_run_id": rid, "state": state},
        create_time=t,
        update_time=t,
    )


def test_invoices_upsert_filter_and_page(store: Store, tenant_id: str) -> None:
    e1, e2, run = uid("eng"), uid("eng"), uid("run")
    rows = [invoice(tenant_id, f"{e1}.inv.{n}", e1, minute=n, run=run if n % 2 else "") for n in range(1, 6)]
    store.commit(WriteBatch(invoices=[*rows, invoice(tenant_id, f"{e2}.inv.1", e2, minute=9)]))
    store.commit(WriteBatch(invoices=[replace(rows[0], state="ISSUED", data={"v": 2}, create_time=T0)]))
    got = store.get_invoice(tenant_id, rows[0].invoice_id)
    assert got is not None and got.state == "ISSUED" and got.data == {"v": 2} and got.total == "108.88"
    assert got.create_time == rows[0].create_time  # create_time is kept by the upsert
    assert store.get_invoice(tenant_id, "nope") is None
    first = store.list_invoices(tenant_id, engagement_id=e1, page_size=2)
    second = store.list_invoices(tenant_id, engagement_id=e1, page_size=2, page_token=first.next_page_token)
    third = store.list_invoices(tenant_id, engagement_id=e1, page_size=2, page_token=second.next_page_token)
    assert [r.invoice_id for r in first.items + second.items + third.items] == [r.invoice_id for r in rows]
    assert not third.next_page_token
    assert len(store.list_invoices(tenant_id, bill_run_id=run).items) == 3
    assert [r.invoice_id for r in store.list_invoices(tenant_id, state="ISSUED").items] == [
        rows[0].invoice_id
    ]
    assert [r.engagement_id for r in store.list_invoices(tenant_id, customer_id=f"cust-{e2}").items] == [e2]
    assert store.list_invoices(uid("other-tenant")).items == []
    with pytest.raises(ValueError, match="page_token"):
        store.list_invoices(tenant_id, page_token="garbage!")


def test_bill_runs_are_versioned_and_listed_newest_first(store: Store, tenant_id: str) -> None:
    ids = [uid("run") for _ in range(3)]
    for minute, rid in enumerate(ids):
        store.save_bill_run(bill_run(tenant_id, rid, minute=minute))
    with pytest.raises(ConcurrencyConflict):
        store.save_bill_run(bill_run(tenant_id, ids[0]))  # exists already
    store.save_bill_run(bill_run(tenant_id, ids[0], 2, state="RUNNING"))
    with pytest.raises(ConcurrencyConflict):
        store.save_bill_run(bill_run(tenant_id, ids[0], 2, state="SUCCEEDED"))  # stale writer
    row = store.get_bill_run(tenant_id, ids[0])
    assert row is not None and (row.version, row.state, row.data["state"]) == (2, "RUNNING", "RUNNING")
    assert store.get_bill_run(tenant_id, "nope") is None
    page = store.list_bill_runs(tenant_id, page_size=2)
    rest = store.list_bill_runs(tenant_id, page_size=2, page_token=page.next_page_token)
    assert [r.bill_run_id for r in page.items + rest.items] == ids[::-1] and not rest.next_page_token


def test_billable_engagements_by_state_customer_and_currency(store: Store, tenant_id: str) -> None:
    rows = [
        replace(engagement(tenant_id, "e-active", 1, state="ACTIVE", customer="c1"), currency="USD"),
        replace(engagement(tenant_id, "e-done", 1, state="COMPLETED", customer="c2"), currency="EUR"),
        replace(engagement(tenant_id, "e-hold", 1, state="ON_HOLD", customer="c1"), currency="USD"),
        engagement(tenant_id, "e-draft", 1, state="DRAFT", customer="c1"),
    ]
    store.commit(WriteBatch(engagements=rows))
    assert store.get_engagement(tenant_id, "e-done").currency == "EUR"  # type: ignore[union-attr]
    assert store.list_billable_engagements(tenant_id) == ["e-active", "e-done"]
    assert store.list_billable_engagements(tenant_id, customer_ids=["c1"]) == ["e-active"]
    assert store.list_billable_engagements(tenant_id, currency="EUR") == ["e-done"]
    assert store.list_billable_engagements(tenant_id, customer_ids=["c2"], currency="USD") == []


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
    else:
        yield from _pg_database()


def test_migration_0002_backfills_currency_and_invoices(fresh_url: str) -> None:
    engine = make_engine(fresh_url)
    migrate(engine, "0001")
    invoice_data = {
        "invoice_id": "e1.inv.1",
        "engagement_id": "e1",
        "customer_id": "c1",
        "period": {"start": "2026-01-01", "end": "2026-01-31"},
        "state": "ISSUED",
        "currency": "EUR",
        "total": {"currency": "EUR", "amount": "99.50"},
        "bill_run_id": "r1",
        "create_time": "2026-02-01T00:00:00Z",
        "update_time": "2026-02-02T00:00:00Z",
    }
    snapshot = {"contract": {"currency": "EUR"}, "invoices": {"e1.inv.1": invoice_data}}
    legacy = {
        "tenant_id": "t",
        "engagement_id": "e1",
        "customer_id": "c1",
        "display_name": "E1",
        "state": "ACTIVE",
        "version": 3,
        "snapshot": snapshot,
        "create_time": T0,
        "update_time": T0,
    }
    with engine.begin() as conn:
        conn.execute(insert(s.engagements).values(legacy))  # a row written before revision 0002
    migrate(engine)
    migrate(engine)  # idempotent
    store = Store(engine)
    try:
        assert store.list_billable_engagements("t", currency="EUR") == ["e1"]
        row = store.get_invoice("t", "e1.inv.1")
        assert row is not None and (row.period_key, row.bill_run_id, row.total) == ("2026-01", "r1", "99.50")
        with engine.connect() as conn:
            assert conn.execute(select(s.invoices.c.state)).scalars().all() == ["ISSUED"]
    finally:
        store.close()


@pytest.mark.parametrize(
    ("start", "end", "key"),
    [
        ("2026-01-01", "2026-01-31", "2026-01"),
        ("2024-02-01", "2024-02-29", "2024-02"),
        ("2026-01-01", "2026-01-15", "2026-01-01..2026-01-15"),
        ("2026-01-02", "2026-01-31", "2026-01-02..2026-01-31"),
    ],
)
def test_migration_0002_keys_periods_as_the_domain_does(start: str, end: str, key: str) -> None:
    from q2c_core.domain.periods import BillingPeriod

    path = MIGRATIONS / "0002_billing.py"
    spec = importlib.util.spec_from_file_location("q2c_migration_0002", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module._period_key(start, end) == key
    assert BillingPeriod.model_validate({"start": start, "end": end}).key == key
