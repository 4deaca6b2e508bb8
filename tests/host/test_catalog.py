"""Catalog: customers and rate cards are validated, idempotent, etag-guarded and audited."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from q2c_core.adapters.store import Store
from q2c_core.app.catalog import Catalog, CustomerSpec, RateCardSpec, etag_of
from q2c_core.domain.errors import ConflictError, NotFoundError, RequestIdReusedError, ValidationError
from q2c_core.domain.money import Money
from q2c_core.domain.reference import CustomerStatus, TaxProfile
from tests.host.helpers import audit_of, caller, new_id


def spec(**overrides: object) -> CustomerSpec:
    """A valid customer spec."""
    fields: dict[str, object] = {
        "display_name": "Acme",
        "legal_entity": "Acme LLC",
        "billing_currency": "USD",
        "tax_profile": TaxProfile(jurisdiction="US-NY", rate=Decimal("0.08875")),
    }
    fields.update(overrides)
    return CustomerSpec.model_validate(fields)


def card(**overrides: object) -> RateCardSpec:
    """A valid USD rate card spec."""
    fields: dict[str, object] = {
        "display_name": "Standard",
        "currency": "USD",
        "effective_from": date(2025, 1, 1),
        "rates": {"engineer": Money.of("150", "USD")},
    }
    fields.update(overrides)
    return RateCardSpec.model_validate(fields)


def fields_of(error: ValidationError) -> list[str]:
    """The field paths an error names."""
    return [v.field for v in error.field_violations]


def test_creating_a_customer_twice_with_one_request_id_creates_it_once(store: Store, tenant_id: str) -> None:
    catalog, rid = Catalog(store), new_id("req")
    first = catalog.create_customer(caller(tenant_id), rid, spec())
    again = catalog.create_customer(caller(tenant_id), rid, spec())
    assert again == first
    assert len(audit_of(store, tenant_id, first.customer_id)) == 1
    assert [c.customer_id for c in catalog.list_customers(tenant_id, None, 0, "").items] == [
        first.customer_id
    ]


def test_creating_a_customer_with_a_reused_request_id_and_another_payload_is_refused(
    store: Store, tenant_id: str
) -> None:
    catalog, rid = Catalog(store), new_id("req")
    catalog.create_customer(caller(tenant_id), rid, spec())
    with pytest.raises(RequestIdReusedError) as raised:
        catalog.create_customer(caller(tenant_id), rid, spec(display_name="Other"))
    assert raised.value.reason == "REQUEST_ID_REUSED"
    assert len(catalog.list_customers(tenant_id, None, 0, "").items) == 1


def test_customers_without_request_ids_are_distinct(store: Store, tenant_id: str) -> None:
    catalog = Catalog(store)
    one = catalog.create_customer(caller(tenant_id), None, spec())
    two = catalog.create_customer(caller(tenant_id), None, spec())
    assert one.customer_id != two.customer_id


def test_an_update_bumps_the_etag_and_is_audited(store: Store, tenant_id: str) -> None:
    catalog = Catalog(store)
    created = catalog.create_customer(caller(tenant_id), None, spec())
    updated = catalog.update_customer(
        caller(tenant_id), None, created.customer_id, {"display_name": "Acme Corp"}, etag_of(created)
    )
    assert etag_of(created) == '"v1"' and etag_of(updated) == '"v2"'
    assert catalog.get_customer(tenant_id, created.customer_id) == updated
    assert updated.display_name == "Acme Corp" and updated.legal_entity == "Acme LLC"
    assert [a.command_type for a in audit_of(store, tenant_id, created.customer_id)] == [
        "CreateCustomer",
        "UpdateCustomer",
    ]


def test_an_update_with_a_stale_etag_is_a_conflict_and_changes_nothing(store: Store, tenant_id: str) -> None:
    catalog = Catalog(store)
    created = catalog.create_customer(caller(tenant_id), None, spec())
    catalog.update_customer(
        caller(tenant_id), None, created.customer_id, {"po_required": True}, etag_of(created)
    )

    with pytest.raises(ConflictError) as raised:
        catalog.update_customer(
            caller(tenant_id), None, created.customer_id, {"display_name": "Late"}, etag_of(created)
        )

    assert raised.value.reason == "ETAG_MISMATCH"
    assert raised.value.metadata["etag"] == '"v2"'
    assert raised.value.retryable
    current = catalog.get_customer(tenant_id, created.customer_id)
    assert (current.display_name, current.version) == ("Acme", 2)


def test_an_update_without_an_etag_is_unconditional(store: Store, tenant_id: str) -> None:
    catalog = Catalog(store)
    created = catalog.create_customer(caller(tenant_id), None, spec())
    catalog.update_customer(caller(tenant_id), None, created.customer_id, {"service_line": "erp"}, "")
    updated = catalog.update_customer(
        caller(tenant_id), None, created.customer_id, {"status": CustomerStatus.INACTIVE}, ""
    )
    assert (updated.version, updated.status, updated.service_line) == (3, CustomerStatus.INACTIVE, "erp")


def test_an_update_replayed_by_request_id_is_applied_once(store: Store, tenant_id: str) -> None:
    catalog, rid = Catalog(store), new_id("req")
    created = catalog.create_customer(caller(tenant_id), None, spec())
    changes = {"payment_terms_days": 45}
    first = catalog.update_customer(caller(tenant_id), rid, created.customer_id, changes, etag_of(created))
    again = catalog.update_customer(caller(tenant_id), rid, created.customer_id, changes, etag_of(created))
    assert again == first and again.version == 2
    assert len(audit_of(store, tenant_id, created.customer_id)) == 2
    with pytest.raises(RequestIdReusedError):
        catalog.update_customer(caller(tenant_id), rid, created.customer_id, {"payment_terms_days": 60}, "")


def test_updating_an_unknown_customer_or_field_is_refused(store: Store, tenant_id: str) -> None:
    catalog = Catalog(store)
    with pytest.raises(NotFoundError) as missing:
        catalog.update_customer(caller(tenant_id), None, new_id("cust"), {"display_name": "X"}, "")
    assert missing.value.reason == "CUSTOMER_NOT_FOUND"
    created = catalog.create_customer(caller(tenant_id), None, spec())
    with pytest.raises(ValidationError) as invalid:
        catalog.update_customer(
            caller(tenant_id), None, created.customer_id, {"customer_id": "x", "version": 9}, ""
        )
    assert fields_of(invalid.value) == ["update_mask"]
    assert "customer_id, version" in invalid.value.field_violations[0].description


def test_an_unknown_billing_currency_is_a_violation_of_customer_billing_currency(
    store: Store, tenant_id: str
) -> None:
    with pytest.raises(ValidationError) as raised:
        Catalog(store).create_customer(caller(tenant_id), None, spec(billing_currency="XQZ"))
    assert fields_of(raised.value) == ["customer.billing_currency"]
    assert raised.value.field_violations[0].description == "unknown ISO-4217 currency 'XQZ'"
    assert Catalog(store).list_customers(tenant_id, None, 0, "").items == []


def test_a_tax_rate_above_one_is_a_violation_of_customer_tax_profile_rate(
    store: Store, tenant_id: str
) -> None:
    catalog = Catalog(store)
    created = catalog.create_customer(caller(tenant_id), None, spec())
    with pytest.raises(ValidationError) as raised:
        catalog.update_customer(
            caller(tenant_id),
            None,
            created.customer_id,
            {"tax_profile": {"jurisdiction": "US-NY", "rate": "2"}},
            etag_of(created),
        )
    assert fields_of(raised.value) == ["customer.tax_profile.rate"]
    assert "between 0 and 1" in raised.value.field_violations[0].description
    assert catalog.get_customer(tenant_id, created.customer_id).version == 1


def test_a_rate_card_revision_is_added_under_its_existing_id(store: Store, tenant_id: str) -> None:
    catalog = Catalog(store)
    first = catalog.create_rate_card(caller(tenant_id), None, None, card())
    second = catalog.create_rate_card(
        caller(tenant_id),
        None,
        first.rate_card_id,
        card(effective_from=date(2026, 1, 1), rates={"engineer": Money.of("165", "USD")}),
    )
    assert (first.revision, second.revision) == (1, 2)
    assert second.rate_card_id == first.rate_card_id
    assert catalog.get_rate_card(tenant_id, first.rate_card_id, None) == second
    assert catalog.get_rate_card(tenant_id, first.rate_card_id, 1) == first
    assert [c.revision for c in catalog.list_rate_cards(tenant_id, None, 0, "").items] == [2]


def test_a_rate_card_replayed_by_request_id_is_not_a_new_revision(store: Store, tenant_id: str) -> None:
    catalog, rid = Catalog(store), new_id("req")
    first = catalog.create_rate_card(caller(tenant_id), None, None, card())
    revised = catalog.create_rate_card(caller(tenant_id), rid, first.rate_card_id, card(display_name="2026"))
    again = catalog.create_rate_card(caller(tenant_id), rid, first.rate_card_id, card(display_name="2026"))
    assert again == revised and again.revision == 2
    assert len(store.get_rate_card_revisions(tenant_id, first.rate_card_id)) == 2


def test_a_revision_of_an_unknown_rate_card_is_not_found(store: Store, tenant_id: str) -> None:
    with pytest.raises(NotFoundError) as raised:
        Catalog(store).create_rate_card(caller(tenant_id), None, "rc-nope", card())
    assert raised.value.reason == "RATE_CARD_NOT_FOUND"
    with pytest.raises(NotFoundError):
        Catalog(store).get_rate_card(tenant_id, "rc-nope", None)


def test_an_invalid_rate_card_names_its_fields(store: Store, tenant_id: str) -> None:
    catalog = Catalog(store)
    with pytest.raises(ValidationError) as currency:
        catalog.create_rate_card(caller(tenant_id), None, None, card(currency="QQQ"))
    assert "rate_card.currency" in fields_of(currency.value)
    with pytest.raises(ValidationError) as empty:
        catalog.create_rate_card(caller(tenant_id), None, None, card(rates={}))
    assert fields_of(empty.value) == ["rate_card.rates"]
