"""Customers and rate cards read from the store, as domain objects (cached for one batch)."""

from __future__ import annotations

from collections.abc import Iterable

from q2c_core.app.ports import Store
from q2c_core.app.records import CustomerRow, RateCardRow
from q2c_core.domain.reference import Customer, RateCard


def customer_from_row(row: CustomerRow) -> Customer:
    """The domain customer stored in a row."""
    return Customer.model_validate({**row.data, "version": row.version})


def rate_card_from_row(row: RateCardRow) -> RateCard:
    """The domain rate card revision stored in a row."""
    return RateCard.model_validate(row.data)


class ReferenceData:
    """Reads reference data once per batch: a batch sees one consistent view of it."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._customers: dict[tuple[str, str], Customer | None] = {}
        self._cards: dict[tuple[str, str], list[RateCard]] = {}

    def customer(self, tenant_id: str, customer_id: str) -> Customer | None:
        """The customer, or None when the tenant has no such customer."""
        key = (tenant_id, customer_id)
        if key not in self._customers:
            row = self._store.get_customer(tenant_id, customer_id)
            self._customers[key] = customer_from_row(row) if row else None
        return self._customers[key]

    def rate_cards(self, tenant_id: str, ids: Iterable[str]) -> dict[str, list[RateCard]]:
        """Every revision of each rate card (absent ids map to nothing)."""
        wanted = set(ids)
        missing = [i for i in wanted if (tenant_id, i) not in self._cards]
        if missing:
            rows = self._store.get_rate_cards(tenant_id, missing)
            for rate_card_id in missing:
                found = rows.get(rate_card_id, [])
                self._cards[(tenant_id, rate_card_id)] = [rate_card_from_row(r) for r in found]
        return {i: self._cards[(tenant_id, i)] for i in wanted if self._cards[(tenant_id, i)]}
