"""Queries: page-size and page-token rules, and filters, over the engagement read model."""

from __future__ import annotations

import pytest

from q2c_core.adapters.store import Store
from q2c_core.app.host import EngagementHost
from q2c_core.app.reads import Queries
from q2c_core.domain.entities import EngagementState
from q2c_core.domain.errors import NotFoundError, ValidationError
from tests.host.helpers import cancel, close_won, create, envelope, new_id, qualify, seed_customer


def test_a_negative_page_size_is_a_violation_of_page_size(store: Store, tenant_id: str) -> None:
    with pytest.raises(ValidationError) as raised:
        Queries(store).list_engagements(tenant_id, None, None, -1, "")
    assert [v.field for v in raised.value.field_violations] == ["page_size"]


def test_a_garbled_page_token_is_a_violation_of_page_token(store: Store, tenant_id: str) -> None:
    queries = Queries(store)
    for token in ("not-a-token", "!!!", "eyJ4IjoxfQ"):
        with pytest.raises(ValidationError) as raised:
            queries.list_engagements(tenant_id, None, None, 10, token)
        assert [v.field for v in raised.value.field_violations] == ["page_token"]
    with pytest.raises(ValidationError):
        queries.list_audit(tenant_id, "eng-x", 10, "not-a-token")


async def test_page_size_zero_means_fifty_and_pages_cover_everything_once(
    host: EngagementHost, store: Store, tenant_id: str, customer_id: str
) -> None:
    ids = [new_id("eng") for _ in range(55)]
    assert all(
        r.ok for r in await host.submit_many([envelope(tenant_id, eid, create(customer_id)) for eid in ids])
    )
    queries = Queries(store)

    first = queries.list_engagements(tenant_id, None, None, 0, "")
    second = queries.list_engagements(tenant_id, None, None, 0, first.next_page_token)

    assert len(first.items) == 50 and first.next_page_token
    assert len(second.items) == 5 and second.next_page_token == ""
    seen = [e.engagement_id for e in first.items + second.items]
    assert sorted(seen) == sorted(ids) and len(set(seen)) == 55


async def test_engagements_are_filtered_by_state_and_customer(
    host: EngagementHost, store: Store, tenant_id: str, customer_id: str
) -> None:
    other_customer = seed_customer(store, tenant_id, display_name="Globex")
    drafted, qualified, cancelled, elsewhere = (new_id("eng") for _ in range(4))
    results = await host.submit_many(
        [
            envelope(tenant_id, drafted, create(customer_id)),
            envelope(tenant_id, qualified, create(customer_id)),
            envelope(tenant_id, qualified, qualify()),
            envelope(tenant_id, cancelled, create(customer_id)),
            envelope(tenant_id, cancelled, cancel()),
            envelope(tenant_id, elsewhere, create(other_customer)),
            envelope(tenant_id, elsewhere, qualify()),
            envelope(tenant_id, elsewhere, close_won()),
        ]
    )
    assert all(r.ok for r in results), [r.error for r in results]
    queries = Queries(store)

    def ids(state: EngagementState | None, customer: str | None) -> set[str]:
        return {e.engagement_id for e in queries.list_engagements(tenant_id, state, customer, 0, "").items}

    assert ids(None, None) == {drafted, qualified, cancelled, elsewhere}
    assert ids(EngagementState.QUALIFIED, None) == {qualified}
    assert ids(None, customer_id) == {drafted, qualified, cancelled}
    assert ids(None, other_customer) == {elsewhere}
    assert ids(EngagementState.WON, other_customer) == {elsewhere}
    assert ids(EngagementState.WON, customer_id) == set()
    assert ids(EngagementState.CANCELLED, customer_id) == {cancelled}


async def test_list_filters_do_not_leak_across_tenants(
    host: EngagementHost, store: Store, tenant_id: str, make_tenant: object, customer_id: str
) -> None:
    other_tenant = make_tenant()  # type: ignore[operator]
    other_customer = seed_customer(store, other_tenant)
    await host.submit_many(
        [
            envelope(tenant_id, new_id("eng"), create(customer_id)),
            envelope(other_tenant, new_id("eng"), create(other_customer)),
        ]
    )
    queries = Queries(store)
    assert len(queries.list_engagements(tenant_id, None, None, 0, "").items) == 1
    assert queries.list_engagements(tenant_id, None, other_customer, 0, "").items == []


async def test_get_engagement_returns_the_committed_state_or_not_found(
    host: EngagementHost, store: Store, tenant_id: str, customer_id: str
) -> None:
    eid = new_id("eng")
    [_, qualified] = await host.submit_many(
        [envelope(tenant_id, eid, create(customer_id)), envelope(tenant_id, eid, qualify())]
    )
    queries = Queries(store)
    assert queries.get_engagement(tenant_id, eid) == qualified.engagement
    with pytest.raises(NotFoundError):
        queries.get_engagement(tenant_id, new_id("eng"))
    audit = queries.list_audit(tenant_id, eid, 0, "")
    assert [r.command_type for r in audit.items] == ["CreateEngagement", "QualifyEngagement"]
    assert queries.verify_audit(tenant_id, eid).ok
