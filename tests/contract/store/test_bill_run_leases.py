"""Store contract, bill-run leases: take, renew, release, expiry and racing takers.

Runs against SQLite, PostgreSQL and the in-memory fake (see conftest.py).
"""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import timedelta

import pytest

from q2c_core.app.ports import Store
from q2c_core.app.records import BillRunRow
from q2c_core.app.store_errors import ConcurrencyConflict
from tests.contract.store.conftest import Backend
from tests.store.helpers import T0, uid

LEASE = timedelta(seconds=30)


def _run(store: Store, tenant: str, *, state: str = "PENDING", at: timedelta = timedelta(0)) -> str:
    """A new bill run created at T0 + `at`, saved as version 1 (then moved to `state`)."""
    rid, t = uid("run"), T0 + at
    row = BillRunRow(
        tenant_id=tenant,
        bill_run_id=rid,
        period_key="2026-01",
        state="PENDING",
        version=1,
        data={"bill_run_id": rid},
        create_time=t,
        update_time=t,
    )
    store.save_bill_run(row)
    if state != "PENDING":
        store.save_bill_run(replace(row, state=state, version=2))
    return rid


def test_a_free_lease_is_taken_once_renewed_by_its_owner_and_released(store: Store, tenant_id: str) -> None:
    rid = _run(store, tenant_id)
    fresh = store.get_bill_run_lease(tenant_id, rid)
    assert fresh is not None and (fresh.owner, fresh.lease_until, fresh.launches) == (None, None, 0)
    taken = store.take_bill_run_lease(tenant_id, rid, "gw-a", T0, T0 + LEASE)
    assert taken is not None and (taken.owner, taken.lease_until, taken.launches) == ("gw-a", T0 + LEASE, 1)
    assert (
        store.take_bill_run_lease(tenant_id, rid, "gw-b", T0 + timedelta(seconds=29), T0 + 2 * LEASE) is None
    )
    assert not store.renew_bill_run_lease(tenant_id, rid, "gw-b", T0, T0 + 2 * LEASE)
    assert store.renew_bill_run_lease(tenant_id, rid, "gw-a", T0 + LEASE / 3, T0 + 2 * LEASE)
    assert store.take_bill_run_lease(tenant_id, rid, "gw-b", T0 + LEASE, T0 + 3 * LEASE) is None  # renewed
    assert not store.release_bill_run_lease(tenant_id, rid, "gw-b", T0)
    assert store.release_bill_run_lease(tenant_id, rid, "gw-a", T0 + LEASE)
    released = store.get_bill_run_lease(tenant_id, rid)
    assert released is not None and (released.owner, released.lease_until, released.launches) == (
        None,
        None,
        1,
    )
    again = store.take_bill_run_lease(tenant_id, rid, "gw-b", T0 + LEASE, T0 + 2 * LEASE)
    assert again is not None and (again.owner, again.launches) == ("gw-b", 2)
    assert not store.renew_bill_run_lease(tenant_id, rid, "gw-a", T0 + LEASE, T0 + 3 * LEASE)


def test_an_expired_lease_goes_to_the_next_taker(store: Store, tenant_id: str) -> None:
    rid = _run(store, tenant_id)
    assert store.take_bill_run_lease(tenant_id, rid, "gw-a", T0, T0 + LEASE) is not None
    assert store.take_bill_run_lease(tenant_id, rid, "gw-b", T0 + LEASE - timedelta(seconds=1), T0) is None
    taken = store.take_bill_run_lease(tenant_id, rid, "gw-b", T0 + LEASE, T0 + 2 * LEASE)
    assert taken is not None and (taken.owner, taken.launches) == ("gw-b", 2)
    assert not store.renew_bill_run_lease(tenant_id, rid, "gw-a", T0 + LEASE, T0 + 2 * LEASE)


def test_taking_a_lease_fences_off_the_previous_coordinators_saves(store: Store, tenant_id: str) -> None:
    rid = _run(store, tenant_id)
    row = store.get_bill_run(tenant_id, rid)
    assert row is not None and row.version == 1
    assert store.take_bill_run_lease(tenant_id, rid, "gw-a", T0, T0 + LEASE) is not None
    with pytest.raises(ConcurrencyConflict):  # a coordinator that saw version 1 is out of date
        store.save_bill_run(replace(row, state="RUNNING", version=2))
    after = store.get_bill_run(tenant_id, rid)
    assert after is not None and (after.version, after.state, after.data) == (2, "PENDING", row.data)


def test_finished_and_unknown_runs_have_no_lease_to_take(store: Store, tenant_id: str) -> None:
    done = _run(store, tenant_id, state="SUCCEEDED")
    assert store.take_bill_run_lease(tenant_id, done, "gw-a", T0, T0 + LEASE) is None
    assert store.take_bill_run_lease(tenant_id, "no-such-run", "gw-a", T0, T0 + LEASE) is None
    assert store.get_bill_run_lease(tenant_id, "no-such-run") is None
    assert store.take_bill_run_lease("another-tenant", done, "gw-a", T0, T0 + LEASE) is None


def test_abandoned_runs_are_the_expired_released_and_old_unleased_ones(store: Store, tenant_id: str) -> None:
    now = T0 + timedelta(hours=1)
    old_unleased = _run(store, tenant_id, at=timedelta(minutes=10))
    young_unleased = _run(store, tenant_id, at=timedelta(minutes=59, seconds=50))
    live = _run(store, tenant_id, at=timedelta(minutes=1))
    expired = _run(store, tenant_id, at=timedelta(minutes=2))
    released = _run(store, tenant_id, at=timedelta(minutes=3))
    finished = _run(store, tenant_id, state="FAILED")
    assert store.take_bill_run_lease(tenant_id, live, "gw-a", now, now + LEASE)
    assert store.take_bill_run_lease(tenant_id, expired, "gw-a", now - 2 * LEASE, now - LEASE)
    assert store.take_bill_run_lease(tenant_id, released, "gw-a", now, now + LEASE)
    assert store.release_bill_run_lease(tenant_id, released, "gw-a", now)
    found = store.list_abandoned_bill_runs(now, now - LEASE, limit=1000)
    mine = [(x.bill_run_id, x.owner, x.launches) for x in found if x.tenant_id == tenant_id]
    assert mine == [(expired, "gw-a", 1), (released, None, 1), (old_unleased, None, 0)]
    assert young_unleased not in {x.bill_run_id for x in found} and finished not in {
        x.bill_run_id for x in found
    }


def test_of_racing_takers_exactly_one_wins(backend: Backend, tenant_id: str) -> None:
    store = backend.store
    rid = _run(store, tenant_id)
    assert store.take_bill_run_lease(tenant_id, rid, "gw-lost", T0, T0 + LEASE)  # then its owner died
    takers = [backend.another() for _ in range(4)]
    barrier = threading.Barrier(len(takers))
    won: list[object] = [None] * len(takers)

    def take(i: int) -> None:
        barrier.wait()
        won[i] = takers[i].take_bill_run_lease(tenant_id, rid, f"gw-{i}", T0 + LEASE, T0 + 2 * LEASE)

    threads = [threading.Thread(target=take, args=(i,)) for i in range(len(takers))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    for taker in takers:
        if taker is not store:
            taker.close()
    winners = [i for i, lease in enumerate(won) if lease is not None]
    assert len(winners) == 1, won
    held = store.get_bill_run_lease(tenant_id, rid)
    assert held is not None and (held.owner, held.launches) == (f"gw-{winners[0]}", 2)
