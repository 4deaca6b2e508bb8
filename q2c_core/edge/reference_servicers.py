"""CustomerService and RateCardService: reference data through the runtime's catalog."""

from __future__ import annotations

from typing import TYPE_CHECKING

from q2c.v1 import customer_pb2, customer_pb2_grpc, rate_card_pb2, rate_card_pb2_grpc
from q2c_core.app.catalog import Catalog
from q2c_core.domain.errors import ValidationError
from q2c_core.domain.money import UnknownCurrencyError, check_currency
from q2c_core.edge.context import current_caller
from q2c_core.edge.converters import convert
from q2c_core.edge.servicers import Context, blocking, getter, lister

if TYPE_CHECKING:
    from q2c_core.app.runtime import Runtime


class CustomerServicer(customer_pb2_grpc.CustomerServiceServicer):
    """q2c.v1.CustomerService over the runtime's catalog."""

    def __init__(self, runtime: Runtime) -> None:
        self.catalog = self.reads = runtime.catalog

    async def CreateCustomer(
        self, request: customer_pb2.CreateCustomerRequest, context: Context
    ) -> customer_pb2.Customer:
        """Create a customer."""
        spec = convert.customer_spec(request)
        customer = await blocking(
            self.catalog.create_customer, current_caller(), request.request_id or None, spec
        )
        return convert.customer_out(customer)

    GetCustomer = getter("One customer.", Catalog.get_customer, "customer_id", convert.customer_out)
    ListCustomers = lister(
        "A page of customers.",
        Catalog.list_customers,
        customer_pb2.ListCustomersResponse,
        convert.customer_out,
        lambda request: (convert.customer_status_filter(request.status),),
    )

    async def UpdateCustomer(
        self, request: customer_pb2.UpdateCustomerRequest, context: Context
    ) -> customer_pb2.Customer:
        """Change the masked fields, if the etag (when given) still matches."""
        changes = convert.customer_changes(request)
        customer = await blocking(
            self.catalog.update_customer,
            current_caller(),
            request.request_id or None,
            request.customer.customer_id,
            changes,
            request.etag,
        )
        return convert.customer_out(customer)


def _currency_filter(code: str) -> str | None:
    if not code:
        return None
    try:
        return check_currency(code)
    except UnknownCurrencyError as error:
        raise ValidationError.one("currency_code", str(error)) from None


class RateCardServicer(rate_card_pb2_grpc.RateCardServiceServicer):
    """q2c.v1.RateCardService over the runtime's catalog."""

    def __init__(self, runtime: Runtime) -> None:
        self.catalog = self.reads = runtime.catalog

    async def CreateRateCard(
        self, request: rate_card_pb2.CreateRateCardRequest, context: Context
    ) -> rate_card_pb2.RateCard:
        """Create a rate card, or the next revision of an existing one."""
        spec = convert.rate_card_spec(request)
        card = await blocking(
            self.catalog.create_rate_card,
            current_caller(),
            request.request_id or None,
            request.rate_card_id or None,
            spec,
        )
        return convert.rate_card_out(card)

    async def GetRateCard(
        self, request: rate_card_pb2.GetRateCardRequest, context: Context
    ) -> rate_card_pb2.RateCard:
        """One revision of a rate card (the latest by default)."""
        card_id = convert.require_id(request.rate_card_id, "rate_card_id")
        if request.revision < 0:
            raise ValidationError.one("revision", "must not be negative")
        card = await blocking(
            self.catalog.get_rate_card, current_caller().tenant_id, card_id, request.revision or None
        )
        return convert.rate_card_out(card)

    ListRateCards = lister(
        "A page of rate cards (latest revision of each).",
        Catalog.list_rate_cards,
        rate_card_pb2.ListRateCardsResponse,
        convert.rate_card_out,
        lambda request: (_currency_filter(request.currency_code),),
    )
