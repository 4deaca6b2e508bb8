"""Reference versions: moved by every write of a tenant's customers or rate cards, and guarded by
the commits of batches decided on cached reference data (WriteBatch.reference_guards)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from q2c_core.app.ports import Store
from q2c_core.app.records import WriteBatch
from q2c_core.app.store_errors import ConcurrencyConflict, ReferenceDataChanged
from tests.store.helpers import audit, customer, ev, rate_card, uid


def _version(store: Store, tenant: str) -> int:
    return store.reference_versions([tenant])[tenant]


def test_customer_and_rate_card_writes_move_their_tenants_version_only(
    store: Store, tenant_id: str, make_tenant: Callable[[], str]
) -> None:
    other = make_tenant()
    assert store.reference_versions([tenant_id, other]) == {tenant_id: 0, other: 0}
    cid, rid = uid("cust"), uid("rc")

    store.commit(WriteBatch(customers=[customer(tenant_id, cid, 1)]))
    after_customer = _version(store, tenant_id)
    store.commit(WriteBatch(customers=[customer(tenant_id, cid, 2)]))
    after_update = _version(store, tenant_id)
    store.commit(WriteBatch(rate_cards=[rate_card(tenant_id, rid, 1)]))
    after_card = _version(store, tenant_id)

    assert 0 < after_customer < after_update < after_card
    assert _version(store, other) == 0


def test_a_refused_catalog_write_leaves_the_version(store: Store, tenant_id: str) -> None:
    cid = uid("cust")
    store.commit(WriteBatch(customers=[customer(tenant_id, cid, 1)]))
    before = _version(store, tenant_id)

    with pytest.raises(ConcurrencyConflict):
        store.commit(WriteBatch(customers=[customer(tenant_id, cid, 1)]))

    assert _version(store, tenant_id) == before


def test_a_batch_guarded_on_a_moved_version_is_refused_and_writes_nothing(
    store: Store, tenant_id: str, make_tenant: Callable[[], str]
) -> None:
    other, stream = make_tenant(), uid("eng")
    seen = store.reference_versions([tenant_id, other])
    store.commit(WriteBatch(rate_cards=[rate_card(tenant_id, uid("rc"), 1)]))
    batch = WriteBatch(
        events=[ev(tenant_id, stream, 1)],
        audit=[audit(tenant_id, stream, event_ids=(f"{stream}:1",))],
        reference_guards=seen,
    )

    with pytest.raises(ReferenceDataChanged) as refused:
        store.commit(batch)

    assert refused.value.tenant_ids == (tenant_id,)
    assert store.read_events(tenant_id, stream) == []
    assert store.list_audit(tenant_id, stream).items == []


def test_a_batch_guarded_on_the_current_versions_commits(
    store: Store, tenant_id: str, make_tenant: Callable[[], str]
) -> None:
    store.commit(WriteBatch(customers=[customer(tenant_id, uid("cust"), 1)]))
    stream = uid("eng")
    guards = store.reference_versions([tenant_id, make_tenant()])

    store.commit(
        WriteBatch(
            events=[ev(tenant_id, stream, 1)],
            audit=[audit(tenant_id, stream, event_ids=(f"{stream}:1",))],
            reference_guards=guards,
        )
    )

    assert [e.seq for e in store.read_events(tenant_id, stream)] == [1]
