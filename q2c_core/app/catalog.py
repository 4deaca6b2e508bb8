"""Reference data commands: customers and rate cards, idempotent and audited like the rest."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from pydantic import Field
from pydantic import ValidationError as PydanticValidationError
from pydantic_core import to_jsonable_python

from q2c_core.app.audited import record_accepted, stored_response
from q2c_core.app.messages import Caller, new_resource_id, payload_digest
from q2c_core.app.paging import paged
from q2c_core.app.ports import Store
from q2c_core.app.records import CustomerRow, Page, RateCardRow, WriteBatch
from q2c_core.app.reference_data import customer_from_row, rate_card_from_row
from q2c_core.app.store_errors import ConcurrencyConflict, DuplicateRequestId, StoreUnavailable
from q2c_core.domain.base import Frozen
from q2c_core.domain.errors import (
    ConflictError,
    FieldViolation,
    NotFoundError,
    UnavailableError,
    ValidationError,
)
from q2c_core.domain.money import Money
from q2c_core.domain.reference import Customer, CustomerStatus, RateCard, TaxProfile


class CustomerSpec(Frozen):
    """The client-settable fields of a customer."""

    display_name: str
    legal_entity: str = ""
    billing_currency: str
    tax_profile: TaxProfile | None = None
    payment_terms_days: int = 30
    po_required: bool = False
    service_line: str = ""
    status: CustomerStatus = CustomerStatus.ACTIVE


class RateCardSpec(Frozen):
    """The client-settable fields of a rate card revision."""

    display_name: str = ""
    currency: str
    effective_from: date
    effective_to: date | None = None
    rates: dict[str, Money] = Field(default_factory=dict)


UPDATABLE_FIELDS = frozenset(CustomerSpec.model_fields)


def etag_of(customer: Customer) -> str:
    """The customer's etag: changes on every update."""
    return f'"v{customer.version}"'


def _now() -> datetime:
    return datetime.now(UTC)


def _violations(error: PydanticValidationError, prefix: str) -> ValidationError:
    return ValidationError(
        [
            FieldViolation(
                field=".".join([prefix, *(str(p) for p in item["loc"])]).strip("."),
                description=item["msg"].removeprefix("Value error, "),
            )
            for item in error.errors()
        ]
    )


