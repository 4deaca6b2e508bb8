"""Customers and rate cards: proto <-> domain, validated at the edge with proto field paths."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from q2c.v1 import customer_pb2, rate_card_pb2
from q2c_core.app.catalog import CustomerSpec, RateCardSpec, etag_of
from q2c_core.domain.errors import ValidationError
from q2c_core.domain.limits import TAX_RATE
from q2c_core.domain.reference import ROLE_MAX_LENGTH, Customer, CustomerStatus, RateCard, TaxProfile
from q2c_core.edge.converters.convert_common import (
    Payload,
    Violations,
    build,
    date_in,
    date_out,
    decimal_in,
    enum_in,
    enum_out,
    money_out,
    money_payload,
    require_id,
    timestamp_out,
)

_STATUS = "CUSTOMER_STATUS_"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_PLACEHOLDER: Payload = {
    "customer_id": "-",
    "display_name": "-",
    "billing_currency": "USD",
    "create_time": _EPOCH,
    "update_time": _EPOCH,
}
"""Valid stand-ins for the fields an update does not touch (only masked fields are checked)."""

UPDATABLE = tuple(CustomerSpec.model_fields)
"""The customer fields UpdateCustomer may name in its update_mask."""


def _tax_profile(customer: customer_pb2.Customer, bad: Violations) -> Payload | None:
    if not customer.HasField("tax_profile"):
        return None
    profile = customer.tax_profile
    rate = decimal_in(profile.rate or "0", TAX_RATE, "customer.tax_profile.rate", bad)
    return {"jurisdiction": profile.jurisdiction, "rate": rate, "exempt": profile.exempt}


def _customer_payload(customer: customer_pb2.Customer, bad: Violations) -> Payload:
    status = enum_in(customer_pb2.CustomerStatus, _STATUS, customer.status, CustomerStatus, "customer.status")
    return {
        "display_name": customer.display_name,
        "legal_entity": customer.legal_entity,
        "billing_currency": customer.billing_currency,
        "tax_profile": _tax_profile(customer, bad),
        "payment_terms_days": customer.payment_terms_days,
        "po_required": customer.po_required,
        "service_line": customer.service_line,
        "status": status or CustomerStatus.ACTIVE,
    }


def customer_spec(request: customer_pb2.CreateCustomerRequest) -> CustomerSpec:
    """CreateCustomerRequest -> CustomerSpec, checked against every Customer rule."""
    bad = Violations()
    payload = _customer_payload(request.customer, bad)
    build(Customer, {**_PLACEHOLDER, **payload}, prefix="customer", bad=bad)
    return CustomerSpec.model_validate(payload)


def _mask(paths: list[str]) -> list[str]:
    if not paths:
        raise ValidationError.one("update_mask", "must name at least one field")
    unknown = [p for p in paths if p not in UPDATABLE]
    if unknown:
        raise ValidationError.one(
            "update_mask", f"cannot update {', '.join(unknown)}; updatable: {', '.join(UPDATABLE)}"
        )
    return list(dict.fromkeys(paths))


def customer_changes(request: customer_pb2.UpdateCustomerRequest) -> dict[str, Any]:
    """The masked fields of UpdateCustomerRequest.customer, each checked as a Customer field."""
    bad = Violations()
    require_id(request.customer.customer_id, "customer.customer_id", bad)
    bad.raise_if_any()
    paths = _mask(list(request.update_mask.paths))
    masked = Violations()
    payload = _customer_payload(request.customer, masked)
    if "status" in paths and request.customer.status == 0:
        raise ValidationError.one("customer.status", "is required when status is in update_mask")
    if "tax_profile" in paths:  # an unmasked field's value is ignored, so only a masked one fails
        bad.items.extend(masked.items)
    merged = build(Customer, {**_PLACEHOLDER, **{p: payload[p] for p in paths}}, prefix="customer", bad=bad)
    return {path: getattr(merged, path) for path in paths}


def customer_out(customer: Customer) -> customer_pb2.Customer:
    """Domain customer -> proto, with its etag."""
    profile = customer.tax_profile
    return customer_pb2.Customer(
        customer_id=customer.customer_id,
        display_name=customer.display_name,
        legal_entity=customer.legal_entity,
        billing_currency=customer.billing_currency,
        tax_profile=_tax_profile_out(profile) if profile else None,
        payment_terms_days=customer.payment_terms_days,
        po_required=customer.po_required,
        service_line=customer.service_line,
        status=enum_out(customer_pb2.CustomerStatus, _STATUS, customer.status),
        create_time=timestamp_out(customer.create_time),
        update_time=timestamp_out(customer.update_time),
        etag=etag_of(customer),
    )


def _tax_profile_out(profile: TaxProfile) -> customer_pb2.TaxProfile:
    return customer_pb2.TaxProfile(
        jurisdiction=profile.jurisdiction, rate=str(profile.rate), exempt=profile.exempt
    )


def customer_status_filter(number: int) -> CustomerStatus | None:
    """ListCustomersRequest.status -> a filter (UNSPECIFIED: any)."""
    return enum_in(customer_pb2.CustomerStatus, _STATUS, number, CustomerStatus, "status")


def _rates(card: rate_card_pb2.RateCard, bad: Violations) -> tuple[dict[str, Any], dict[str, int]]:
    """RoleRate list -> {role: money payload}, checking what a dict key cannot report."""
    rates: dict[str, Any] = {}
    index: dict[str, int] = {}
    for i, rate in enumerate(card.rates):
        path = f"rate_card.rates[{i}]"
        if not rate.role or len(rate.role) > ROLE_MAX_LENGTH:
            bad.add(f"{path}.role", f"must be 1..{ROLE_MAX_LENGTH} characters")
        elif rate.role in rates:
            bad.add(f"{path}.role", f"duplicate role {rate.role!r}")
        money = money_payload(rate, "hourly_rate", f"{path}.hourly_rate", bad)
        if money is not None and money["currency"] != card.currency_code:
            bad.add(
                f"{path}.hourly_rate.currency_code", f"must be the rate card currency {card.currency_code}"
            )
        if money is not None and money["amount"] is not None and money["amount"] <= 0:
            bad.add(f"{path}.hourly_rate.amount", "must be a positive decimal")
        rates[rate.role] = money
        index.setdefault(rate.role, i)
    if not card.rates:
        bad.add("rate_card.rates", "must have at least one role rate")
    return rates, index


def rate_card_spec(request: rate_card_pb2.CreateRateCardRequest) -> RateCardSpec:
    """CreateRateCardRequest -> RateCardSpec, checked against every RateCard rule."""
    bad = Violations()
    card = request.rate_card
    rates, index = _rates(card, bad)
    payload: Payload = {
        "display_name": card.display_name,
        "currency": card.currency_code,
        "effective_from": date_in(card, "effective_from", "rate_card.effective_from", bad),
        "effective_to": date_in(card, "effective_to", "rate_card.effective_to", bad),
        "rates": rates,
    }
    start, end = payload["effective_from"], payload["effective_to"]
    if start and end and end < start:
        bad.add("rate_card.effective_to", "must not be before effective_from")

    def role_to_index(loc: tuple[int | str, ...]) -> tuple[int | str, ...]:
        if len(loc) >= 2 and loc[0] == "rates" and isinstance(loc[1], str):
            return ("rates", index.get(loc[1], 0), "hourly_rate", *loc[2:])
        return loc

    placeholders = {"rate_card_id": "-", "revision": 1, "create_time": _EPOCH}
    checked = build(
        RateCard, {**placeholders, **payload}, prefix="rate_card", bad=bad, loc_hook=role_to_index
    )
    return RateCardSpec.model_validate(checked.model_dump(exclude=set(placeholders)))


def rate_card_out(card: RateCard) -> rate_card_pb2.RateCard:
    """Domain rate card revision -> proto (roles in name order)."""
    return rate_card_pb2.RateCard(
        rate_card_id=card.rate_card_id,
        revision=card.revision,
        display_name=card.display_name,
        currency_code=card.currency,
        effective_from=date_out(card.effective_from),
        effective_to=date_out(card.effective_to),
        rates=[
            rate_card_pb2.RoleRate(role=role, hourly_rate=money_out(card.rates[role]))
            for role in sorted(card.rates)
        ],
        create_time=timestamp_out(card.create_time),
    )
