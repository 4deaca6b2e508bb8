"""A host keeps customers and rate cards across batches, yet a command sent after a catalog
change is acknowledged (by any gateway, through another store handle) is decided on it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import pytest

from q2c_core.adapters.store import CustomerRow, Store
from q2c_core.app.catalog import Catalog, RateCardSpec
from q2c_core.app.host import EngagementHost
from q2c_core.domain import commands as cmd
from q2c_core.domain.entities import BillingLine, TimeAndMaterialsTerms
from q2c_core.domain.errors import ErrorKind
from q2c_core.domain.money import Money
from tests.host.helpers import (
    CONTRACT_END,
    CONTRACT_START,
    activate,
    caller,
    close_won,
    create,
    envelope,
    new_id,
    qualify,
)


@pytest.fixture
def gateway(database_url: str) -> Iterator[Catalog]:
    """The catalog as another gateway process writes it: through its own store handle."""
    other = Store.open(database_url, migrate=False)
    yield Catalog(other)
    other.close()


@pytest.fixture
def customer_reads(store: Store, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The customer ids the host's store is asked for."""
    asked: list[str] = []
    get = store.get_customer

    def spy(tenant_id: str, customer_id: str) -> CustomerRow | None:
        asked.append(customer_id)
        return get(tenant_id, customer_id)

    monkeypatch.setattr(store, "get_customer", spy)
    return asked


async def test_a_customer_is_read_once_across_batches(
    host: EngagementHost, tenant_id: str, customer_id: str, customer_reads: list[str]
) -> None:
    for _ in range(3):
        assert (await host.submit(envelope(tenant_id, new_id("eng"), create(customer_id)))).ok

    assert customer_reads == [customer_id]


async def test_a_customer_change_is_seen_by_the_next_command(
    host: EngagementHost, gateway: Catalog, tenant_id: str, customer_id: str, customer_reads: list[str]
) -> None:
    eid = new_id("eng")
    assert (await host.submit(envelope(tenant_id, eid, create(customer_id)))).ok
    assert (await host.submit(envelope(tenant_id, eid, qualify()))).ok

    gateway.update_customer(caller(tenant_id), None, customer_id, {"status": "INACTIVE"}, "")
    held = await host.submit(envelope(tenant_id, eid, close_won()))

    assert held.ok and held.engagement is not None
    assert held.engagement.state.value == "ON_HOLD"
    assert customer_reads == [customer_id, customer_id]  # read again once, after the change


async def test_a_batch_decided_again_after_a_catalog_change_loads_its_engagements_once(
    host: EngagementHost, gateway: Catalog, tenant_id: str, customer_id: str, customer_reads: list[str]
) -> None:
    assert (await host.submit(envelope(tenant_id, new_id("eng"), create(customer_id)))).ok
    gateway.update_customer(caller(tenant_id), None, customer_id, {"display_name": "Renamed"}, "")
    loaded = host.telemetry.activations

    assert (await host.submit(envelope(tenant_id, new_id("eng"), create(customer_id)))).ok

    assert customer_reads == [customer_id, customer_id]  # the stale cache was refused once
    assert host.telemetry.activations == loaded + 1  # the new engagement, activated once


async def test_a_new_rate_card_revision_is_seen_by_the_next_command(
    host: EngagementHost, gateway: Catalog, tenant_id: str, customer_id: str
) -> None:
    who = caller(tenant_id)
    card = gateway.create_rate_card(who, None, None, _card({"engineer": "150"}))
    eid = new_id("eng")
    for command in (create(customer_id), qualify(), close_won(), _contract(card.rate_card_id), activate()):
        result = await host.submit(envelope(tenant_id, eid, command))
        assert result.ok, result.error
    refused = await host.submit(envelope(tenant_id, eid, _hours("t1", "architect")))
    assert refused.error is not None and refused.error.kind is ErrorKind.VALIDATION

    gateway.create_rate_card(who, None, card.rate_card_id, _card({"engineer": "150", "architect": "200"}))
    accepted = await host.submit(envelope(tenant_id, eid, _hours("t2", "architect")))

    assert accepted.ok, accepted.error


def _card(rates: dict[str, str]) -> RateCardSpec:
    return RateCardSpec(
        currency="USD",
        effective_from=date(2025, 1, 1),
        rates={role: Money.of(rate, "USD") for role, rate in rates.items()},
    )


def _contract(rate_card_id: str) -> cmd.ApproveContract:
    terms = TimeAndMaterialsTerms(rate_card_id=rate_card_id, not_to_exceed=Money.of("100000", "USD"))
    return cmd.ApproveContract(
        currency="USD",
        start_date=CONTRACT_START,
        end_date=CONTRACT_END,
        billing_lines=[BillingLine(line_id="tm", terms=terms)],
    )


def _hours(entry_id: str, role: str) -> cmd.SubmitTimeEntries:
    entry = cmd.TimeEntryInput(
        entry_id=entry_id,
        billing_line_id="tm",
        person="ada",
        role=role,
        work_date=date(2025, 3, 3),
        hours=Decimal("7.5"),
    )
    return cmd.SubmitTimeEntries(entries=[entry])
