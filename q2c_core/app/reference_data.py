"""Customers and rate cards read from the store, as domain objects: cached for one batch, or
across batches (a host's `ReferenceCache`) under the tenant's reference version, which the
batch's commit then guards (`WriteBatch.reference_guards`)."""

from __future__ import annotations

from collections.abc import Iterable

from q2c_core.app.ports import Store
from q2c_core.app.records import CustomerRow, RateCardRow
from q2c_core.domain.reference import Customer, RateCard

Key = tuple[str, str]  # (tenant_id, customer_id or rate_card_id)


def customer_from_row(row: CustomerRow) -> Customer:
    """The domain customer stored in a row."""
    return Customer.model_validate({**row.data, "version": row.version})


def rate_card_from_row(row: RateCardRow) -> RateCard:
    """The domain rate card revision stored in a row."""
    return RateCard.model_validate(row.data)


class ReferenceCache:
    """Customers and rate cards kept across batches (by one host: one thread at a time).

    Each tenant's entries were read after the tenant's reference version in `versions` was:
    so while the stored version is still that one, they are still what the store holds (every
    write of them moves it). A batch that used them commits only if it is (the guard), and a
    batch refused for a moved version makes its host `forget` the tenant. Bounded: past
    `limit` entries the cached objects are dropped (and read again when next needed).
    """

    def __init__(self, limit: int = 20_000) -> None:
        self.versions: dict[str, int] = {}
        self.customers: dict[Key, Customer | None] = {}
        self.cards: dict[Key, list[RateCard]] = {}
        self._limit = limit

    def forget(self, tenant_ids: Iterable[str]) -> None:
        """Drop what is cached of these tenants (their next use reads it again)."""
        gone = set(tenant_ids)
        for tenant in gone:
            self.versions.pop(tenant, None)
        self.customers = {k: v for k, v in self.customers.items() if k[0] not in gone}
        self.cards = {k: v for k, v in self.cards.items() if k[0] not in gone}

    def trim(self) -> None:
        """Keep within the limit (the versions stay: what is read later is at least as new)."""
        if len(self.customers) + len(self.cards) > self._limit:
            self.customers.clear()
            self.cards.clear()


class ReferenceData:
    """Reference data for one batch. Without a cache it is read once per batch, so a batch sees
    one consistent view of it. With a host's cache, the first use of a tenant's data fixes the
    reference version the batch's decisions are based on (`guards`, for the commit to check),
    and only what the cache lacks is read."""

    def __init__(self, store: Store, cache: ReferenceCache | None = None) -> None:
        self._store = store
        self._shared = cache is not None
        self._cache = cache if cache is not None else ReferenceCache()
        self._cache.trim()
        self.guards: dict[str, int] = {}
        """tenant -> the reference version this batch's cached data of it was read at."""

    def customer(self, tenant_id: str, customer_id: str) -> Customer | None:
        """The customer, or None when the tenant has no such customer."""
        self._use(tenant_id)
        key, customers = (tenant_id, customer_id), self._cache.customers
        if key not in customers:
            row = self._store.get_customer(tenant_id, customer_id)
            customers[key] = customer_from_row(row) if row else None
        return customers[key]

    def rate_cards(self, tenant_id: str, ids: Iterable[str]) -> dict[str, list[RateCard]]:
        """Every revision of each rate card (absent ids map to nothing)."""
        self._use(tenant_id)
        wanted, cards = set(ids), self._cache.cards
        missing = [i for i in wanted if (tenant_id, i) not in cards]
        if missing:
            rows = self._store.get_rate_cards(tenant_id, missing)
            for rate_card_id in missing:
                found = rows.get(rate_card_id, [])
                cards[(tenant_id, rate_card_id)] = [rate_card_from_row(r) for r in found]
        return {i: cards[(tenant_id, i)] for i in wanted if cards[(tenant_id, i)]}

    def _use(self, tenant_id: str) -> None:
        """Before the batch's first use of a tenant's data: its version, read if not cached,
        before any of the data is (so that what is read is at least as new as it)."""
        if not self._shared or tenant_id in self.guards:
            return
        cache = self._cache
        version = cache.versions.get(tenant_id)
        if version is None:
            version = cache.versions[tenant_id] = self._store.reference_versions([tenant_id])[tenant_id]
        self.guards[tenant_id] = version