class Catalog:
    """Customers and rate cards; sync methods raising domain errors (callers use threads)."""

    def __init__(self, store: Store) -> None:
        self._store = store

    # -- customers -------------------------------------------------------------------------

    def create_customer(self, caller: Caller, request_id: str | None, spec: CustomerSpec) -> Customer:
        """Create a customer (server-assigned id)."""
        digest = payload_digest("CreateCustomer", spec.model_dump(mode="json"))
        replay = self._replay(caller, request_id, digest)
        if replay is not None:
            return customer_from_row(self._customer_row(caller.tenant_id, replay["customer_id"]))
        now = _now()
        customer_id = new_resource_id(caller.tenant_id, request_id, "customer")
        try:
            customer = Customer(customer_id=customer_id, create_time=now, update_time=now, **dict(spec))
        except PydanticValidationError as error:
            raise _violations(error, "customer") from None
        return self._save(caller, request_id, digest, "CreateCustomer", customer)

    def update_customer(
        self,
        caller: Caller,
        request_id: str | None,
        customer_id: str,
        changes: dict[str, Any],
        etag: str,
    ) -> Customer:
        """Apply the masked changes if the etag still matches (empty etag: unconditional)."""
        unknown = sorted(set(changes) - UPDATABLE_FIELDS)
        if unknown:
            raise ValidationError.one("update_mask", f"fields cannot be updated: {', '.join(unknown)}")
        digest = payload_digest(
            "UpdateCustomer",
            {"id": customer_id, "etag": etag, "changes": to_jsonable_python(changes)},
        )
        replay = self._replay(caller, request_id, digest)
        if replay is not None:
            return customer_from_row(self._customer_row(caller.tenant_id, customer_id))
        current = customer_from_row(self._customer_row(caller.tenant_id, customer_id))
        if etag and etag != etag_of(current):
            raise ConflictError(
                "ETAG_MISMATCH",
                f"customer {customer_id} has changed (etag {etag_of(current)})",
                {"customer_id": customer_id, "etag": etag_of(current)},
            )
        now = _now()
        try:
            updated = Customer.model_validate(
                {**current.model_dump(), **changes, "version": current.version + 1, "update_time": now}
            )
        except PydanticValidationError as error:
            raise _violations(error, "customer") from None
        return self._save(caller, request_id, digest, "UpdateCustomer", updated)

    def get_customer(self, tenant_id: str, customer_id: str) -> Customer:
        """One customer."""
        return customer_from_row(self._customer_row(tenant_id, customer_id))

    def list_customers(
        self, tenant_id: str, status: CustomerStatus | None, page_size: int, page_token: str
    ) -> Page[Customer]:
        """Customers, optionally by status."""
        return paged(
            lambda size: self._store.list_customers(
                tenant_id, status=status.value if status else None, page_size=size, page_token=page_token
            ),
            page_size,
            customer_from_row,
        )

    # -- rate cards ------------------------------------------------------------------------

    def create_rate_card(
        self, caller: Caller, request_id: str | None, rate_card_id: str | None, spec: RateCardSpec
    ) -> RateCard:
        """Create a rate card, or the next revision of an existing one (history is kept)."""
        digest = payload_digest("CreateRateCard", {"id": rate_card_id, **spec.model_dump(mode="json")})
        replay = self._replay(caller, request_id, digest)
        if replay is not None:
            return self.get_rate_card(caller.tenant_id, replay["rate_card_id"], replay["revision"])
        card_id = rate_card_id or new_resource_id(caller.tenant_id, request_id, "rate_card")
        revisions = self._store.get_rate_card_revisions(caller.tenant_id, card_id) if rate_card_id else []
        if rate_card_id and not revisions:
            raise NotFoundError("rate_card", rate_card_id)
        now = _now()
        try:
            card = RateCard(rate_card_id=card_id, revision=len(revisions) + 1, create_time=now, **dict(spec))
        except PydanticValidationError as error:
            raise _violations(error, "rate_card") from None
        row = RateCardRow(
            tenant_id=caller.tenant_id,
            rate_card_id=card_id,
            revision=card.revision,
            currency_code=card.currency,
            data=card.model_dump(mode="json"),
            create_time=now,
        )
        self._write(
            caller,
            request_id,
            digest,
            "CreateRateCard",
            card_id,
            now,
            WriteBatch(rate_cards=[row]),
            response={"rate_card_id": card_id, "revision": card.revision},
        )
        return card

    def get_rate_card(self, tenant_id: str, rate_card_id: str, revision: int | None) -> RateCard:
        """One revision of a rate card (None: the latest)."""
        row = self._store.get_rate_card(tenant_id, rate_card_id, revision or None)
        if row is None:
            raise NotFoundError("rate_card", rate_card_id)
        return rate_card_from_row(row)

    def list_rate_cards(
        self, tenant_id: str, currency: str | None, page_size: int, page_token: str
    ) -> Page[RateCard]:
        """The latest revision of each rate card, optionally by currency."""
        return paged(
            lambda size: self._store.list_rate_cards(
                tenant_id, currency_code=currency or None, page_size=size, page_token=page_token
            ),
            page_size,
            rate_card_from_row,
        )

    # -- shared ----------------------------------------------------------------------------

    def _save(
        self, caller: Caller, request_id: str | None, digest: str, command_type: str, customer: Customer
    ) -> Customer:
        row = _customer_row(caller.tenant_id, customer)
        self._write(
            caller,
            request_id,
            digest,
            command_type,
            customer.customer_id,
            customer.update_time,
            WriteBatch(customers=[row]),
        )
        return customer

    def _customer_row(self, tenant_id: str, customer_id: str) -> CustomerRow:
        row = self._store.get_customer(tenant_id, customer_id)
        if row is None:
            raise NotFoundError("customer", customer_id)
        return row

    def _replay(self, caller: Caller, request_id: str | None, digest: str) -> dict[str, Any] | None:
        return stored_response(self._store, caller, request_id, digest)

    def _write(
        self,
        caller: Caller,
        request_id: str | None,
        digest: str,
        command_type: str,
        stream_id: str,
        now: datetime,
        batch: WriteBatch,
        response: dict[str, Any] | None = None,
    ) -> None:
        record_accepted(
            batch,
            caller,
            request_id=request_id,
            digest=digest,
            command_type=command_type,
            stream_id=stream_id,
            now=now,
            response=response or {"customer_id": stream_id},
        )
        try:
            self._store.commit(batch)
        except DuplicateRequestId:
            raise ConflictError(
                "CONCURRENT_MODIFICATION", "a concurrent request used this request_id; retry"
            ) from None
        except ConcurrencyConflict:
            raise ConflictError(
                "CONCURRENT_MODIFICATION", f"{stream_id} was changed concurrently; retry", {"id": stream_id}
            ) from None
        except StoreUnavailable:
            raise UnavailableError("STORE_UNAVAILABLE", "the store is unavailable; retry") from None


def _customer_row(tenant_id: str, customer: Customer) -> CustomerRow:
    return CustomerRow(
        tenant_id=tenant_id,
        customer_id=customer.customer_id,
        display_name=customer.display_name,
        status=customer.status.value,
        version=customer.version,
        data=customer.model_dump(mode="json"),
        create_time=customer.create_time,
        update_time=customer.update_time,
    )
